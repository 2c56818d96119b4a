"""The canonical form of a schema on PostgreSQL (``Dialect.schema_normaliser``).

The comparator normalises both sides (a live read, portable models) and compares with ``==``,
so everything PostgreSQL cannot tell apart or rewrites gets one spelling here:

- types: aliases fold to the portable names (``int4``, ``varchar``, ``serial``); arguments
  PostgreSQL ignores go (``integer(11)``), those it fills in are filled (``CHAR`` is
  ``char(1)``, ``NUMERIC(10)`` is ``decimal(10, 0)``); there is no ``unsigned``.
- serial and identity columns are ``autoincrement`` with no default and NOT NULL (identity
  implies it, as a primary key does for its columns).
- defaults, check expressions, index predicates and expression-index keys go through
  ``expression.canonical`` (casts PostgreSQL adds, ``now()`` vs ``CURRENT_TIMESTAMP``, ``IN``
  vs ``= ANY (ARRAY[...])``, parentheses); a default's literal takes its column's type
  (``'0'`` on an integer is ``0``, ``1`` on a boolean is ``true``); an explicit NULL default
  is no default.
- FK actions: ``NO ACTION`` is ``None``.
- names: a constraint without a name gets the name PostgreSQL gives it (``<table>_pkey``,
  ``<table>_<cols>_key``, ``<table>_<cols>_fkey``, ``<table>_<col>_check`` or
  ``<table>_check``, cut to 63 bytes the server's way), so an unnamed model constraint equals
  what the server created for it. Duplicates within a table get PostgreSQL's 1, 2, ...
  suffix; clashes with other tables' names in the schema are not predicted.
- order: indexes and constraints sorted by name, then columns. Column order is kept.
- an empty comment is no comment (``COMMENT ... IS ''`` removes it).
"""

from __future__ import annotations

import functools
from dataclasses import replace

from covet_core.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    Constraint,
    EnumType,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
    kept_parts,
)
from covet_dialect_postgresql import expression
from covet_dialect_postgresql.render import render_type
from covet_dialect_postgresql.schema_rows import portable_type

_ALIASES = {
    "int": "integer", "int4": "integer", "int2": "smallint", "int8": "bigint",
    "float8": "float", "double": "float", "double precision": "float", "float4": "real",
    "bool": "boolean", "varchar": "string", "character varying": "string",
    "character": "char", "bpchar": "char", "numeric": "decimal", "bytea": "binary",
    "blob": "binary", "datetime": "timestamp", "timetz": "time with time zone",
    "varbit": "bit varying",
}  # fmt: skip
_SERIAL = {"serial": "integer", "serial4": "integer", "bigserial": "bigint",
           "serial8": "bigint", "smallserial": "smallint", "serial2": "smallint"}  # fmt: skip
_NO_ARGS = {"smallint", "integer", "bigint", "float", "real", "boolean", "text", "binary",
            "date", "json", "jsonb", "uuid"}  # fmt: skip
_NAMEDATALEN = 64
_ACTIONS = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"}


def normalise_type(column_type: ColumnType) -> tuple[ColumnType, bool]:
    """The canonical type and whether the name itself asked for autoincrement (serial)."""
    t = column_type
    name = t.name if '"' in t.name else " ".join(t.name.lower().split())
    serial = name in _SERIAL
    name = _SERIAL.get(name, _ALIASES.get(name, name))
    if name == "enum":
        return ColumnType("enum", values=tuple(t.values), enum_name=t.enum_name), False
    if name in _NO_ARGS:
        return ColumnType(name), serial
    if name in ("string", "char"):
        length = t.length if t.length is not None else t.precision
        return ColumnType(name, length=length or (1 if name == "char" else None)), serial
    if name == "decimal":
        if t.precision is None:
            return ColumnType(name), serial
        return ColumnType(name, precision=t.precision, scale=t.scale or 0), serial
    if name in ("timestamp", "timestamptz", "time"):
        precision = t.precision if t.precision is not None else t.length
        return ColumnType(name, precision=precision), serial
    read = portable_type(name)
    if read.name != name:  # the server's spelling of a portable type ("character varying")
        if (t.length, t.precision, t.scale) != (None, None, None):
            read = replace(read, length=t.length, precision=t.precision, scale=t.scale)
        return normalise_type(read)[0], serial
    return ColumnType(name, length=t.length, precision=t.precision, scale=t.scale), serial


def _type_text(spelled: str) -> str:
    """A cast's type in one spelling (``character varying`` and ``varchar`` alike)."""
    try:
        return render_type(normalise_type(portable_type(spelled))[0])
    except ValueError:
        return spelled


def pg_name(name1: str, name2: str | None, label: str) -> str:
    """PostgreSQL's makeObjectName: ``name1_name2_label``, the longer part cut first so the
    whole fits in NAMEDATALEN - 1 bytes."""
    first, second = name1.encode(), (name2 or "").encode()
    available = _NAMEDATALEN - 1 - len(label) - 1 - (1 if name2 else 0)
    n1, n2 = len(first), len(second)
    while n1 + n2 > available:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    text = first[:n1].decode(errors="ignore")
    if name2:
        text += "_" + second[:n2].decode(errors="ignore")
    return f"{text}_{label}"


class _Names:
    """PostgreSQL's ChooseConstraintName within one table: a taken name gets 1, 2, ..."""

    def __init__(self, table: Table) -> None:
        constraints: list[Constraint] = [
            *table.unique_constraints,
            *table.check_constraints,
            *table.foreign_keys,
        ]
        self.taken = {c.name for c in constraints if c.name}
        self.taken |= {i.name for i in table.indexes}
        if table.primary_key_name:
            self.taken.add(table.primary_key_name)

    def choose(self, name1: str, name2: str | None, label: str) -> str:
        candidate, n = pg_name(name1, name2, label), 0
        while candidate in self.taken:
            n += 1
            candidate = pg_name(name1, name2, f"{label}{n}")
        self.taken.add(candidate)
        return candidate


def _joined(columns: tuple[str, ...] | list[str]) -> str:
    return "_".join(columns)[: _NAMEDATALEN - 1]


def normalise_default(default: str, column_type: ColumnType) -> str | None:
    """A default in its canonical spelling for the column's type (``None``: no default)."""
    return expression.canonical_default(default, normalise_type(column_type)[0], _type_text)


def normalise_column(column: Column, in_primary_key: bool) -> Column:
    # The cache compares columns as the model does, without the fields that are not compared:
    # they are part of its key, so each column gets back its own.
    normal, same = _normalise_column(
        column,
        in_primary_key,
        column.autoincrement_kind,
        column.sequence_options,
        column.written_default,
        column.inherited,
        column.type.declared,
    )
    # Already canonical: this very column (not the equal one first cached), so a table whose
    # columns all are can be kept whole (normalise_table).
    return column if same else normal


@functools.lru_cache(maxsize=8192)
def _normalise_column(
    column: Column,
    in_primary_key: bool,
    kind: str | None,
    options: str | None,
    written: str | None,
    inherited: bool,
    declared: str | None,
) -> tuple[Column, bool]:
    column_type, serial = normalise_type(column.type)
    autoincrement = column.autoincrement or serial
    default = column.default
    if default is not None:
        default = expression.canonical_default(default, column_type, _type_text)
    if autoincrement:
        default = None
    normal = replace(  # replace(): what PostgreSQL cannot do still reaches the renderer
        column,
        type=column_type,
        nullable=column.nullable and not autoincrement and not in_primary_key,
        default=default,
        autoincrement=autoincrement,
        comment=column.comment or None,
        autoincrement_kind=kind,
        sequence_options=options,
        written_default=written,
        inherited=inherited,
    )
    return normal, normal == column and normal.type.declared == column.type.declared


def normalise_table(table: Table) -> Table:
    # What is already in its canonical form is kept, not rebuilt: most of a live read is, and
    # building frozen dataclasses is most of what normalising costs.
    pk = tuple(table.primary_key)
    columns = tuple(normalise_column(c, c.name in pk) for c in table.columns)
    types = {c.name: c.type for c in columns}
    names = _Names(table) if _unnamed(table) else None

    def canonical(text: str) -> str:
        return expression.canonical(text, types, _type_text)

    columns = tuple(
        replace(c, generated=canonical(c.generated)) if c.generated else c for c in columns
    )
    indexes = tuple(sorted((_index(i, types) for i in table.indexes), key=_index_order))
    uniques = tuple(
        sorted(
            (
                u
                if u.name
                and type(u.columns) is tuple
                and type(u.include) is tuple
                and u.comment is None
                else UniqueConstraint(
                    u.name or names.choose(table.name, _joined(u.columns), "key"),  # type: ignore[union-attr]
                    tuple(u.columns),
                    deferrable=u.deferrable,
                    include=tuple(u.include),
                    nulls_not_distinct=u.nulls_not_distinct,
                )
                for u in table.unique_constraints
            ),
            key=lambda u: (u.name or "", u.columns),
        )
    )
    checks = []
    for check in table.check_constraints:
        text = canonical(check.expression)
        name = check.name
        if not name:
            node = expression.parse(check.expression, types, _type_text)
            referenced = [c for c in expression.columns_in(node) if c in types] if node else []
            name = names.choose(  # type: ignore[union-attr]
                table.name, referenced[0] if len(referenced) == 1 else None, "check"
            )
        if name == check.name and text == check.expression and not check.column:
            checks.append(check)
            continue
        checks.append(
            CheckConstraint(
                name,
                text,
                inherited=check.inherited,
                validated=check.validated,
                no_inherit=check.no_inherit,
            )
        )
    fks = tuple(
        sorted(
            (_foreign_key(fk, table.name, names) for fk in table.foreign_keys),
            key=lambda f: (f.name or "", f.columns),
        )
    )
    pk_name = (table.primary_key_name or pg_name(table.name, None, "pkey")) if pk else None
    check_tuple = tuple(sorted(checks, key=lambda c: (c.name or "", c.expression)))
    if (
        kept_parts(table, columns, indexes, uniques, check_tuple, fks)
        and type(table.primary_key) is tuple
        and pk_name == table.primary_key_name
        and table.comment != ""
        and table.collation is None
    ):
        return table
    return Table(
        table.name,
        columns,
        primary_key=pk,
        schema=table.schema,
        comment=table.comment or None,
        indexes=indexes,
        unique_constraints=uniques,
        check_constraints=check_tuple,
        foreign_keys=fks,
        primary_key_name=pk_name,
        primary_key_deferrable=table.primary_key_deferrable,
        parents=table.parents,  # INHERITS and PARTITION BY: not compared, but a copy says them
        options=table.options,
    )


def _unnamed(table: Table) -> bool:
    return (
        any(not u.name for u in table.unique_constraints)
        or any(not c.name for c in table.check_constraints)
        or any(not f.name for f in table.foreign_keys)
    )


def _index_order(index: Index) -> tuple[str, tuple[str, ...]]:
    return index.name, index.columns


def _index(index: Index, types: dict[str, ColumnType]) -> Index:
    cols, expr = tuple(index.columns), index.expression
    if expr is not None:
        expr = expression.canonical_index_keys(expr, types, _type_text)
        keys = [_unquoted(k.strip()) for k in expr.split(",")]
        if all(k in types for k in keys):
            cols, expr = tuple(keys), None  # only plain columns after all
        else:
            cols = ()
    where = expression.canonical(index.where, types, _type_text) if index.where else None
    method = (index.method or "").lower() or None
    method = None if method == "btree" else method
    if (
        expr == index.expression
        and cols == index.columns
        and type(index.columns) is tuple
        and where == index.where
        and method == index.method
        and type(index.include) is tuple
        and index.comment is None
    ):
        return index
    return Index(  # every field: a constructor is much cheaper than replace() here
        index.name,
        cols,
        unique=index.unique,
        where=where,
        expression=expr,
        method=method,
        include=tuple(index.include),
        nulls_not_distinct=index.nulls_not_distinct,
    )


def _foreign_key(fk: ForeignKey, table: str, names: _Names | None) -> ForeignKey:
    on_delete, on_update = _action(fk.on_delete), _action(fk.on_update)
    deferrable = " ".join(fk.deferrable.upper().split()) if fk.deferrable else None
    match = fk.match.upper() if fk.match and fk.match.upper() != "SIMPLE" else None
    if (
        fk.name
        and (on_delete, on_update, deferrable, match)
        == (fk.on_delete, fk.on_update, fk.deferrable, fk.match)
        and type(fk.columns) is tuple
        and type(fk.ref_columns) is tuple
        and fk.written_actions is None
    ):
        return fk
    return ForeignKey(
        fk.name or names.choose(table, _joined(fk.columns), "fkey"),  # type: ignore[union-attr]
        tuple(fk.columns),
        fk.ref_table,
        tuple(fk.ref_columns),
        ref_schema=fk.ref_schema,
        on_delete=on_delete,
        on_update=on_update,
        deferrable=deferrable,
        match=match,
        validated=fk.validated,
    )


def _unquoted(key: str) -> str:
    if len(key) > 1 and key[0] == key[-1] == '"':
        return key[1:-1].replace('""', '"')
    return key


def _action(action: str | None) -> str | None:
    if action is None:
        return None
    spelled = " ".join(action.upper().split())
    return spelled if spelled in _ACTIONS else None


def normalise(schema: Schema) -> Schema:
    """``schema`` in its canonical form on PostgreSQL (idempotent; renders and reads back)."""
    return Schema(
        tables={key: normalise_table(t) for key, t in schema.tables.items()},
        enums={k: EnumType(e.name, tuple(e.values), e.schema) for k, e in schema.enums.items()},
        ignored=list(schema.ignored),
        dialect=schema.dialect,
        carried=list(schema.carried),
    )
