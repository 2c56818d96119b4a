"""The canonical form of a schema on SQLite, applied by the comparator to both sides.

What SQLite cannot tell apart, or never stores, is folded to one form:

- types: an enum is the VARCHAR of its longest label (TEXT without labels); no unsigned; a
  binary has no length; ``decimal(p)`` is ``decimal(p, 0)``; an auto-increment key is
  ``integer`` (SQLite allows AUTOINCREMENT only on INTEGER PRIMARY KEY).
- nullability: a single-column integer primary key is the rowid and never NULL.
- defaults: outer parentheses dropped (SQLite reports ``DEFAULT (x)`` as ``x``), ``NULL`` is no
  default, TRUE / FALSE are 1 / 0, ``now()`` / ``datetime('now')`` are CURRENT_TIMESTAMP (same
  for date / time), and where the column's affinity makes them the same stored value, ``'5'``
  and ``5`` are one spelling (a number on INTEGER / REAL / NUMERIC affinity, a string on TEXT).
- expressions (CHECK, index WHERE and key expressions): one spelling by tokens, see
  :func:`covet_dialect_sqlite.sqlcanon.canonical_tokens` (literals are never touched).
- comments are dropped (SQLite has none); enum types are gone (their labels live in columns).
- names: SQLite generates none. A constraint written without a name reads back as ``None``;
  explicit names survive the round trip and are compared as they are.
- indexes and constraints are sorted by name, then columns.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace

from covet_core.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
    kept_parts,
)
from covet_dialect_sqlite.render import INTEGER_TYPES, render_type
from covet_dialect_sqlite.sqlcanon import canonical_expression, canonical_tokens, strip_outer_parens
from covet_dialect_sqlite.sqltext import NUMBER, OP, STRING, WORD, tokenize

_INTEGER = re.compile(r"^[+-]?\d+$")
_NOW = {
    "now()": "CURRENT_TIMESTAMP",
    "datetime('now')": "CURRENT_TIMESTAMP",
    "date('now')": "CURRENT_DATE",
    "time('now')": "CURRENT_TIME",
}


def normalise(schema: Schema) -> Schema:
    """Idempotent; the result renders with this plugin's renderer and reads back equal."""
    return Schema(
        tables={key: normalise_table(t) for key, t in schema.tables.items()},
        enums={},
        ignored=list(schema.ignored),
        dialect=schema.dialect,
        carried=list(schema.carried),
    )


def affinity(column_type: ColumnType) -> str:
    """SQLite's column affinity for the type as this plugin declares it (datatype3.html)."""
    declared = render_type(column_type).upper()
    if "INT" in declared:
        return "INTEGER"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in declared or not declared:
        return "BLOB"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def normalise_type(column_type: ColumnType, autoincrement: bool = False) -> ColumnType:
    name = column_type.name
    if name == "enum":
        longest = max((len(v) for v in column_type.values), default=0)
        return ColumnType("string", length=longest) if longest else ColumnType("text")
    if autoincrement and name in INTEGER_TYPES:
        return ColumnType("integer")
    # replace(), not a new ColumnType: the declared spelling travels with the type.
    if name == "binary":
        return replace(column_type, length=None)
    if name == "decimal" and column_type.precision is not None and column_type.scale is None:
        return replace(column_type, scale=0)
    if column_type.unsigned:
        return replace(column_type, unsigned=False)
    return column_type


@functools.lru_cache(maxsize=8192)
def normalise_default(default: str | None, column_type: ColumnType) -> str | None:
    if default is None:
        return None
    tokens = strip_outer_parens(tokenize(default))
    if not tokens or (len(tokens) == 1 and tokens[0].kind == WORD and tokens[0].is_word("NULL")):
        return None
    if len(tokens) == 1 and tokens[0].is_word("TRUE", "FALSE"):
        return "1" if tokens[0].is_word("TRUE") else "0"
    text = canonical_tokens(tokens)
    if text.lower() in _NOW:
        return _NOW[text.lower()]
    kind = affinity(column_type)
    signed = len(tokens) == 2 and tokens[0].kind == OP and tokens[0].value in "+-"
    number = (len(tokens) == 1 or signed) and tokens[-1].kind == NUMBER
    if number and _INTEGER.match(text.replace(" ", "")):
        value = str(int(text.replace(" ", "")))
        return "'" + value + "'" if kind == "TEXT" else value
    if len(tokens) == 1 and tokens[0].kind == STRING and kind in ("INTEGER", "REAL", "NUMERIC"):
        inner = tokens[0].name.strip()
        if _INTEGER.match(inner):
            return str(int(inner))
    return text


def normalise_table(table: Table) -> Table:
    # What is already in its canonical form is kept, not rebuilt: most of a live read is, and
    # building frozen dataclasses is most of what normalising costs.
    pk = table.primary_key
    rowid_name = pk[0] if len(pk) == 1 else None
    columns = tuple(_column(c, c.name == rowid_name) for c in table.columns)
    # Copied only when there is something to spell canonically: most indexes and keys are
    # as they will stay, and copying each was a fifth of comparing 1,000 tables.
    indexes = [
        replace(
            index,
            where=canonical_expression(index.where) if index.where else None,
            expression=canonical_expression(index.expression) if index.expression else None,
        )
        if index.where or index.expression
        else index
        for index in table.indexes
    ]
    checks = [_check(c) for c in table.check_constraints]
    fks = tuple(
        fk
        if (fk.on_delete, fk.on_update) == (_action(fk.on_delete), _action(fk.on_update))
        else replace(fk, on_delete=_action(fk.on_delete), on_update=_action(fk.on_update))
        for fk in table.foreign_keys
    )
    index_tuple = tuple(sorted(indexes, key=_index_key))
    unique_tuple = tuple(sorted(table.unique_constraints, key=_unique_key))
    check_tuple = tuple(sorted(checks, key=lambda c: (c.name or "", c.expression)))
    if table.comment is None and kept_parts(
        table, columns, index_tuple, unique_tuple, check_tuple, fks
    ):
        return table
    return replace(
        table,
        columns=columns,
        comment=None,
        indexes=index_tuple,
        unique_constraints=unique_tuple,
        check_constraints=check_tuple,
        # In written order, not sorted: a copy then lists its keys as the original does.
        foreign_keys=fks,
    )


def _column(column: Column, key_column: bool) -> Column:
    # The cache compares columns as the model does; what it does not compare but a copy
    # writes (the declared type, NOT NULL and the default as written) is part of its key.
    normal, same = _normalise_column(
        column,
        key_column,
        column.type.declared,
        column.written_not_null,
        column.written_default,
        column.autoincrement_kind,
        column.sequence_options,
    )
    # Already canonical: this very column (not the equal one first cached), so a table whose
    # columns all are can be kept whole.
    return column if same else normal


@functools.lru_cache(maxsize=8192)
def _normalise_column(column: Column, key_column: bool, *_: object) -> tuple[Column, bool]:
    column_type = normalise_type(column.type, column.autoincrement)
    # Only a key declared exactly INTEGER is the rowid (INT PRIMARY KEY may hold NULL).
    declared = (column_type.declared or "INTEGER").upper()
    rowid = key_column and column_type.name == "integer" and declared == "INTEGER"
    normal = Column(  # a constructor, not replace(): cheaper, and it drops what SQLite lacks
        column.name,
        column_type,
        nullable=column.nullable and not rowid,
        default=normalise_default(column.default, column_type),
        autoincrement=column.autoincrement,
        on_update=column.on_update,
        # SQLite's collation names are case-insensitive: NOCASE and nocase are one.
        collation=column.collation.upper() if column.collation else None,
        autoincrement_kind=column.autoincrement_kind,
        sequence_options=column.sequence_options,
        written_not_null=column.written_not_null,
        written_default=column.written_default,
        generated=canonical_expression(column.generated) if column.generated else None,
        stored=column.stored,
    )
    same = (
        normal == column and column_type.declared == column.type.declared and not column.inherited
    )
    return normal, same


def _check(check: CheckConstraint) -> CheckConstraint:
    expression = canonical_expression(check.expression)
    plain = (check.inherited, check.validated, check.column, check.no_inherit)
    if expression == check.expression and plain == (False, True, None, False):
        return check
    return CheckConstraint(check.name, expression)


def _action(action: str | None) -> str | None:
    if action is None:
        return None
    action = " ".join(action.upper().split())
    return None if action == "NO ACTION" else action


def _index_key(index: Index) -> tuple[str, tuple[str, ...], str]:
    return (index.name, index.columns, index.expression or "")


def _unique_key(unique: UniqueConstraint) -> tuple[str, tuple[str, ...]]:
    return (unique.name or "", unique.columns)


def _fk_key(fk: ForeignKey) -> tuple[str, tuple[str, ...], str]:
    return (fk.name or "", fk.columns, fk.ref_table)
