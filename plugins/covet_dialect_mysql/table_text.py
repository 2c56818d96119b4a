"""What ``SHOW CREATE TABLE`` says of a table after its column list: its table options and
storage engine, and its partitioning, kept in ``Table.options`` so a copy writes them.

information_schema cannot stand in: ``CREATE_OPTIONS`` lists options the server implies
(Aria's ``transactional=1``) among those written, and nowhere gives the ``PARTITION BY``
clause. So each table the reader named for either (few: most tables are plain InnoDB) is
shown once. The options line is read with sqlglot's MySQL tokenizer, never by splitting the
text: a ``COMMENT='...'`` may hold anything.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from covet_core.errors import DatabaseError
from covet_core.schema.model import IgnoredObject, Schema, Table
from covet_dialect_mysql import quote

PARTITIONING = "partitioning (PARTITION BY)"
TABLE_OPTIONS = "table options"
# Written from the model, or a counter: never carried as an option.
_MODELLED = {"ENGINE", "DEFAULT CHARSET", "CHARSET", "DEFAULT CHARACTER SET", "CHARACTER SET",
             "COLLATE", "DEFAULT COLLATE", "COMMENT", "AUTO_INCREMENT"}  # fmt: skip


def _options(line: str) -> tuple[list[str], list[str]] | None:
    """(options a copy writes, as ``NAME=value``: a storage engine other than InnoDB and every
    plain option; those it cannot, as shown) from the text after the closing ``)``, or None
    when it is not a list of ``name=value``."""
    from sqlglot import Dialect
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = Dialect.get_or_raise("mysql").tokenizer().tokenize(line)
    except TokenError:
        return None
    written: list[str] = []
    unwritten: list[str] = []
    name: list[Any] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.token_type != TokenType.EQ:
            name.append(token)
            i += 1
            continue
        if not name or i + 1 >= len(tokens):
            return None
        value = tokens[i + 1]
        key = " ".join(t.text.upper() for t in name)
        plain = all(t.token_type != TokenType.IDENTIFIER for t in name) and value.token_type in (
            TokenType.VAR, TokenType.NUMBER
        ) and value.text.replace("_", "").isalnum()  # fmt: skip
        if key == "ENGINE":
            if value.text.lower() != "innodb":
                (written if plain else unwritten).append(f"ENGINE={value.text}")
        elif key not in _MODELLED:
            shown = f"{key}={value.text}"
            if plain and len(name) == 1:
                written.append(shown)
            else:
                unwritten.append(shown)
        name = []
        i += 2
    return (written, unwritten) if not name else None


async def with_table_text(adapter: Any, schema: Schema) -> Schema:
    """Each table of the current database the reader named for its partitioning or its table
    options, with them in ``Table.options`` (written by the renderer, not compared: models do
    not say them); what cannot be written stays named."""
    kinds = (PARTITIONING, TABLE_OPTIONS)
    named = {(o.kind, o.name) for o in schema.ignored if o.kind in kinds and o.schema is None}
    if not named:
        return schema
    tables = dict(schema.tables)
    carried: set[tuple[str, str]] = set()
    left: list[IgnoredObject] = []
    for key, table in schema.tables.items():
        wanted = {k for k in kinds if (k, table.name) in named}
        if table.schema is not None or not wanted:
            continue
        try:
            shown = await adapter.fetch_one(f"SHOW CREATE TABLE {quote(table.name)}")
        except DatabaseError:
            continue  # stays named
        found = _read(str((shown or {}).get("Create Table") or ""), table, wanted)
        if found is None:
            continue
        tables[key], done, unwritten = found
        carried |= {(k, table.name) for k in done}
        if unwritten:
            left.append(IgnoredObject(f"{TABLE_OPTIONS} ({' '.join(unwritten)})", table.name))
    ignored = [o for o in schema.ignored if (o.kind, o.name) not in carried or o.schema]
    return replace(schema, tables=tables, ignored=ignored + left)


def _read(text: str, table: Table, wanted: set[str]) -> tuple[Table, set[str], list[str]] | None:
    """(the table with its options, the kinds carried, the options that stay named). The
    options follow the line that closes the column list; the partitioning is every line
    after it (MySQL wraps it in a ``/*!50100 ... */`` comment)."""
    lines = text.splitlines()
    closing = next((i for i, line in enumerate(lines) if line.startswith(")")), None)
    if closing is None:
        return None
    options: list[str] = []
    done: set[str] = set()
    unwritten: list[str] = []
    if TABLE_OPTIONS in wanted:
        parsed = _options(lines[closing][1:])
        if parsed is not None:
            options, unwritten = parsed
            done.add(TABLE_OPTIONS)
    if PARTITIONING in wanted:
        clause = " ".join(line.strip() for line in lines[closing + 1 :])
        clause = clause.removeprefix("/*!50100").removesuffix("*/").strip()
        if clause.upper().startswith("PARTITION BY"):
            options.append(clause)
            done.add(PARTITIONING)
    return replace(table, options=(*table.options, *options)), done, unwritten
