"""pg_catalog rows -> the schema model: each bulk query's rows mapped as they arrive (the
reader sends the next query first), then the tables assembled once all are in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

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
from covet_dialect_postgresql.catalog import INTERNAL_PREFIX
from covet_dialect_postgresql.sequences import (
    OwnedSequence,
    is_serial,
    owned_sequences,
    sequence_fix,
    sequence_reports,
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


class CatalogModel:
    """The model of one read, built from each query's rows in the reader's order: relations,
    columns, indexes, constraints, carried statements, other objects, enum types."""

    def __init__(self, spaces: Any) -> None:
        self.current = spaces["current"]
        oids = list(spaces["oids"])
        # The connection's default schema is ``None`` in the model, every other one its name.
        self.label = {
            o: (None if n == self.current else n)
            for o, n in zip(oids, spaces["names"], strict=True)
        }
        self.ignored: list[IgnoredObject] = [
            IgnoredObject("unread schema (pass schemas=[...])", name) for name in spaces["unread"]
        ]
        # A schema read other than the connection's own: a copy must create it first.
        self.schemas = [
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
            if name != self.current
        ]
        self.index_ignored: list[IgnoredObject] = []
        self.other_ignored: list[IgnoredObject] = []
        self.carried: list[CarriedObject] = []
        self.fixes: list[CarriedObject] = []  # what makes a column's sequence the original's
        self.settings: list[CarriedObject] = []
        self.tables: dict[int, dict[str, Any]] = {}
        # Each table's column names by number, for the keys of constraints (partitions and
        # tables left out included: a foreign key may reference one).
        self.attnames: dict[int, dict[int, str]] = {}

    def own(self, name: str) -> str | None:
        return None if name == self.current else name

    def relations(self, rows: Sequence[Any]) -> None:
        label, ignored, tables = self.label, self.ignored, self.tables
        for rel in rows:
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

    def columns(self, rows: Sequence[Any]) -> None:
        tables, ignored, attnames = self.tables, self.ignored, self.attnames
        own = self.own
        columns_seen: dict[tuple[Any, ...], Column] = {}
        facts = itemgetter(*_COLUMN_FACTS)
        # In table and column order here: sorted on the server, it cost a tenth of the query.
        rows = sorted(rows, key=itemgetter("rel", "attnum"))
        for row in rows:
            attnames.setdefault(row["rel"], {})[row["attnum"]] = row["attname"]
        for row in rows:
            table = tables.get(row["rel"])
            if table is None:
                continue
            owned = owned_sequences(row) if row["sequences"] else (None, [])
            if row["sequences"] or row["collation"] or row["labels"]:
                column = _column(row, own, owned[0])
            else:  # the same column on many tables (id, created_at, ...) is made once
                key = facts(row)
                column = columns_seen.get(key) or columns_seen.setdefault(
                    key, _column(row, own, None)
                )
            table["columns"].append(column)
            for what, set_sql, reset_sql in row["settings"] or ():
                setting = CarriedObject(
                    "setting", what, table["schema"], set_sql, reset_sql, stage=5,
                    dialect="postgresql",
                )  # fmt: skip
                self.settings.append(setting)
            if row["sequences"]:  # a serial or identity column, or one owning a sequence
                found = sequence_reports(row, table["name"], table["schema"], owned)
                ignored += [report for report, _ in found]
                self.fixes += [
                    c for r, seq in found if (c := sequence_fix(r, seq, row, table["name"]))
                ]

    def constraints(self, rows: Sequence[Any]) -> None:
        tables, ignored, attnames, own = self.tables, self.ignored, self.attnames, self.own
        for row in sorted(rows, key=itemgetter("rel", "conname")):
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
            include = (
                _named_keys(attnames.get(row["rel"]), row["index_keys"][row["key_count"] :])
                if row["index_keys"]
                else ()
            )
            nnd = bool(row["key_nnd"])
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

    def indexes(self, rows: Sequence[Any]) -> None:
        for row in rows:
            table = self.tables.get(row["rel"])
            if table is not None:
                table["indexes"].append(_index(row))
                if row["has_options"]:
                    where = f"{row['name']} on {table['name']}"
                    what = "index tablespace"
                    self.index_ignored.append(IgnoredObject(what, where, table["schema"]))

    def carried_statements(self, rows: Sequence[Any]) -> None:
        self.carried = [
            CarriedObject(
                row["kind"],
                row["name"],
                self.label.get(row["nsp"]),
                row["create_sql"],
                row["drop_sql"],
                stage=row["stage"],
                dialect="postgresql",
            )
            for row in rows
        ]

    def others(self, rows: Sequence[Any]) -> None:
        for row in rows:
            parent = row["parent"]
            if parent and parent.startswith(INTERNAL_PREFIX):
                continue
            name = f"{row['name']} on {parent}" if parent else row["name"]
            self.other_ignored.append(IgnoredObject(row["kind"], name, self.label.get(row["nsp"])))

    def schema(self, enums: Sequence[Any]) -> Schema:
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
                for t in self.tables.values()
            ],
            [EnumType(e["typname"], tuple(e["labels"]), self.label[e["nsp"]]) for e in enums],
            dialect="postgresql",
            # In the order of the objects' kinds, whatever order the queries came in.
            ignored=self.ignored + self.index_ignored + self.other_ignored,
            # Settings after the other settings and comments (stage 5) of CARRIED.
            carried=self.schemas + self.carried + self.fixes + self.settings,
        )


def _column(row: dict[str, Any], own: Any, sequence: OwnedSequence | None) -> Column:
    """The column of ``row``; ``sequence``: the one that makes its values, if any (the first
    of its ``owned_sequences``)."""
    if row["typtype"] == "e":
        schema = own(row["type_schema"])
        enum_name = f"{schema}.{row['typname']}" if schema else row["typname"]
        column_type = ColumnType("enum", values=tuple(row["labels"]), enum_name=enum_name)
    else:
        column_type = portable_type(row["type"])
    default = row["default"]
    # A serial column's nextval() over its own sequence is the server's autoincrement,
    # when SERIAL would make it so: NOT NULL, and a sequence of the column's own type.
    serial = is_serial(row, sequence)
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
