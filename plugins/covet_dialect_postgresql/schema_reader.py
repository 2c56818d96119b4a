"""Reading a live PostgreSQL schema from pg_catalog in eight bulk queries, whatever its size.

One query each for the schemas, the relations, the columns, the constraints, the indexes, the
enum types, everything else (triggers, functions, domains, rules, policies, extensions), and
the statements that recreate extensions, domains and standalone sequences (carried), all
filtered by namespace, so 1,000 tables cost the same eight round trips as ten. The server
does the formatting (``format_type``, ``pg_get_expr``, ``pg_get_constraintdef``,
``pg_get_indexdef``); Python only maps its spelling onto the portable model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from covet_core.schema.model import (
    CarriedObject,
    CheckConstraint,
    Column,
    ColumnType,
    EnumType,
    ForeignKey,
    IgnoredObject,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_core.schema.render import sql_string
from covet_dialect_postgresql import quote
from covet_dialect_postgresql.catalog import (
    CARRIED,
    COLUMNS,
    CONSTRAINTS,
    ENUMS,
    INDEXES,
    INTERNAL_PREFIX,
    NAMESPACES,
    OTHERS,
    RELATIONS,
    for_server,
)

_RELKIND = {"v": "view", "m": "materialized view", "S": "sequence", "f": "foreign table"}
_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_TYPE = re.compile(r"^(?P<name>[a-z][a-z ]*?)(?:\((?P<args>\d+(?:,\d+)?)\))?(?P<rest>[a-z ]*)$")
_SIMPLE_TYPES = {
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "double precision": "float",
    "real": "real",
    "boolean": "boolean",
    "text": "text",
    "bytea": "binary",
    "date": "date",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
}
_ARG_TYPES = {
    "character varying": ("string", "length"),
    "character": ("char", "length"),
    "bpchar": ("char", "length"),
    "numeric": ("decimal", "precision"),
    "timestamp without time zone": ("timestamp", "precision"),
    "timestamp with time zone": ("timestamptz", "precision"),
    "time without time zone": ("time", "precision"),
}


@lru_cache(maxsize=1024)
def portable_type(text: str) -> ColumnType:
    """``format_type`` output -> the portable ``ColumnType`` (unknown types keep their name)."""
    if '"' in text:  # a quoted name keeps its case
        return ColumnType(text.strip())
    spelled = text.strip().lower()
    if spelled in _SIMPLE_TYPES:
        return ColumnType(_SIMPLE_TYPES[spelled])
    match = _TYPE.match(spelled)
    if match is None:  # arrays, quoted or schema-qualified names: the server's text as is
        return ColumnType(spelled)
    # format_type puts the modifier inside: timestamp(3) with time zone.
    base = f"{match['name']}{match['rest']}".strip()
    args = [int(a) for a in match["args"].split(",")] if match["args"] else []
    if base in _ARG_TYPES:
        name, first = _ARG_TYPES[base]
        if first == "length":
            return ColumnType(name, length=args[0] if args else None)
        if name == "decimal":
            return ColumnType(name, precision=args[0], scale=args[1]) if args else ColumnType(name)
        return ColumnType(name, precision=args[0] if args else None)
    if base in _SIMPLE_TYPES:
        return ColumnType(_SIMPLE_TYPES[base])
    if len(args) == 2:
        return ColumnType(base, precision=args[0], scale=args[1])
    return ColumnType(base, length=args[0] if args else None)


def _balanced(text: str, start: int) -> int:
    """Index just past the parenthesis group opening at ``text[start]``."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def check_expression(definition: str) -> str:
    """``CHECK ((a > 0)) NOT VALID`` -> ``(a > 0)``: the text inside CHECK's parentheses."""
    if definition.startswith("CHECK (") and definition.endswith(")"):
        return definition[7:-1].strip()  # no NOT VALID / NO INHERIT after it: all of it
    start = definition.index("(")
    return definition[start + 1 : _balanced(definition, start) - 1].strip()


def _index_keys(definition: str, method: str) -> str:
    marker = f" USING {method} ("
    start = definition.index(marker) + len(marker) - 1
    return definition[start + 1 : _balanced(definition, start) - 1]


# All that a column's model depends on when it has no sequence, collation or enum labels.
_COLUMN_FACTS = (
    "attname", "type", "typtype", "attnotnull", "attislocal", "attidentity", "attgenerated",
    "default", "comment",
)  # fmt: skip


# JIT off for this transaction, through its cost threshold (-1: never), and the threshold as
# it was. Not through "jit" itself: asyncpg turns that off at session level around its type
# introspection and then restores the value it found, which inside this transaction is
# "off", so the session would keep it. A server without JIT has no such setting.
_JIT_OFF = (
    "SELECT was, CASE WHEN was IS NOT NULL THEN set_config('jit_above_cost', '-1', true) END"
    " FROM (SELECT current_setting('jit_above_cost', true) AS was OFFSET 0) s"  # read first
)


class PostgreSQLSchemaReader:
    """``await PostgreSQLSchemaReader(adapter).read(["app"])``."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def read(self, schemas: Sequence[str] | None = None) -> Schema:
        # One transaction: one snapshot for all the queries (DDL committed between two of
        # them cannot pair a key with columns not read), and a scope for a setting that ends
        # with it. JIT is turned off: on analysed catalogs the planner prices the per-row
        # subqueries of the catalog queries above jit_above_cost, and compiling them took
        # ~190 ms of a 210 ms constraint query at 1,000 tables (it runs in 20 ms without).
        adapter = self.adapter
        outer = adapter.in_transaction
        async with adapter.transaction():
            if not outer:
                await adapter.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            threshold = await adapter.fetch_value(_JIT_OFF)
            try:
                return await self._read(schemas)
            finally:
                if outer and threshold is not None:  # the caller's transaction goes on
                    await adapter.execute(
                        "SELECT set_config('jit_above_cost', $1, true)", (threshold,)
                    )

    async def _read(self, schemas: Sequence[str] | None) -> Schema:
        # Rows read by name only: the driver's own records where the adapter offers them.
        fetch = getattr(self.adapter, "fetch_rows", self.adapter.fetch_all)
        spaces = await self.adapter.fetch_one(NAMESPACES, (list(schemas) if schemas else None,))
        assert spaces is not None  # an aggregate always returns its row
        current, oids = spaces["current"], list(spaces["oids"])
        # The connection's default schema is ``None`` in the model, every other one its name.
        label = {
            o: (None if n == current else n) for o, n in zip(oids, spaces["names"], strict=True)
        }
        relations = await fetch(RELATIONS, (oids,))
        columns = await fetch(for_server(COLUMNS, spaces["version"]), (oids,))
        constraints = await fetch(for_server(CONSTRAINTS, spaces["version"]), (oids,))
        indexes = await fetch(for_server(INDEXES, spaces["version"]), (oids,))
        enums = await fetch(ENUMS, (oids,))
        others = await fetch(OTHERS, (oids,))
        carried = [
            CarriedObject(
                row["kind"],
                row["name"],
                label.get(row["nsp"]),
                row["create_sql"],
                row["drop_sql"],
                stage=row["stage"],
                dialect="postgresql",
            )
            for row in await fetch(for_server(CARRIED, spaces["version"]), (oids,))
        ]
        # A schema read other than the connection's own: a copy must create it first.
        carried[:0] = [
            CarriedObject(
                "schema",
                name,
                None,
                f"CREATE SCHEMA {quote(name)}",
                f"DROP SCHEMA {quote(name)}",
                stage=0,
                dialect="postgresql",
            )
            for name in spaces["names"]
            if name != current
        ]

        def own(name: str) -> str | None:
            return None if name == current else name

        ignored: list[IgnoredObject] = [
            IgnoredObject("unread schema (pass schemas=[...])", name) for name in spaces["unread"]
        ]
        tables: dict[int, dict[str, Any]] = {}
        settings: list[CarriedObject] = []
        columns_seen: dict[tuple[Any, ...], Column] = {}
        for rel in relations:
            schema = label[rel["nsp"]]
            if rel["in_extension"]:
                continue
            if rel["relkind"] in ("r", "p") and rel["relispartition"]:
                ignored.append(IgnoredObject("partition", rel["relname"], schema))
            elif rel["relkind"] in ("r", "p"):
                ignored += _table_attributes(rel, schema)
                parents = []
                for nsp, parent in rel["parents"] or ():
                    if int(nsp) in label:
                        parents.append((label[int(nsp)], parent))
                    else:  # its copy could not say INHERITS of a table it does not create
                        what = "inheritance from a table in a schema not read"
                        ignored.append(
                            IgnoredObject(what, f"{rel['relname']} from {parent}", schema)
                        )
                tables[rel["oid"]] = {
                    "parents": tuple(parents),
                    "name": rel["relname"], "schema": schema, "comment": rel["description"],
                    "columns": [], "pk": (), "pk_name": None, "pk_deferrable": None,
                    "indexes": [], "uniques": [],
                    "checks": [], "fks": [],
                    "options": _table_options(rel),
                }  # fmt: skip
            elif not (rel["relkind"] == "S" and rel["owned"]):
                ignored.append(IgnoredObject(_RELKIND[rel["relkind"]], rel["relname"], schema))

        # Each table's column names by number, for the keys of constraints (partitions and
        # tables left out included: a foreign key may reference one).
        attnames: dict[int, dict[int, str]] = {}
        for row in columns:
            attnames.setdefault(row["rel"], {})[row["attnum"]] = row["attname"]
        for row in columns:
            table = tables.get(row["rel"])
            if table is None:
                continue
            if row["sequences"] or row["collation"] or row["labels"]:
                column = self._column(row, own)
            else:  # the same column on many tables (id, created_at, ...) is made once
                key = tuple(row[f] for f in _COLUMN_FACTS)
                column = columns_seen.get(key) or columns_seen.setdefault(
                    key, self._column(row, own)
                )
            table["columns"].append(column)
            for what, set_sql, reset_sql in row["settings"] or ():
                setting = CarriedObject(
                    "setting", what, table["schema"], set_sql, reset_sql, stage=5,
                    dialect="postgresql",
                )  # fmt: skip
                settings.append(setting)
            if row["sequences"]:  # a serial or identity column, or one owning a sequence
                found = _sequence_report(row, table["name"], table["schema"])
                ignored += [report for report, _ in found]
                carried += [
                    c for r, seq in found if (c := _sequence_fix(r, seq, row, table["name"]))
                ]

        carried += settings  # after the other settings and comments (stage 5) of CARRIED
        for row in constraints:
            table = tables.get(row["rel"])
            if table is None:
                continue
            name, kind = row["conname"], row["contype"]
            # A check's or an exclusion's keys may be system columns or expressions: unused.
            keyed = kind in ("p", "u", "f")
            cols = _named_keys(attnames.get(row["rel"]), row["keys"]) if keyed else ()
            if row["set_columns"]:  # ON DELETE SET NULL (a): the model has no column list
                where = f"{name} on {table['name']}"
                what = "foreign key ON DELETE SET NULL / SET DEFAULT (columns)"
                ignored.append(IgnoredObject(what, where, table["schema"]))
            include, nnd = tuple(row["key_include"] or ()), bool(row["key_nnd"])
            if kind == "p" and (include or nnd):
                where = f"{name} on {table['name']}"
                what = "primary key INCLUDE / NULLS NOT DISTINCT"
                ignored.append(IgnoredObject(what, where, table["schema"]))
            if kind == "p":
                table["pk"], table["pk_name"] = cols, name
                table["pk_deferrable"] = _deferral(row)
            elif kind == "u":
                table["uniques"].append(
                    UniqueConstraint(
                        name,
                        cols,
                        deferrable=_deferral(row),
                        include=include,
                        nulls_not_distinct=nnd,
                    )
                )
            elif kind == "c":
                expression = check_expression(row["def"])
                table["checks"].append(
                    CheckConstraint(
                        name,
                        expression,
                        inherited=not row["conislocal"],
                        validated=row["convalidated"],
                        no_inherit=row["connoinherit"],
                    )
                )
            elif kind == "f":
                table["fks"].append(
                    ForeignKey(
                        name,
                        cols,
                        row["ref_table"],
                        tuple(row["ref_cols"])
                        if row["ref_cols"] is not None
                        else _named_keys(attnames.get(row["ref_rel"]), row["ref_keys"]),
                        ref_schema=own(row["ref_schema"]),
                        on_delete=_ACTIONS.get(row["confdeltype"]),
                        on_update=_ACTIONS.get(row["confupdtype"]),
                        deferrable=_deferral(row),
                        match="FULL" if row["confmatchtype"] == "f" else None,
                        validated=row["convalidated"],
                    )
                )
            else:
                where = f"{name} on {table['name']}"
                ignored.append(IgnoredObject("exclusion constraint", where, table["schema"]))

        for row in indexes:
            table = tables.get(row["rel"])
            if table is not None:
                table["indexes"].append(self._index(row))
                if row["has_options"]:
                    where = f"{row['name']} on {table['name']}"
                    what = "index tablespace"
                    ignored.append(IgnoredObject(what, where, table["schema"]))

        for row in others:
            parent = row["parent"]
            if parent and parent.startswith(INTERNAL_PREFIX):
                continue
            name = f"{row['name']} on {parent}" if parent else row["name"]
            ignored.append(IgnoredObject(row["kind"], name, label.get(row["nsp"])))

        return Schema.of(
            [
                Table(
                    t["name"],
                    tuple(t["columns"]),
                    primary_key=t["pk"],
                    schema=t["schema"],
                    comment=t["comment"],
                    indexes=tuple(t["indexes"]),
                    unique_constraints=tuple(t["uniques"]),
                    check_constraints=tuple(t["checks"]),
                    foreign_keys=tuple(t["fks"]),
                    primary_key_name=t["pk_name"],
                    primary_key_deferrable=t["pk_deferrable"],
                    parents=t["parents"],
                    options=t["options"],
                )
                for t in tables.values()
            ],
            [EnumType(e["typname"], tuple(e["labels"]), label[e["nsp"]]) for e in enums],
            dialect="postgresql",
            ignored=ignored,
            carried=carried,
        )

    @staticmethod
    def _column(row: dict[str, Any], own: Any) -> Column:
        if row["typtype"] == "e":
            schema = own(row["type_schema"])
            enum_name = f"{schema}.{row['typname']}" if schema else row["typname"]
            column_type = ColumnType("enum", values=tuple(row["labels"]), enum_name=enum_name)
        else:
            column_type = portable_type(row["type"])
        default = row["default"]
        # A serial column's nextval() over its own sequence is the server's autoincrement,
        # when SERIAL would make it so: NOT NULL, and a sequence of the column's own type.
        serial = _serial(row)
        sequence = _sequences(row)[0]
        autoincrement = bool(row["attidentity"]) or serial
        generated = default if row["attgenerated"] else None  # pg_get_expr of its expression
        if autoincrement or row["attgenerated"]:
            default = None
        collation = None
        if row["collation"]:
            where, name = row["collation"]
            schema = None if where == "pg_catalog" else own(where)
            collation = f"{schema}.{name}" if schema else name
        return Column(
            row["attname"], column_type, nullable=not row["attnotnull"], default=default,
            autoincrement=autoincrement, comment=row["comment"], collation=collation,
            generated=generated, stored=row["attgenerated"] == "s",
            autoincrement_kind="serial" if serial else (
                "always" if row["attidentity"] == "a" else None),
            sequence_options=sequence.options if sequence else None,
            written_default=row["default"] if default is not None else None,
            inherited=not row["attislocal"],
        )  # fmt: skip

    @staticmethod
    def _index(row: dict[str, Any]) -> Index:
        cols: list[str | None] = list(row["cols"])
        keys = _index_keys(row["def"], row["amname"]) if row["def"] else ", ".join(row["quoted"])
        plain = None not in cols and keys == ", ".join(row["quoted"])
        return Index(
            row["name"],
            tuple(c for c in cols if c is not None) if plain else (),
            unique=row["indisunique"],
            where=row["predicate"],
            expression=None if plain else keys,
            method=None if row["amname"] == "btree" else row["amname"],
            include=tuple(row["include"]),
            nulls_not_distinct=bool(row["nulls_not_distinct"]),
        )


def _named_keys(attnames: dict[int, str] | None, numbers: Sequence[int] | None) -> tuple[str, ...]:
    """Key column numbers (``conkey``) as the table's column names, in key order."""
    if not numbers:
        return ()
    if attnames is None or any(n not in attnames for n in numbers):
        raise ValueError(f"key columns {list(numbers)} are not among the columns read")
    return tuple(attnames[n] for n in numbers)


class OwnedSequence(NamedTuple):
    """A sequence a column owns, as COLUMNS reads it."""

    kind: str  # "i": the column's identity; "a": its SERIAL, or an OWNED BY
    name: str
    qualified: str  # quoted, with its schema unless the connection's own
    options: str | None  # what differs from a fresh sequence's defaults (None: nothing)
    start: str
    same_type: bool  # of the column's own type
    used: bool  # the column's default is exactly nextval() of it, as SERIAL writes it


def _sequences(row: Any) -> tuple[OwnedSequence | None, list[OwnedSequence]]:
    """The sequence that makes the column's values (its identity's, or the owned one its
    default calls), if any, and the other sequences it owns: those only say OWNED BY."""
    owned = [
        OwnedSequence(k, n, q, o, st, same == "true", used == "true")
        for k, n, q, o, st, same, used in row["sequences"] or ()
    ]
    main = next((s for s in owned if s.kind == "i"), None) or next(
        (s for s in owned if s.used), None
    )
    return main, [s for s in owned if s is not main]


def _sequence_report(
    row: Any, table: str, schema: str | None
) -> list[tuple[IgnoredObject, OwnedSequence]]:
    """What a copy of a serial or identity column cannot make the same: a sequence named
    other than ``<table>_<column>_seq`` (SERIAL and IDENTITY choose that name), or a serial
    sequence altered after creation (SERIAL takes no options); and each sequence the column
    owns that SERIAL would not make (created on its own by CARRIED, then given its owner)."""
    from covet_dialect_postgresql.normalise import pg_name  # it imports this module

    main, others = _sequences(row)
    if main is not None and not row["attidentity"] and not _serial(row):
        # Used by a default SERIAL would not write (a nullable column, another type): its
        # sequence is created on its own, like any other it owns.
        others = [main, *others]
        main = None
    found = [
        (IgnoredObject("sequence owner", f"{s.name} of {table}.{row['attname']}", schema), s)
        for s in others
    ]
    if main is None:
        return found
    what = f"{main.name} of {table}.{row['attname']}"
    if main.name != pg_name(table, row["attname"], "seq"):
        found.append((IgnoredObject("sequence name", what, schema), main))
    if main.options and not row["attidentity"]:
        found.append((IgnoredObject("serial sequence options", what, schema), main))
    return found


_DO_TAG = "$covet_seq$"


def _serial(row: Any) -> bool:
    """A column SERIAL makes: NOT NULL, its default exactly nextval() of a sequence of its
    own type that it owns."""
    main = _sequences(row)[0]
    return (
        main is not None
        and main.kind == "a"
        and main.used
        and main.same_type
        and bool(row["attnotnull"])
    )


def _sequence_fix(
    report: IgnoredObject, owned: OwnedSequence, row: Any, table: str
) -> CarriedObject | None:
    """What makes a copy's column sequence like the original's, after its CREATE TABLE made
    it with SERIAL or IDENTITY: its name (another than those choose, say after a rename), or
    a serial sequence's options (SERIAL takes none). The sequence is found through its column
    (``pg_get_serial_sequence``), never by a name the copy may have chosen differently, so the
    statements cannot touch another sequence. Undone by the default name / options, just
    before the table itself is dropped."""
    from covet_dialect_postgresql.normalise import pg_name  # it imports this module

    sequence, options, start = owned.name, owned.options, owned.start
    column = row["attname"]
    where = f"{quote(report.schema)}.{quote(table)}" if report.schema else quote(table)
    serial = f"pg_get_serial_sequence({sql_string(where)}, {sql_string(column)})"
    if report.kind == "sequence owner":
        return CarriedObject(
            report.kind, report.name, report.schema,
            f"ALTER SEQUENCE {owned.qualified} OWNED BY {where}.{quote(column)}",
            f"ALTER SEQUENCE {owned.qualified} OWNED BY NONE", stage=5, dialect="postgresql",
        )  # fmt: skip
    if report.kind == "sequence name":
        renamed, back = sequence, pg_name(table, column, "seq")
        create = (
            f"EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', {serial}, {sql_string(renamed)})"
        )
        drop = f"EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', {serial}, {sql_string(back)})"
    else:
        # A sequence that never gave a value restarts at its new start (a MINVALUE above
        # its current value is refused otherwise); one in use is never restarted.
        create = (
            f"EXECUTE format('SELECT is_called FROM %s', {serial}) INTO used; "
            f"EXECUTE format('ALTER SEQUENCE %s {options}%s', {serial}, "
            f"CASE WHEN used THEN '' ELSE ' RESTART WITH {int(start)}' END)"
        )
        reset = "NO MINVALUE NO MAXVALUE START WITH 1 INCREMENT BY 1 CACHE 1 NO CYCLE"
        drop = f"EXECUTE format('ALTER SEQUENCE %s {reset}', {serial})"
    if _DO_TAG in create + drop or "'" in (options or "") or "%" in (options or ""):
        return None  # stays named
    wrap = f"DO {_DO_TAG} DECLARE used boolean; BEGIN {{}}; END {_DO_TAG}"
    return CarriedObject(
        report.kind, report.name, report.schema, wrap.format(create), wrap.format(drop),
        stage=2, dialect="postgresql",
    )  # fmt: skip


def _deferral(row: dict[str, Any]) -> str | None:
    if not row["condeferrable"]:
        return None
    return f"DEFERRABLE INITIALLY {'DEFERRED' if row['condeferred'] else 'IMMEDIATE'}"


# A storage parameter as pg_class.reloptions keeps it: a plain name, '=', its value.
_RELOPTION = re.compile(r"([a-z_][a-z0-9_]*)=(.*)", re.S)


def _table_options(rel: dict[str, Any]) -> tuple[str, ...]:
    """What a copy says of the table beyond its columns (``Table.options``): UNLOGGED, its
    storage parameters and its partitioning, as the server reports them."""
    options = ["UNLOGGED"] if rel["persistence"] == "u" else []
    params = [_RELOPTION.fullmatch(o) for o in rel["reloptions"] or ()]
    if params and all(params):
        written = ", ".join(f"{m[1]} = {sql_string(m[2])}" for m in params if m)
        options.append(f"WITH ({written})")
    if rel["partition_key"]:
        options.append(f"PARTITION BY {rel['partition_key']}")
    return tuple(options)


def _table_attributes(rel: dict[str, Any], schema: str | None) -> list[IgnoredObject]:
    """What a table has beyond what a copy says (``_table_options``)."""
    name = rel["relname"]
    params = rel["reloptions"] or ()
    found = [
        IgnoredObject(kind, name, schema)
        for kind, present in (
            ("storage parameters (WITH ...)", not all(_RELOPTION.fullmatch(o) for o in params)),
            ("row level security", rel["row_security"]),
        )
        if present
    ]
    return found


def schema_reader(adapter: Any) -> PostgreSQLSchemaReader:
    return PostgreSQLSchemaReader(adapter)
