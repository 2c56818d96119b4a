"""The pieces of a comparison that need no plan: matching indexes and constraints by name or
shape, and the enum changes PostgreSQL can make in place."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from covet_core.schema.model import (
    CheckConstraint,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_core.schema.operations import AddEnumValue, CreateEnum, DropEnum, Operation

T = TypeVar("T")


def enum_changes(current: Schema, target: Schema, warnings: list[str]) -> list[Operation]:
    """New enum types, and labels added to existing ones (PostgreSQL cannot drop or reorder
    labels in place: that is a warning, not an operation)."""
    ops: list[Operation] = []
    for key, enum in sorted(target.enums.items()):
        old = current.enums.get(key)
        if old is None:
            ops.append(CreateEnum(enum))
            continue
        if old.values == enum.values:
            continue
        if not is_subsequence(old.values, enum.values):
            warnings.append(
                f"enum {key} loses or reorders values ({', '.join(old.values)} -> "
                f"{', '.join(enum.values)}): PostgreSQL cannot do that in place; write it by hand"
            )
            continue
        state = old
        for i, value in enumerate(enum.values):
            if value in old.values:
                continue
            following = next((v for v in enum.values[i + 1 :] if v in old.values), None)
            ops.append(AddEnumValue(state, value, before=following))
            state = replace(state, values=_insert(state.values, value, following))
    return ops


def without_enum_labels(schema: Schema) -> Schema:
    def strip(table: Table) -> Table:
        if not any(c.type.enum_name and c.type.values for c in table.columns):
            return table
        columns = tuple(
            replace(c, type=replace(c.type, values=())) if c.type.enum_name else c
            for c in table.columns
        )
        return replace(table, columns=columns)

    tables = {k: strip(t) for k, t in schema.tables.items()}
    return replace(schema, tables=tables)


def dropped_enums(current: Schema, target: Schema) -> list[Operation]:
    return [DropEnum(e) for k, e in sorted(current.enums.items()) if k not in target.enums]


def column_is_keyed(table: Table, column: str) -> bool:
    """Whether a key, an index or a constraint uses ``column`` (SQLite then refuses to drop
    it in place). Expressions are searched as text: a false yes only costs a rebuild."""
    word = re.compile(rf"(?<![\w$]){re.escape(column)}(?![\w$])", re.IGNORECASE)
    texts = [c.expression for c in table.check_constraints]
    texts += [t for i in table.indexes for t in (i.where, i.expression) if t]
    return (
        column in table.primary_key
        or any(column in i.columns for i in table.indexes)
        or any(column in u.columns for u in table.unique_constraints)
        or any(column in f.columns for f in table.foreign_keys)
        or any(word.search(text) for text in texts)
    )


_CONSTANT = re.compile(
    r"(?is)\s*(null|true|false|[-+]?\d+(\.\d*)?([eE][-+]?\d+)?|'([^']|'')*'|x'[0-9a-f]*')\s*"
)


def is_constant(default: str | None) -> bool:
    """A literal default (SQLite's ADD COLUMN accepts nothing else)."""
    return default is None or _CONSTANT.fullmatch(default) is not None


def is_subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    it = iter(long)
    return all(any(v == w for w in it) for v in short)


def _insert(values: tuple[str, ...], value: str, before: str | None) -> tuple[str, ...]:
    if before is None:
        return (*values, value)
    at = values.index(before)
    return (*values[:at], value, *values[at:])


def index_shape(i: Index) -> object:
    return (i.columns, i.unique, i.where, i.expression, i.method, i.include, i.nulls_not_distinct)


def unique_shape(u: UniqueConstraint) -> object:
    return u.columns


def check_shape(c: CheckConstraint) -> object:
    return c.expression


def fk_shape(f: ForeignKey) -> object:
    return (
        f.columns, f.ref_schema, f.ref_table, f.ref_columns, f.on_delete, f.on_update,
        f.deferrable, f.match,
    )  # fmt: skip


def match(
    current: Sequence[T], target: Sequence[T], shape: Callable[[T], object]
) -> tuple[list[T], list[T]]:
    """Items to drop and to add. Equal items match; so do items of the same shape whose names
    differ (a name change alone is not worth a migration); a name whose shape changed is
    dropped and added again."""
    left = list(current)
    missing = []
    for item in target:
        if item in left:
            left.remove(item)
        else:
            missing.append(item)
    adds = []
    for item in missing:
        same = next((c for c in left if shape(c) == shape(item)), None)
        if same is not None:
            left.remove(same)
        else:
            adds.append(item)
    return left, adds
