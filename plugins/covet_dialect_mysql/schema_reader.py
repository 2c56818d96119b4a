"""The live schema of a MySQL / MariaDB database, from information_schema in bulk.

One read is a fixed handful of queries (server info, tables, columns, index keys, foreign
keys, checks, triggers, routines), each over the whole schema and never per table, so
1,000 tables cost about what 10 do. On MariaDB information_schema is fastest asked with a
plain ``TABLE_SCHEMA = ...`` and no joins between its views: rows are joined here instead.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

from covet_core.errors import DatabaseError
from covet_core.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    ForeignKey,
    IgnoredObject,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_core.schema.prefetch import Prefetch
from covet_core.schema.render import sql_string
from covet_dialect_mysql import quote
from covet_dialect_mysql.carried import carried_objects
from covet_dialect_mysql.expression import STRING_LITERAL, decode_string
from covet_dialect_mysql.normalise import is_implicit_fk_index
from covet_dialect_mysql.table_text import PARTITIONING, TABLE_OPTIONS, with_table_text

_TYPE = re.compile(
    r"^([a-z][a-z0-9 ]*?)\s*(?:\((.*)\))?((?:\s+(?:unsigned|signed|zerofill))*)$", re.S | re.I
)
_LABEL = re.compile(r"'((?:[^'\\]|''|\\.)*)'", re.S)
_NAMES = {
    "int": "integer", "integer": "integer", "smallint": "smallint", "bigint": "bigint",
    "mediumint": "mediumint", "tinyint": "tinyint", "varchar": "string", "char": "char",
    "decimal": "decimal", "numeric": "decimal", "double": "float", "double precision": "float",
    "float": "real", "datetime": "timestamp", "timestamp": "mysql_timestamp", "longblob": "binary",
    "binary": "binary", "bool": "boolean", "boolean": "boolean",
}  # fmt: skip
_GENERATED = re.compile(r"\b(?:VIRTUAL|STORED|PERSISTENT)\s+GENERATED\b", re.I)
_CURRENT_TIMESTAMP = re.compile(r"^current_timestamp\(\)$", re.I)
_ON_UPDATE = re.compile(r"\bon update (current_timestamp(?:\(\d*\))?)", re.I)


@functools.lru_cache(maxsize=4096)  # a schema repeats a few dozen types over its columns
def parse_type(column_type: str) -> ColumnType:
    """information_schema's ``COLUMN_TYPE`` (``bigint(20) unsigned``, ``enum('a','b')``) as a
    portable ``ColumnType``."""
    # Only the type's words are case-insensitive: ENUM / SET labels are data, kept exactly.
    match = _TYPE.match(column_type.strip())
    if match is None:
        return ColumnType(column_type.strip().lower())
    raw, args, flags = match.group(1).strip().lower(), match.group(2), match.group(3).lower()
    unsigned = "unsigned" in flags
    if raw in ("enum", "set"):
        values = tuple(decode_string(f"'{m}'") for m in _LABEL.findall(args or ""))
        return ColumnType(raw, values=values)
    numbers = [int(a) for a in (args or "").split(",") if a.strip().isdigit()]
    name = _NAMES.get(raw, raw)
    if raw == "tinyint" and numbers == [1] and not unsigned:
        return ColumnType("boolean")  # BOOLEAN is stored as TINYINT(1)
    if name in ("integer", "smallint", "bigint", "mediumint", "tinyint"):
        return ColumnType(name, unsigned=unsigned)  # the display width means nothing
    if name in ("timestamp", "mysql_timestamp"):
        return ColumnType(name, precision=numbers[0] if numbers else 0)
    if name == "time":
        return ColumnType(name, precision=numbers[0] if numbers and numbers[0] else None)
    if name in ("decimal", "float", "real") and numbers:
        scale = numbers[1] if len(numbers) > 1 else 0
        return ColumnType(name, precision=numbers[0], scale=scale, unsigned=unsigned)
    if len(numbers) == 1:
        return ColumnType(name, length=numbers[0], unsigned=unsigned)
    if len(numbers) == 2:
        return ColumnType(name, precision=numbers[0], scale=numbers[1], unsigned=unsigned)
    return ColumnType(name, unsigned=unsigned)


def strip_outer_parentheses(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, char in enumerate(text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and i < len(text) - 1:
                return text  # "(a) and (b)": the first parenthesis closes early
        text = text[1:-1].strip()
    return text


class MySQLSchemaReader:
    """``await MySQLSchemaReader(adapter).read()``: the current database's schema."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def read(self, schemas: Sequence[str] | None = None) -> Schema:
        # utf8mb4's default collation is what a table covet creates gets: not worth a mention.
        server = await self.adapter.fetch_one(
            "SELECT DATABASE() AS db, VERSION() AS version, (SELECT DEFAULT_COLLATE_NAME "
            "FROM information_schema.CHARACTER_SETS WHERE CHARACTER_SET_NAME = 'utf8mb4') "
            "AS utf8mb4"
        )
        current = server["db"] if server else None
        mariadb = "mariadb" in str(server["version"] if server else "").lower()
        if schemas:
            where = "IN (" + ", ".join(["%s"] * len(schemas)) + ")"
            params: tuple[Any, ...] = tuple(schemas)
        elif current is not None:
            where, params = "= DATABASE()", ()
        else:
            return Schema(dialect="mysql")
        rows = _Rows(current, mariadb)
        rows.default_collation = server["utf8mb4"] if server else None
        # MariaDB packs the columns and keys per table (MySQL 8's JSON_ARRAY writes binary
        # strings as base64, and no MySQL 8 server tests it here).
        queries = self._queries(where, params, mariadb, packed=mariadb)
        async with contextlib.AsyncExitStack() as stack:
            if mariadb:
                await stack.enter_async_context(_long_group_concat(self.adapter))
            # Each query is sent before the rows of the one before are mapped (the columns
            # while the server reads the index keys, ...): the server and Python work at once.
            fetched = await stack.enter_async_context(
                Prefetch(self.adapter.fetch_all, [(q, p) for _, q, p, _ in queries])
            )
            for key, _, _, fields in queries:
                data = await fetched.next()
                rows.arrived(key, _unpacked(data, fields) if fields else data)
        schema = await with_table_text(self.adapter, rows.schema())
        schema.carried = await carried_objects(self.adapter, schema.ignored)
        return schema

    @staticmethod
    def _queries(
        where: str, params: tuple[Any, ...], mariadb: bool, packed: bool
    ) -> list[tuple[str, str, Any, tuple[str, ...] | None]]:
        """(key, SQL, parameters, packed field names) in the order ``_Rows.arrived`` maps
        them; with ``packed``, the columns and index keys come as one JSON text per table
        (``_per_table``)."""
        out: dict[str, tuple[str, Any]] = {}
        packed_fields: dict[str, tuple[str, ...] | None] = {}
        out["tables"] = (
            "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_TYPE AS kind, TABLE_COMMENT AS note, "
            "ENGINE AS engine, CREATE_OPTIONS AS options, TABLE_COLLATION AS coll "
            f"FROM information_schema.TABLES WHERE TABLE_SCHEMA {where}",
            params,
        )
        columns = (
            ("TABLE_SCHEMA", "s"), ("TABLE_NAME", "t"), ("COLUMN_NAME", "name"),
            ("COLUMN_TYPE", "type"), ("IS_NULLABLE", "nullable"), ("COLUMN_DEFAULT", "dflt"),
            ("EXTRA", "extra"), ("COLUMN_COMMENT", "note"), ("COLLATION_NAME", "coll"),
            ("GENERATION_EXPRESSION", "gen"),
        )  # fmt: skip
        sql, packed_fields["columns"] = _per_table(
            columns, f"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA {where}",
            "ORDINAL_POSITION", packed,
        )  # fmt: skip
        out["columns"] = (sql, params)
        # MySQL 8 names a functional key part in EXPRESSION; MariaDB has no such column.
        expression = "NULL" if mariadb else "EXPRESSION"
        keys = (
            ("TABLE_SCHEMA", "s"), ("TABLE_NAME", "t"), ("INDEX_NAME", "name"),
            ("NON_UNIQUE", "nu"), ("COLUMN_NAME", "col"), ("SUB_PART", "sub"),
            ("COLLATION", "coll"), ("INDEX_TYPE", "kind"), ("INDEX_COMMENT", "note"),
            (expression, "expr"),
        )  # fmt: skip
        sql, packed_fields["keys"] = _per_table(
            keys, f"FROM information_schema.STATISTICS WHERE TABLE_SCHEMA {where}",
            "INDEX_NAME, SEQ_IN_INDEX", packed,
        )  # fmt: skip
        out["keys"] = (sql, params)
        out["fk_columns"] = (
            "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, CONSTRAINT_NAME AS name, "
            "COLUMN_NAME AS col, REFERENCED_TABLE_SCHEMA AS rs, REFERENCED_TABLE_NAME AS rt, "
            "REFERENCED_COLUMN_NAME AS rc FROM information_schema.KEY_COLUMN_USAGE "
            f"WHERE TABLE_SCHEMA {where} AND REFERENCED_TABLE_NAME IS NOT NULL "
            "ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
            params,
        )
        out["fk_rules"] = (
            "SELECT CONSTRAINT_SCHEMA AS s, TABLE_NAME AS t, CONSTRAINT_NAME AS name, "
            "UPDATE_RULE AS upd, DELETE_RULE AS del FROM information_schema.REFERENTIAL_CONSTRAINTS "
            f"WHERE CONSTRAINT_SCHEMA {where}",
            params,
        )
        if mariadb:
            checks = (
                "SELECT CONSTRAINT_SCHEMA AS s, TABLE_NAME AS t, CONSTRAINT_NAME AS name, "
                "LEVEL AS level, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS "
                f"WHERE CONSTRAINT_SCHEMA {where}"
            )
        else:  # MySQL 8's CHECK_CONSTRAINTS has no table: TABLE_CONSTRAINTS has it
            checks = (
                "SELECT tc.TABLE_SCHEMA AS s, tc.TABLE_NAME AS t, cc.CONSTRAINT_NAME AS name, "
                "'Table' AS level, cc.CHECK_CLAUSE AS clause "
                "FROM information_schema.TABLE_CONSTRAINTS tc "
                "JOIN information_schema.CHECK_CONSTRAINTS cc "
                "ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA "
                "AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME "
                f"WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND tc.TABLE_SCHEMA {where}"
            )
        out["checks"] = (checks, params)
        out["triggers"] = (
            "SELECT TRIGGER_SCHEMA AS s, TRIGGER_NAME AS name FROM information_schema.TRIGGERS "
            f"WHERE TRIGGER_SCHEMA {where}",
            params,
        )
        out["routines"] = (
            "SELECT ROUTINE_SCHEMA AS s, ROUTINE_NAME AS name, ROUTINE_TYPE AS kind "
            f"FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA {where} UNION ALL "
            "SELECT EVENT_SCHEMA, EVENT_NAME, 'EVENT' FROM information_schema.EVENTS "
            f"WHERE EVENT_SCHEMA {where}",
            params + params,
        )
        order = ("tables", "checks", "columns", "keys", "fk_columns", "fk_rules", "triggers",
                 "routines")  # fmt: skip
        return [(key, *out[key], packed_fields.get(key)) for key in order]


class _Rows:
    """Rows of the bulk queries, mapped as each query's arrive, then assembled into tables."""

    def __init__(self, current: str | None, mariadb: bool) -> None:
        self.rows: dict[str, Any] = {}
        self.current, self.mariadb = current, mariadb
        # The same column on many tables (id, created_at, ...) is made once per read.
        self.columns_seen: dict[tuple[Any, ...], Column] = {}
        self.ignored: list[IgnoredObject] = []
        self.default_collation: str | None = None
        # Per table, in the order of its row: what is mapped so far, and what it leaves out.
        self.parts: dict[tuple[str, str], dict[str, Any]] = {}

    def schema_of(self, name: str | None) -> str | None:
        return None if name == self.current else name

    def group(self, key: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.rows[key]:
            grouped[(row["s"], row["t"])].append(row)
        return grouped

    def arrived(self, key: str, rows: list[dict[str, Any]]) -> None:
        """Keep one query's rows and map what they complete: the tables' columns (with the
        tables and checks before them), their keys, then their foreign keys."""
        self.rows[key] = rows
        if key == "tables":
            for row in rows:
                ident, schema = (row["s"], row["t"]), self.schema_of(row["s"])
                kind = str(row["kind"]).upper()
                if kind in ("VIEW", "SEQUENCE"):
                    self.parts[ident] = {"ignored": [IgnoredObject(kind.lower(), row["t"], schema)]}
                else:
                    ignored = _table_attributes(row, schema)
                    self.parts[ident] = {"row": row, "schema": schema, "ignored": ignored}
        elif key == "columns":
            checks = self.group("checks")
            for ident, column_rows in self.group("columns").items():
                part = self.parts.get(ident)
                if part is not None and "row" in part:
                    self.columns(part, column_rows, checks.get(ident, []))
        elif key == "keys":
            for ident, key_rows in self.group("keys").items():
                part = self.parts.get(ident)
                if part is not None and "row" in part:
                    found = self.indexes(part["row"]["t"], part["schema"], key_rows,
                                         part["row"]["engine"])  # fmt: skip
                    part["primary"], part["uniques"], part["indexes"], lost = found
                    part["ignored"] += lost
        elif key == "fk_rules":
            fks = self.group("fk_columns")
            rules = {(r["s"], r["t"], r["name"]): r for r in rows}
            for ident, part in self.parts.items():
                if "row" in part:
                    part["table"] = self.table(part, self.foreign_keys(fks[ident], rules))

    def columns(
        self, part: dict[str, Any], rows: list[dict[str, Any]], check_rows: list[dict[str, Any]]
    ) -> None:
        # MariaDB's JSON is LONGTEXT plus a column-level json_valid() check named after it.
        json_columns = {
            c["name"]
            for c in check_rows
            if c["level"] == "Column"
            and strip_outer_parentheses(c["clause"]) == f"json_valid({quote(c['name'])})"
        }
        table_collation = part["row"]["coll"]
        part["columns"] = tuple(
            self.same_column(c, c["name"] in json_columns, table_collation) for c in rows
        )
        part["ignored"] += _column_attributes(part["row"]["t"], part["schema"], rows)
        part["checks"] = tuple(
            CheckConstraint(
                c["name"],
                strip_outer_parentheses(c["clause"]),
                column=c["name"] if c["level"] == "Column" else None,
            )
            for c in check_rows
            if c["name"] not in json_columns or c["level"] != "Column"
        )

    def schema(self) -> Schema:
        tables = []
        for part in self.parts.values():
            self.ignored += part["ignored"]
            if "table" in part:
                tables.append(part["table"])
        for row in self.rows["triggers"]:
            self.ignored.append(IgnoredObject("trigger", row["name"], self.schema_of(row["s"])))
        for row in self.rows["routines"]:
            kind = str(row["kind"]).lower()
            self.ignored.append(IgnoredObject(kind, row["name"], self.schema_of(row["s"])))
        return Schema.of(tables, dialect="mysql", ignored=self.ignored)

    def table(self, part: dict[str, Any], foreign_keys: tuple[ForeignKey, ...]) -> Table:
        row = part["row"]
        indexes = [i for i in part.get("indexes", ()) if not is_implicit_fk_index(i, foreign_keys)]
        return Table(
            row["t"],
            part.get("columns", ()),
            primary_key=part.get("primary", ()),
            schema=part["schema"],
            comment=row["note"] or None,
            indexes=tuple(indexes),
            unique_constraints=tuple(part.get("uniques", ())),
            check_constraints=part.get("checks", ()),
            foreign_keys=foreign_keys,
            collation=None if row["coll"] == self.default_collation else row["coll"],
        )

    def same_column(
        self, row: dict[str, Any], is_json: bool, table_collation: str | None
    ) -> Column:
        key = (is_json, table_collation, *(row[f] for f in _COLUMN_FACTS))
        found = self.columns_seen.get(key)
        if found is None:
            found = self.columns_seen[key] = self.column(row, is_json, table_collation)
        return found

    def column(self, row: dict[str, Any], is_json: bool, table_collation: str | None) -> Column:
        extra = str(row["extra"] or "")
        # MariaDB prints a compressed column's type with an executable comment after it
        # (named by _column_attributes): the type is what comes before.
        written = _COMPRESSED.sub("", str(row["type"]))
        column_type = ColumnType("json") if is_json else parse_type(written)
        default = row["dflt"]
        generated = None
        if _GENERATED.search(extra):
            generated = row["gen"]
            default = None
        elif self.mariadb:
            # MariaDB writes defaults as SQL: 'text', 0, current_timestamp(); NULL for none.
            default = None if default is None or default == "NULL" else default
            if default is not None and STRING_LITERAL.fullmatch(default):
                default = sql_string(decode_string(default))  # the schema model's ANSI form
            elif default is not None and self.current:
                # nextval(`db`.`seq`): in a copy the sequence is the copy's own, not this one's.
                default = default.replace(quote(self.current) + ".", "")
        elif default is not None and "DEFAULT_GENERATED" not in extra.upper():
            # MySQL 8 gives a literal's bare value.
            numeric = column_type.name in ("integer", "smallint", "bigint", "decimal", "boolean")
            if not numeric and column_type.name not in ("float", "real", "tinyint"):
                default = sql_string(str(default))
        if default is not None and _CURRENT_TIMESTAMP.match(default):
            default = "CURRENT_TIMESTAMP"
        elif default is not None and default.lower().startswith("current_timestamp"):
            default = default.upper()
        found = _ON_UPDATE.search(extra)
        on_update = found.group(1).upper() if found else None
        if on_update is not None and _CURRENT_TIMESTAMP.match(on_update):
            on_update = "CURRENT_TIMESTAMP"  # as a default's current_timestamp() is read
        # A JSON column's utf8mb4_bin is MariaDB's doing, not a choice the model makes.
        collation = None if is_json or row["coll"] == table_collation else row["coll"]
        return Column(
            row["name"],
            column_type,
            nullable=row["nullable"] == "YES",
            default=default,
            autoincrement="auto_increment" in extra.lower(),
            comment=row["note"] or None,
            on_update=on_update,
            collation=collation,
            generated=generated,
            stored=generated is not None and "VIRTUAL" not in extra.upper(),
        )

    def foreign_keys(
        self, rows: list[dict[str, Any]], rules: dict[tuple[str, str, str], dict[str, Any]]
    ) -> tuple[ForeignKey, ...]:
        by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_name[row["name"]].append(row)
        out = []
        for name, parts in by_name.items():
            first = parts[0]
            rule = rules.get((first["s"], first["t"], name), {})
            out.append(
                ForeignKey(
                    name,
                    tuple(p["col"] for p in parts),
                    first["rt"],
                    tuple(p["rc"] for p in parts),
                    ref_schema=self.schema_of(first["rs"]),
                    on_delete=_action(rule.get("del")),
                    on_update=_action(rule.get("upd")),
                    written_actions=(_stored(rule.get("del")), _stored(rule.get("upd"))),
                )
            )
        return tuple(out)

    def indexes(
        self, table: str, schema: str | None, rows: list[dict[str, Any]], engine: str | None
    ) -> tuple[tuple[str, ...], list[UniqueConstraint], list[Index], list[IgnoredObject]]:
        lost: list[IgnoredObject] = []
        by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_name[row["name"]].append(row)
        primary: tuple[str, ...] = ()
        uniques, indexes = [], []
        # An index of another structure than its engine's default (a BTREE index on a MEMORY
        # table): a copy writes no USING, so the engine would make its default. Named.
        default = "HASH" if str(engine or "").upper() in ("MEMORY", "HEAP") else "BTREE"
        for name, parts in by_name.items():
            columns = tuple(p["col"] for p in parts)
            unique = not int(parts[0]["nu"])
            note = parts[0].get("note") or None
            structure = str(parts[0]["kind"]).upper()
            if structure in ("BTREE", "HASH") and structure != default:
                what = f"{structure} index on a {engine} table"
                lost.append(IgnoredObject(what, f"{table}.{name}", schema))
            if name == "PRIMARY":
                primary = columns
                if note:  # a copy writes the key without it
                    lost.append(IgnoredObject("primary key comment", table, schema))
            elif str(parts[0]["kind"]).upper() in ("FULLTEXT", "SPATIAL"):
                method = str(parts[0]["kind"]).lower()
                indexes.append(Index(name, columns, method=method, comment=note))
            elif str(parts[0]["kind"]).upper() == "VECTOR":
                kind = f"{str(parts[0]['kind']).lower()} index"
                lost.append(IgnoredObject(kind, f"{table}.{name}", schema))
            elif any(p["col"] is None or p["sub"] or p["coll"] == "D" for p in parts):
                # A prefix, a descending or a functional key part: kept as key text.
                expression = ", ".join(_key_part(p) for p in parts)
                indexes.append(Index(name, (), unique=unique, expression=expression, comment=note))
            elif unique:
                uniques.append(UniqueConstraint(name, columns, comment=note))
            else:
                indexes.append(Index(name, columns, comment=note))
        return primary, uniques, indexes, lost


def _per_table(
    fields: Sequence[tuple[str, str]], source: str, order: str, packed: bool
) -> tuple[str, tuple[str, ...] | None]:
    """A query of ``fields`` (SQL, name) from ``source``, ordered by table then ``order``, and
    the names to unpack it by (``None``: not packed). Packed, it returns one row per table
    whose one cell is a JSON array of the rows' values: aiomysql decodes every cell of every
    row in Python, which cost more than the server's answer (8,000 columns of 10 cells:
    54 ms, packed 30 ms), and json.loads is C."""
    if not packed:
        listed = ", ".join(f"{sql} AS {name}" for sql, name in fields)
        return f"SELECT {listed} {source} ORDER BY TABLE_SCHEMA, TABLE_NAME, {order}", None
    values = ", ".join(sql for sql, _ in fields)
    sql = (
        f"SELECT CONCAT('[', GROUP_CONCAT(JSON_ARRAY({values}) ORDER BY {order} SEPARATOR ','),"
        f" ']') AS packed, COUNT(*) AS n {source} GROUP BY TABLE_SCHEMA, TABLE_NAME"
    )
    return sql, tuple(name for _, name in fields)


def _unpacked(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for row in rows:
        try:
            values = json.loads(row["packed"])
        except (TypeError, ValueError):  # NULL or cut short: beyond max_allowed_packet
            values = None
        # Counted apart: a value cut just after one row's array would still be valid JSON.
        if values is None or len(values) != row["n"]:
            raise DatabaseError(
                "a table's catalog rows did not fit in one packed value (raise the server's "
                "max_allowed_packet); nothing was read"
            ) from None
        out += [dict(zip(fields, v, strict=True)) for v in values]
    return out


@contextlib.asynccontextmanager
async def _long_group_concat(adapter: Any) -> AsyncIterator[None]:
    """GROUP_CONCAT up to its greatest length (1 GB; 1 MB by default, 1 KB on MySQL) for the read,
    put back as it was after (``_unpacked`` still counts the rows of each value)."""
    was = await adapter.fetch_value("SELECT @@SESSION.group_concat_max_len")
    await adapter.execute("SET SESSION group_concat_max_len = 1073741824")
    restore = ("SET SESSION group_concat_max_len = %s", (int(was),))
    try:
        yield
    except BaseException:
        # The read's own error is the news, not a failure to put the limit back after it
        # (a lost connection, say).
        with contextlib.suppress(DatabaseError):
            await adapter.execute(*restore)
        raise
    await adapter.execute(*restore)


# All of a column's row that its model depends on (with its table's collation and whether
# MariaDB made it JSON).
_COLUMN_FACTS = ("name", "type", "dflt", "gen", "extra", "nullable", "note", "coll")

# MariaDB's column compression, as information_schema.COLUMNS.COLUMN_TYPE shows it.
_COMPRESSED = re.compile(r"\s*/\*M!\d+ COMPRESSED\*/", re.I)


def _column_attributes(
    table: str, schema: str | None, rows: list[dict[str, Any]]
) -> list[IgnoredObject]:
    """What a column has that a copy would not (the model has no place for it): ZEROFILL,
    MariaDB's INVISIBLE and COMPRESSED columns."""
    found = []
    for row in rows:
        where = f"{table}.{row['name']}"
        if "zerofill" in str(row["type"]).lower():
            found.append(IgnoredObject("ZEROFILL column", where, schema))
        if _COMPRESSED.search(str(row["type"])):
            found.append(IgnoredObject("COMPRESSED column", where, schema))
        if "invisible" in str(row["extra"] or "").lower():
            found.append(IgnoredObject("INVISIBLE column", where, schema))
    return found


def _table_attributes(row: dict[str, Any], schema: str | None) -> list[IgnoredObject]:
    """What a table has beyond the model, named until ``with_table_text`` reads it from
    ``SHOW CREATE TABLE``: its partitioning, and its table options or storage engine
    (information_schema lists options the server implies, such as Aria's transactional=1,
    among those written, so only the statement says which a copy must write)."""
    found = []
    if str(row["kind"]).upper() == "SYSTEM VERSIONED":
        found.append(IgnoredObject("system-versioned table", row["t"], schema))
    options = str(row["options"] or "").split()
    if "partitioned" in options:
        found.append(IgnoredObject(PARTITIONING, row["t"], schema))  # read, if it can be
    engine = str(row["engine"] or "")
    if [o for o in options if o != "partitioned"] or (engine and engine.lower() != "innodb"):
        found.append(IgnoredObject(TABLE_OPTIONS, row["t"], schema))
    return found


def _key_part(row: dict[str, Any]) -> str:
    if row["col"] is None:
        return f"({row['expr']})"
    text = quote(row["col"]) + (f"({row['sub']})" if row["sub"] else "")
    return text + (" DESC" if row["coll"] == "D" else "")


def _stored(rule: str | None) -> str | None:
    # RESTRICT is what the server takes when nothing is written: write nothing for it.
    return None if rule is None or rule.upper() == "RESTRICT" else rule.upper()


def _action(rule: str | None) -> str | None:
    return None if rule is None or rule.upper() == "NO ACTION" else rule.upper()
