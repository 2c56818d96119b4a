"""The live schema of a SQLite database in four queries per schema, whatever its size.

``sqlite_master`` joined with the table-valued pragmas (``pragma_table_xinfo``,
``pragma_index_list`` / ``pragma_index_xinfo``, ``pragma_foreign_key_list``) gives columns, keys
and indexes for every table at once. What no pragma reports (CHECK constraints, constraint
names, AUTOINCREMENT, partial-index predicates, index expressions) is parsed from the stored
CREATE text by :mod:`covet_dialect_sqlite.sqltext`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from covet_core.dialect import quote_ansi
from covet_core.errors import DatabaseError
from covet_core.schema.model import (
    CarriedObject,
    CheckConstraint,
    Column,
    ColumnType,
    ForeignKey,
    IgnoredObject,
    Index,
    Schema,
    Table,
    UniqueConstraint,
    same_key_error,
)
from covet_core.schema.prefetch import Prefetch
from covet_dialect_sqlite.sqltext import (
    ParsedForeignKey,
    ParsedTable,
    parse_create_index,
    parse_create_table,
    plain_keys,
)

TABLE_OPTIONS = ("STRICT", "WITHOUT ROWID")
_OBJECTS = "SELECT type, name, tbl_name, sql FROM {s}.sqlite_master ORDER BY type, name"
_COLUMNS = (
    'SELECT m.name AS tbl, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden'
    " FROM {s}.sqlite_master AS m JOIN pragma_table_xinfo(m.name, ?) AS p"
    " WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%'"
    " ORDER BY m.name, p.cid"
)
_INDEXES = (
    'SELECT m.name AS tbl, il.name AS idx, il."unique", il.origin, il.partial, ii.seqno,'
    ' ii.cid, ii."desc", ii.name AS col FROM {s}.sqlite_master AS m'
    " JOIN pragma_index_list(m.name, ?) AS il"
    " JOIN pragma_index_xinfo(il.name, ?) AS ii"
    " WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%' AND ii.key = 1"
    " ORDER BY m.name, il.name, ii.seqno"
)
_FOREIGN_KEYS = (
    'SELECT m.name AS tbl, f.id, f.seq, f."table" AS ref, f."from" AS col, f."to" AS ref_col,'
    " f.on_update, f.on_delete FROM {s}.sqlite_master AS m"
    " JOIN pragma_foreign_key_list(m.name, ?) AS f"
    " WHERE m.type = 'table' AND m.sql NOT LIKE 'CREATE VIRTUAL%'"
    " ORDER BY m.name, f.id, f.seq"
)

_TYPE = re.compile(r"^\s*([^(]*?)\s*(?:\(\s*([^)]*?)\s*\))?\s*$")
_SIMPLE = {
    "INT": "integer", "INTEGER": "integer", "MEDIUMINT": "integer", "INT4": "integer",
    "SMALLINT": "smallint", "INT2": "smallint", "BIGINT": "bigint", "INT8": "bigint",
    "TEXT": "text", "CLOB": "text", "BLOB": "binary", "BINARY": "binary", "VARBINARY": "binary",
    "REAL": "real", "FLOAT4": "real", "DOUBLE": "float", "DOUBLE PRECISION": "float",
    "FLOAT": "float", "FLOAT8": "float", "NUMERIC": "decimal", "DECIMAL": "decimal",
    "BOOLEAN": "boolean", "BOOL": "boolean", "DATE": "date", "TIME": "time",
    "DATETIME": "timestamp", "TIMESTAMP": "timestamp", "TIMESTAMP WITHOUT TIME ZONE": "timestamp",
    "TIMESTAMPTZ": "timestamptz", "TIMESTAMP WITH TIME ZONE": "timestamptz", "JSON": "json",
    "JSONB": "jsonb", "UUID": "uuid",
    "VARCHAR": "string", "NVARCHAR": "string", "VARCHAR2": "string", "NVARCHAR2": "string",
    "CHARACTER VARYING": "string", "VARYING CHARACTER": "string",
    "NATIONAL VARYING CHARACTER": "string", "NATIONAL CHARACTER VARYING": "string",
    "CHAR": "char", "CHARACTER": "char", "NCHAR": "char", "NATIVE CHARACTER": "char",
    "NATIONAL CHARACTER": "char", "NATIONAL CHAR": "char",
}  # fmt: skip


def portable_type(declared: str) -> ColumnType:
    """``VARCHAR(255)`` -> string(255), ``NUMERIC(10,2)`` -> decimal(10,2), ``DATETIME`` ->
    timestamp; a type SQLite users spell some other way keeps its spelling, lower-cased."""
    match = _TYPE.match(declared)
    if match is None:
        return ColumnType(" ".join(declared.lower().split()))
    words = match.group(1).upper().split()
    unsigned = bool(words) and words[-1] == "UNSIGNED"
    if unsigned:
        words = words[:-1]
    base = " ".join(words)
    args = [int(a) for a in re.findall(r"[+-]?\d+", match.group(2) or "")]
    name = _SIMPLE.get(base)
    if name is None:
        length, precision, scale = [*args[:3], None, None, None][:3]
        return ColumnType(base.lower(), length, precision, scale)
    if name in ("string", "char", "binary"):
        return ColumnType(name, length=args[0] if args else None)
    if name == "decimal":
        return ColumnType(
            name,
            precision=args[0] if args else None,
            scale=args[1] if len(args) > 1 else (0 if args else None),
            unsigned=unsigned,
        )
    if name in ("timestamp", "timestamptz", "time"):
        return ColumnType(name, precision=args[0] if args else None)
    return ColumnType(name, unsigned=unsigned)


@lru_cache(maxsize=1024)
def declared_type(declared: str) -> ColumnType:
    """The portable type that keeps its declared spelling (schemas repeat a few types)."""
    return replace(portable_type(declared), declared=declared)


class SQLiteSchemaReader:
    """``await SQLiteSchemaReader(adapter).read()``: tables of ``main`` (or of the attached
    databases named in ``schemas``), their columns, keys, indexes and constraints."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def read(self, schemas: Sequence[str] | None = None) -> Schema:
        self.columns_seen = {}
        schema = Schema(dialect="sqlite")
        for name in schemas or ["main"]:
            await self._read_one(schema, name)
        return schema

    async def _read_one(self, schema: Schema, name: str) -> None:
        s = quote_ansi(name)
        label = None if name == "main" else name
        objects = await self.adapter.fetch_all(_OBJECTS.format(s=s))
        queries = [
            (_COLUMNS.format(s=s), (name,)),
            (_INDEXES.format(s=s), (name, name)),
            (_FOREIGN_KEYS.format(s=s), (name,)),
        ]
        async with Prefetch(self.adapter.fetch_all, queries) as fetched:
            # The tables' own texts are parsed while the driver's thread runs the pragmas.
            parsed = {
                o["name"]: parse_create_table(o["sql"])
                for o in objects
                if o["type"] == "table" and o["sql"] and not o["sql"].upper().startswith("CREATE V")
            }
            columns = await fetched.next()
            indexes = await fetched.next()
            fks = await fetched.next()

        by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in columns:
            by_table[row["tbl"]].append(row)
        index_rows: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
        for row in indexes:
            index_rows[row["tbl"]].setdefault(row["idx"], []).append(row)
        fk_rows: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(dict)
        for row in fks:
            fk_rows[row["tbl"]].setdefault(row["id"], []).append(row)

        sql_of = {(o["type"], o["name"]): o["sql"] for o in objects}
        virtual = [
            o["name"]
            for o in objects
            if o["type"] == "table" and (o["sql"] or "").upper().startswith("CREATE VIRTUAL")
        ]
        shadows = await self._shadow_tables(name, virtual, objects)
        pk_of: dict[str, tuple[str, ...]] = {}
        for table_name, rows in by_table.items():
            pk_of[table_name.lower()] = tuple(
                r["name"] for r in sorted((r for r in rows if r["pk"]), key=lambda r: r["pk"])
            )
        for obj in objects:
            kind, obj_name = obj["type"], obj["name"]
            if kind == "table" and obj_name in by_table and not obj_name.startswith("sqlite_"):
                if obj_name in shadows:
                    # Made by its virtual table's module: in main, with the carried table.
                    if label is not None:
                        schema.ignored.append(
                            IgnoredObject("virtual table storage", obj_name, label)
                        )
                    continue
                table = self._table(
                    obj_name,
                    label,
                    obj["sql"] or "",
                    parsed.get(obj_name),
                    by_table[obj_name],
                    index_rows.get(obj_name, {}),
                    fk_rows.get(obj_name, {}),
                    sql_of,
                    pk_of,
                    schema,
                )
                if table.key in schema.tables:  # "a.b" in main, b in an attached a
                    raise same_key_error(schema.tables[table.key], table)
                schema.tables[table.key] = table
            elif kind == "table" and obj_name in virtual:
                schema.ignored.append(IgnoredObject("virtual table", obj_name, label))
                if label is None and obj["sql"]:
                    schema.carried.append(carried("virtual table", obj_name, obj["sql"]))
            elif kind in ("view", "trigger"):
                schema.ignored.append(IgnoredObject(kind, obj_name, label))
                if label is None and obj["sql"]:
                    schema.carried.append(carried(kind, obj_name, obj["sql"]))

    async def _shadow_tables(
        self, name: str, virtual: list[str], objects: list[dict[str, Any]]
    ) -> set[str]:
        """The tables a virtual table's module keeps its data in (FTS5's ``docs_data``,
        ...), as ``pragma_table_list`` marks them (SQLite 3.37); before it, the tables named
        after a virtual table with an underscore."""
        try:
            rows = await self.adapter.fetch_all(
                "SELECT name FROM pragma_table_list WHERE schema = ? AND type = 'shadow'", (name,)
            )
            return {r["name"] for r in rows}
        except DatabaseError:
            return {
                o["name"]
                for o in objects
                if o["type"] == "table" and any(o["name"].startswith(v + "_") for v in virtual)
            }

    columns_seen: dict[tuple[Any, ...], Column]

    def _table(
        self,
        name: str,
        label: str | None,
        sql: str,
        parsed: ParsedTable | None,
        rows: list[dict[str, Any]],
        indexes: dict[str, list[dict[str, Any]]],
        fks: dict[int, list[dict[str, Any]]],
        sql_of: dict[tuple[str, str], str | None],
        pk_of: dict[str, tuple[str, ...]],
        schema: Schema,
    ) -> Table:
        parsed = parsed or parse_create_table(sql)
        unknown = [o for o in parsed.options if o not in TABLE_OPTIONS]
        for option in unknown:  # a later SQLite's option: a copy could not say it, so say so
            schema.ignored.append(IgnoredObject(f"{option} table", name, label))
        for what, column in parsed.unwritten:
            where = f"{name}.{column}" if column else name
            schema.ignored.append(IgnoredObject(what, where, label))
        primary_key = tuple(
            r["name"] for r in sorted((r for r in rows if r["pk"]), key=lambda r: r["pk"])
        )
        rowid_alias = (
            len(primary_key) == 1
            and next(r for r in rows if r["pk"])["type"].upper() == "INTEGER"
            and "WITHOUT ROWID" not in " ".join(sql.upper().split()[-3:])
        )
        columns = []
        for row in rows:
            generated = parsed.generated.get(row["name"].lower())
            if row["hidden"] == 1 or (row["hidden"] and generated is None):
                # A hidden column of a virtual table, or one the parser could not read.
                schema.ignored.append(IgnoredObject("generated column", f"{name}.{row['name']}"))
                continue
            rowid = bool(rowid_alias and row["pk"])
            facts = (
                row["name"],
                row["type"] or "",
                bool(row["notnull"]),
                row["dflt_value"],
                rowid,
                (parsed.autoincrement or "").lower() == row["name"].lower(),
                parsed.collations.get(row["name"].lower()),
                generated,
            )
            # The same column on many tables (id, created_at, ...) is made once per read.
            made = self.columns_seen.get(facts)
            if made is None:
                made = self.columns_seen[facts] = _column(*facts)
            columns.append(made)
        return Table(
            name,
            tuple(columns),
            primary_key=primary_key,
            schema=label,
            indexes=tuple(_indexes(indexes, sql_of)),
            unique_constraints=tuple(_uniques(indexes, parsed)),
            check_constraints=tuple(CheckConstraint(n, e) for n, e in parsed.checks),
            foreign_keys=tuple(_foreign_keys(fks, parsed, pk_of)),
            primary_key_name=parsed.primary_key_name,
            options=tuple(o for o in parsed.options if o in TABLE_OPTIONS),
        )


def _column(
    name: str,
    declared: str,
    not_null: bool,
    default: str | None,
    rowid: bool,
    autoincrement: bool,
    collation: str | None,
    generated: tuple[str, bool] | None,
) -> Column:
    return Column(
        name,
        declared_type(declared),
        nullable=not not_null and not rowid,
        default=default,
        autoincrement=autoincrement,
        collation=collation,
        generated=generated[0] if generated else None,
        written_not_null=not_null if rowid else None,
        written_default=default,
        stored=bool(generated and generated[1]),
    )


def _indexes(
    indexes: dict[str, list[dict[str, Any]]], sql_of: dict[tuple[str, str], str | None]
) -> list[Index]:
    found = []
    for name, rows in indexes.items():
        if rows[0]["origin"] != "c":
            continue  # backs the primary key or a UNIQUE constraint
        sql = sql_of.get(("index", name)) or ""
        if _plain_by_pragmas(rows, sql):
            found.append(Index(name, tuple(r["col"] for r in rows), bool(rows[0]["unique"])))
            continue
        keys, where = parse_create_index(sql)
        if any(r["cid"] == -2 for r in rows) or not plain_keys(keys):
            # An expression, or a column with DESC / ASC / COLLATE: the keys as written.
            found.append(Index(name, (), bool(rows[0]["unique"]), where, expression=keys))
        else:
            columns = tuple(r["col"] for r in rows)
            found.append(Index(name, columns, bool(rows[0]["unique"]), where))
    return found


def _plain_by_pragmas(rows: list[dict[str, Any]], sql: str) -> bool:
    """An index of bare columns, told without parsing its text: no expression key, no DESC,
    not partial (the pragmas say), and no ASC or COLLATE written (which the pragmas cannot
    tell from the defaults), for which the text holds neither word anywhere. Most indexes
    are this, and parsing each one's text was a third of reading a large schema; anything
    else is parsed."""
    if rows[0]["partial"] or any(r["cid"] < 0 or r["desc"] for r in rows):
        return False
    lowered = sql.lower()
    return bool(sql) and "asc" not in lowered and "collate" not in lowered


def _uniques(
    indexes: dict[str, list[dict[str, Any]]], parsed: ParsedTable
) -> list[UniqueConstraint]:
    named = [(n, tuple(c.lower() for c in cols)) for n, cols in parsed.uniques]
    found = []
    for rows in indexes.values():
        if rows[0]["origin"] != "u":
            continue
        columns = tuple(r["col"] for r in rows)
        key = tuple(c.lower() for c in columns)
        match = next((i for i, (_, cols) in enumerate(named) if cols == key), None)
        found.append(UniqueConstraint(named.pop(match)[0] if match is not None else None, columns))
    return found


def _foreign_keys(
    fks: dict[int, list[dict[str, Any]]], parsed: ParsedTable, pk_of: dict[str, tuple[str, ...]]
) -> list[ForeignKey]:
    written = list(parsed.foreign_keys)
    found = []
    # pragma_foreign_key_list numbers the clauses last-first; read them in written order.
    for fk_id in sorted(fks, reverse=True):
        rows = fks[fk_id]
        columns = tuple(r["col"] for r in rows)
        ref = rows[0]["ref"]
        ref_columns = tuple(r["ref_col"] for r in rows)
        if any(c is None for c in ref_columns):  # REFERENCES parent: its primary key
            ref_columns = pk_of.get(ref.lower(), ())
        match = _take(written, columns, ref)
        found.append(
            ForeignKey(
                match.name if match else None,
                columns,
                ref,
                ref_columns,
                on_delete=_action(rows[0]["on_delete"]),
                on_update=_action(rows[0]["on_update"]),
                deferrable=match.deferrable if match else None,
            )
        )
    return found


def _take(written: list[ParsedForeignKey], columns: tuple[str, ...], ref: str) -> Any:
    key = tuple(c.lower() for c in columns)
    for i, fk in enumerate(written):
        if tuple(c.lower() for c in fk.columns) == key and fk.ref_table.lower() == ref.lower():
            return written.pop(i)
    return None


def _action(action: str | None) -> str | None:
    return None if not action or action.upper() == "NO ACTION" else action.upper()


_STAGES = {"virtual table": 1, "view": 3, "trigger": 4}


def carried(kind: str, name: str, sql: str) -> CarriedObject:
    """A virtual table, view or trigger of the main database as ``sqlite_master`` holds it:
    SQLite keeps the statement that recreates it (without TEMP, IF NOT EXISTS or a schema
    name), so the copy runs exactly that: virtual tables before the tables (their module
    makes their storage tables; a changed one is a warning, never dropped with its data and
    made again), then views, then triggers, in the order the file lists them (a view only
    uses what was created before it). An attached database's would need its schema name
    spliced into that text: those are only named."""
    drop = "TABLE" if kind == "virtual table" else kind.upper()
    return CarriedObject(
        kind, name, None, sql.strip().rstrip(";"), f"DROP {drop} {quote_ansi(name)}",
        stage=_STAGES[kind], dialect="sqlite",
    )  # fmt: skip
