"""The canonical form of a schema on MySQL / MariaDB, applied by the comparator to both sides.

What the server cannot tell apart is folded into one spelling:

- types: BOOLEAN is TINYINT(1); ``timestamp``/``timestamptz`` without precision render
  DATETIME(6), so they are ``timestamp(6)``; ``string`` without length is ``string(255)``;
  ``jsonb`` is ``json``; ``uuid`` renders CHAR(36) and is ``char(36)``; integer display widths
  go; an enum keeps its values inline and loses ``enum_name``.
- defaults: ``NULL`` is no default; the current time is ``CURRENT_TIMESTAMP[(fsp)]`` with the
  column's precision; numbers and booleans are plain numbers (``'0'``, ``false`` -> ``0``);
  strings are one quoted literal; other expressions are ``(expr)`` in canonical form.
- constraints: a unique index without a condition *is* a UNIQUE constraint on MySQL, so it is
  a ``UniqueConstraint``; the index InnoDB adds for a foreign key is not a user index; FK
  actions ``NO ACTION`` and ``RESTRICT`` (the same on InnoDB) are ``None``.
- names the server makes up when DDL gives none (``CONSTRAINT_1``, ``t_chk_1``, ``t_ibfk_1``,
  a UNIQUE key named after its first column, a column-level check named after its column)
  are ``None``, so a model that gave no name matches. Explicit names are kept as they are.
- check expressions and index predicates go through ``canonical_expression``, which parses
  them and prints them the way MariaDB stores them (see ``covet_dialect_mysql.expression``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from covet_core.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    EnumType,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
    kept_parts,
)
from covet_core.schema.render import sql_string, sql_string_value
from covet_dialect_mysql.expression import (
    STRING_LITERAL,
    canonical_expression,
    decode_string,
)
from covet_dialect_mysql.render import DEFAULT_TIMESTAMP_PRECISION, INTEGER_TYPES, current_timestamp

_ALIASES = {
    "int": "integer",
    "bool": "boolean",
    "varchar": "string",
    "numeric": "decimal",
    "datetime": "timestamp",
    "longblob": "binary",
    "double": "float",
    "double precision": "float",
    "jsonb": "json",
}
_TEXTUAL = frozenset(
    {"string", "char", "text", "tinytext", "mediumtext", "longtext", "enum", "set", "uuid"}
)
_NO_ACTION = frozenset({"NO ACTION", "RESTRICT"})
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_GENERATED_CHECK = re.compile(r"^(?:CONSTRAINT_\d+|.+_chk_\d+)$")
_GENERATED_FK = re.compile(r"^.+_ibfk_\d+$")
_TRUE = frozenset({"1", "true", "'1'", "b'1'", "(1)", "(true)"})
_FALSE = frozenset({"0", "false", "'0'", "b'0'"})


def normalise(schema: Schema) -> Schema:
    """``schema`` as MySQL would store it (idempotent; the result renders)."""
    enums = {e.key: e for e in schema.enums.values()} | {e.name: e for e in schema.enums.values()}
    tables = [normalise_table(t, enums) for t in schema.tables.values()]
    return Schema(
        tables={t.key: t for t in tables},
        enums={},  # MySQL's enums live inline in their columns
        ignored=list(schema.ignored),
        dialect=schema.dialect,
        carried=list(schema.carried),
    )


def normalise_table(table: Table, enums: Mapping[str, EnumType] | None = None) -> Table:
    # What is already in its canonical form is kept, not rebuilt: most of a live read is, and
    # building frozen dataclasses is most of what normalising costs.
    columns = tuple(normalise_column(c, enums or {}) for c in table.columns)
    names = {c.name.lower() for c in columns}
    # Named keys by name, then the server's t_ibfk_1, t_ibfk_2 ... in their order: created in
    # that order without a name, a copy's keys get the same numbers (and index names).
    fks = tuple(_foreign_key(f) for f in sorted(table.foreign_keys, key=_fk_order))
    uniques = [_unique(u) for u in table.unique_constraints]
    indexes = []
    for index in table.indexes:
        if is_implicit_fk_index(index, table.foreign_keys):
            continue
        if index.unique and not index.where and not index.expression:
            uniques.append(
                UniqueConstraint(
                    _unique_name(index.name, index.columns), index.columns, comment=index.comment
                )
            )
            continue
        indexes.append(_index(index))
    checks = [_check(c, names) for c in table.check_constraints]
    collation = table.collation.lower() if table.collation else None
    index_tuple = tuple(sorted(indexes, key=_order))
    unique_tuple = tuple(sorted(set(uniques), key=_order))
    check_tuple = tuple(sorted(checks, key=lambda c: (c.name or "", c.expression)))
    if (
        kept_parts(table, columns, index_tuple, unique_tuple, check_tuple, fks)
        and collation == table.collation
        and type(table.primary_key) is tuple
        and table.primary_key_name is None
        and table.comment != ""
    ):
        return table
    return replace(
        table,
        columns=columns,
        collation=collation,
        primary_key=tuple(table.primary_key),
        primary_key_name=None,  # always PRIMARY on MySQL
        comment=table.comment or None,
        indexes=index_tuple,
        unique_constraints=unique_tuple,
        check_constraints=check_tuple,
        foreign_keys=fks,
    )


def _unique(u: UniqueConstraint) -> UniqueConstraint:
    name = _unique_name(u.name, u.columns)
    plain = (u.deferrable, u.include, u.nulls_not_distinct) == (None, (), False)
    if name == u.name and type(u.columns) is tuple and plain:
        return u
    return UniqueConstraint(name, tuple(u.columns), comment=u.comment)


def _index(index: Index) -> Index:
    method = index.method.lower() if index.method else None
    where = canonical_expression(index.where) if index.where else None
    expression = canonical_expression(index.expression, keys=True) if index.expression else None
    if type(index.columns) is tuple and (method, where, expression) == (
        index.method,
        index.where,
        index.expression,
    ):
        return index
    return replace(index, columns=tuple(index.columns), method=method, where=where,
                   expression=expression)  # fmt: skip


def _check(check: CheckConstraint, names: set[str]) -> CheckConstraint:
    name = check.name
    if name is not None and (_GENERATED_CHECK.match(name) or name.lower() in names):
        name = None
    expression = canonical_expression(check.expression)
    same = (name, expression) == (check.name, check.expression)
    if same and (check.inherited, check.validated, check.no_inherit) == (False, True, False):
        return check
    return CheckConstraint(name, expression, column=check.column)


def is_implicit_fk_index(index: Index, foreign_keys: tuple[ForeignKey, ...]) -> bool:
    """True for the index InnoDB made to back a foreign key: named after the key (or after
    its first column when the key's own name was generated), on exactly its columns."""
    if index.unique or index.where or index.expression or index.method:
        return False
    for fk in foreign_keys:
        if tuple(index.columns) != tuple(fk.columns):
            continue
        if index.name == fk.name or (
            index.name == fk.columns[0] and (fk.name is None or _GENERATED_FK.match(fk.name))
        ):
            return True
    return False


def normalise_column(column: Column, enums: Mapping[str, EnumType] | None = None) -> Column:
    if column.type.name != "enum" or not enums:
        # Already canonical: this very column (not the equal one first cached), so a table
        # whose columns all are can be kept whole (normalise_table).
        normal, same = _normalise_plain(column, column.type.declared)
        return column if same else normal  # enums are the only outside input
    return _normalise_column(column, enums)


@functools.lru_cache(maxsize=8192)
def _normalise_plain(column: Column, declared: str | None) -> tuple[Column, bool]:
    # Hundreds of tables repeat the same few columns; each is frozen and hashable.
    normal = _normalise_column(column, {})
    return normal, normal is column


def _normalise_column(column: Column, enums: Mapping[str, EnumType]) -> Column:
    column_type = normalise_type(column.type, enums)
    default = None if column.autoincrement else normalise_default(column.default, column_type)
    on_update = column.on_update
    if on_update is not None:
        on_update = current_timestamp(on_update, column_type) or on_update
    normal = replace(
        column,
        type=column_type,
        default=default,
        comment=column.comment or None,
        on_update=on_update,
        collation=column.collation.lower() if column.collation else None,
        generated=canonical_expression(column.generated) if column.generated else None,
    )
    # Already canonical: itself, so that its table can be kept whole (normalise_table).
    same = normal == column and normal.type.declared == column.type.declared
    return column if same else normal


def normalise_type(
    column_type: ColumnType, enums: Mapping[str, EnumType] | None = None
) -> ColumnType:
    t = column_type
    name = _ALIASES.get(t.name.lower(), t.name.lower())
    length, precision, scale = t.length, t.precision, t.scale
    values, unsigned = tuple(t.values), t.unsigned
    if name in ("timestamp", "timestamptz"):
        name, length, scale = "timestamp", None, None
        precision = DEFAULT_TIMESTAMP_PRECISION if precision is None else precision
    elif name == "mysql_timestamp" or name == "time":
        length, scale, precision = None, None, precision or None
    elif name == "string":
        length = length or 255
    elif name == "char":
        length = length or 1
    elif name == "uuid":
        name, length = "char", 36
    elif name == "decimal":
        precision, scale = (10, 0) if precision is None else (precision, scale or 0)
    elif name == "boolean" or name in INTEGER_TYPES:
        length = precision = scale = None
    elif name == "enum":
        if not values and t.enum_name and enums and t.enum_name in enums:
            values = tuple(enums[t.enum_name].values)
        return ColumnType("enum", values=values)
    if name not in INTEGER_TYPES and name not in ("decimal", "float", "real"):
        unsigned = False
    return ColumnType(name, length, precision, scale, values, None, unsigned)


def normalise_default(default: str | None, column_type: ColumnType) -> str | None:
    if default is None:
        return None
    text = default.strip()
    if text.upper() == "NULL":
        return None
    now = current_timestamp(text, column_type)
    if now is not None:
        return now
    name = column_type.name
    literal = _literal(text)
    if name == "boolean" and text.lower() in _TRUE | _FALSE:
        return "1" if text.lower() in _TRUE else "0"
    if name in _TEXTUAL and literal is not None:
        return sql_string(literal)
    if literal is not None and _NUMBER.match(literal):
        number = _number(literal, column_type)
        if number is not None:
            return number
    if literal is not None:
        return sql_string(literal) if text[0] in "'\"" else literal
    # An expression default: MySQL 8 wants it in parentheses, MariaDB takes both.
    return f"({canonical_expression(text)})"


def _number(text: str, column_type: ColumnType) -> str | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if column_type.name in INTEGER_TYPES or column_type.name in ("boolean", "year"):
        return str(int(value)) if value == value.to_integral_value() else text
    if column_type.name == "decimal" and column_type.scale is not None:
        return str(value.quantize(Decimal(1).scaleb(-column_type.scale)))
    if column_type.name in ("float", "real"):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return None


def _literal(text: str) -> str | None:
    """The value of a literal default (a quoted string or a bare number), else ``None``.

    A single-quoted default is the schema model's ANSI form (the reader converts MySQL's);
    a double-quoted one can only have been written for MySQL, and is read as MySQL reads it.
    """
    if _NUMBER.match(text):
        return text
    value = sql_string_value(text)
    if value is not None:
        return value
    if text[:1] == '"' and STRING_LITERAL.fullmatch(text):
        return decode_string(text)
    return None


def _foreign_key(fk: ForeignKey) -> ForeignKey:
    def action(value: str | None) -> str | None:
        text = " ".join(value.upper().split()) if value else None
        return None if text is None or text in _NO_ACTION else text

    name = None if fk.name is None or _GENERATED_FK.match(fk.name) else fk.name
    on_delete, on_update = action(fk.on_delete), action(fk.on_update)
    if (
        (name, on_delete, on_update) == (fk.name, fk.on_delete, fk.on_update)
        and type(fk.columns) is tuple
        and type(fk.ref_columns) is tuple
    ):
        return fk
    return replace(  # replace(): what MySQL cannot write still reaches its renderer
        fk,
        name=name,
        columns=tuple(fk.columns),
        ref_columns=tuple(fk.ref_columns),
        on_delete=on_delete,
        on_update=on_update,
    )


def _fk_order(fk: ForeignKey) -> tuple[str, int, tuple[str, ...]]:
    generated = fk.name is not None and _GENERATED_FK.match(fk.name) is not None
    number = int(fk.name.rsplit("_", 1)[1]) if generated and fk.name else 0
    return ("" if generated else fk.name or "", number, tuple(fk.columns))


def _unique_name(name: str | None, columns: tuple[str, ...]) -> str | None:
    # MySQL names an unnamed UNIQUE key after its first column, then <column>_2, _3, ...
    if name is None or not columns:
        return name
    first = columns[0]
    return None if re.fullmatch(re.escape(first) + r"(?:_\d+)?", name) else name


def _order(item: Index | UniqueConstraint | ForeignKey) -> tuple[str, tuple[str, ...]]:
    return (item.name or "", tuple(item.columns))
