"""Schema-change operations: frozen data that says *what* changes, never *how* it renders.

Rendering is the dialect's job, through the ``covet_render_operation`` hook. Every operation
knows its ``reverse()``; one that loses data when undone or applied says so with
``destructive`` (a dropped column comes back empty), and the generator refuses to write a
runnable backward for those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from covet_core.schema.model import (
    CarriedObject,
    CheckConstraint,
    Column,
    Constraint,
    EnumType,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
    qualified_name,
)


@dataclass(frozen=True)
class Operation:
    """Base of every schema operation."""

    undo: Operation | None = field(default=None, kw_only=True, compare=False, repr=False)
    """How to undo this operation's group when its plain ``reverse()`` is not something the
    dialect can do in place (an ``ADD COLUMN`` on a dialect without ``DROP COLUMN``): the
    comparator sets one ``RebuildTable`` on every operation of the table's group, and the
    generator writes it once."""

    destructive = False
    """Applying it loses data (dropping a column or table, narrowing a type)."""

    def reverse(self) -> Operation:
        raise NotImplementedError(f"{type(self).__name__} has no reverse")

    def describe(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class CreateTable(Operation):
    table: Table
    if_not_exists: bool = False

    def reverse(self) -> DropTable:
        return DropTable(self.table.name, schema=self.table.schema, table=self.table)

    def describe(self) -> str:
        return f"create table {self.table.key} ({len(self.table.columns)} columns)"


@dataclass(frozen=True)
class DropTable(Operation):
    name: str
    schema: str | None = None
    if_exists: bool = False
    table: Table | None = None
    """The definition being dropped, so the reverse can recreate it (without its rows)."""

    destructive = True

    def reverse(self) -> CreateTable:
        if self.table is None:
            raise NotImplementedError(f"dropping {self.name} cannot be reversed: no definition")
        return CreateTable(self.table)

    def describe(self) -> str:
        return f"drop table {qualified_name(self.name, self.schema)}"


@dataclass(frozen=True)
class RenameTable(Operation):
    old: str
    new: str
    schema: str | None = None

    def reverse(self) -> RenameTable:
        return RenameTable(self.new, self.old, self.schema)

    def describe(self) -> str:
        return f"rename table {qualified_name(self.old, self.schema)} to {self.new}"


@dataclass(frozen=True)
class AddColumn(Operation):
    table: str
    column: Column
    schema: str | None = None

    def reverse(self) -> DropColumn:
        return DropColumn(self.table, self.column, self.schema)

    def describe(self) -> str:
        return f"add column {qualified_name(self.table, self.schema)}.{self.column.name}"


@dataclass(frozen=True)
class DropColumn(Operation):
    table: str
    column: Column
    schema: str | None = None

    destructive = True

    def reverse(self) -> AddColumn:
        return AddColumn(self.table, self.column, self.schema)

    def describe(self) -> str:
        return f"drop column {qualified_name(self.table, self.schema)}.{self.column.name}"


@dataclass(frozen=True)
class AlterColumn(Operation):
    """Change a column's type, nullability, default or comment (``before`` -> ``after``;
    the names are equal: renames are ``RenameColumn``)."""

    table: str
    before: Column
    after: Column
    schema: str | None = None

    @property
    def name(self) -> str:
        return self.after.name

    @property
    def type_changed(self) -> bool:
        return self.before.type != self.after.type

    @property
    def nullable_changed(self) -> bool:
        return self.before.nullable != self.after.nullable

    @property
    def default_changed(self) -> bool:
        return self.before.default != self.after.default

    @property
    def comment_changed(self) -> bool:
        return self.before.comment != self.after.comment

    @property
    def autoincrement_changed(self) -> bool:
        return self.before.autoincrement != self.after.autoincrement

    @property
    def destructive(self) -> bool:  # type: ignore[override]
        # A type change may truncate or fail on existing values; say so rather than guess.
        return self.type_changed

    def reverse(self) -> AlterColumn:
        return AlterColumn(self.table, self.after, self.before, self.schema)

    def describe(self) -> str:
        changes = []
        if self.type_changed:
            changes.append(f"type {self.before.type} -> {self.after.type}")
        if self.nullable_changed:
            changes.append("NULL allowed" if self.after.nullable else "NOT NULL")
        if self.default_changed:
            changes.append(f"default {self.before.default} -> {self.after.default}")
        if self.autoincrement_changed:
            changes.append("auto-increment" if self.after.autoincrement else "no auto-increment")
        if self.comment_changed:
            changes.append("comment")
        where = f"{qualified_name(self.table, self.schema)}.{self.name}"
        return f"alter column {where}: {', '.join(changes)}"


@dataclass(frozen=True)
class RenameColumn(Operation):
    table: str
    old: str
    new: str
    schema: str | None = None

    def reverse(self) -> RenameColumn:
        return RenameColumn(self.table, self.new, self.old, self.schema)

    def describe(self) -> str:
        return f"rename column {qualified_name(self.table, self.schema)}.{self.old} to {self.new}"


@dataclass(frozen=True)
class CreateIndex(Operation):
    table: str
    index: Index
    schema: str | None = None

    def reverse(self) -> DropIndex:
        return DropIndex(self.table, self.index, self.schema)

    def describe(self) -> str:
        kind = "unique index" if self.index.unique else "index"
        cols = ", ".join(self.index.columns) or self.index.expression or ""
        return (
            f"create {kind} {self.index.name} on {qualified_name(self.table, self.schema)} ({cols})"
        )


@dataclass(frozen=True)
class DropIndex(Operation):
    table: str
    index: Index
    schema: str | None = None

    def reverse(self) -> CreateIndex:
        return CreateIndex(self.table, self.index, self.schema)

    def describe(self) -> str:
        return f"drop index {self.index.name} on {qualified_name(self.table, self.schema)}"


def _constraint_text(constraint: Constraint) -> str:
    if isinstance(constraint, ForeignKey):
        return (
            f"foreign key ({', '.join(constraint.columns)}) -> "
            f"{constraint.ref_table}({', '.join(constraint.ref_columns)})"
        )
    if isinstance(constraint, UniqueConstraint):
        return f"unique ({', '.join(constraint.columns)})"
    if isinstance(constraint, CheckConstraint):
        return f"check ({constraint.expression})"
    return repr(constraint)


@dataclass(frozen=True)
class AddConstraint(Operation):
    table: str
    constraint: Constraint
    schema: str | None = None

    def reverse(self) -> DropConstraint:
        return DropConstraint(self.table, self.constraint, self.schema)

    def describe(self) -> str:
        name = f" {self.constraint.name}" if self.constraint.name else ""
        where = qualified_name(self.table, self.schema)
        return f"add constraint{name} on {where}: {_constraint_text(self.constraint)}"


@dataclass(frozen=True)
class DropConstraint(Operation):
    table: str
    constraint: Constraint
    schema: str | None = None

    def reverse(self) -> AddConstraint:
        return AddConstraint(self.table, self.constraint, self.schema)

    def describe(self) -> str:
        name = f" {self.constraint.name}" if self.constraint.name else ""
        where = qualified_name(self.table, self.schema)
        return f"drop constraint{name} on {where}: {_constraint_text(self.constraint)}"


@dataclass(frozen=True)
class CreateEnum(Operation):
    enum: EnumType

    def reverse(self) -> DropEnum:
        return DropEnum(self.enum)

    def describe(self) -> str:
        return f"create enum type {self.enum.key} ({', '.join(self.enum.values)})"


@dataclass(frozen=True)
class DropEnum(Operation):
    enum: EnumType

    def reverse(self) -> CreateEnum:
        return CreateEnum(self.enum)

    def describe(self) -> str:
        return f"drop enum type {self.enum.key}"


@dataclass(frozen=True)
class AddEnumValue(Operation):
    """``ALTER TYPE ... ADD VALUE``. PostgreSQL cannot drop an enum value, so the reverse is
    not available: undoing it means recreating the type."""

    enum: EnumType
    """The type *before* the value is added."""
    value: str
    before: str | None = None
    """Insert the new label before this existing one (``None``: at the end)."""

    def reverse(self) -> Operation:
        raise NotImplementedError(
            f"PostgreSQL cannot remove value {self.value!r} from enum {self.enum.key}"
        )

    def describe(self) -> str:
        return f"add value {self.value!r} to enum type {self.enum.key}"


@dataclass(frozen=True)
class RebuildTable(Operation):
    """Recreate a table as ``after`` and copy its rows: SQLite's documented way to make the
    changes its ALTER TABLE cannot (alter or drop a column, add or drop a constraint).

    ``column_map`` maps each column of ``after`` that takes its values from ``before`` to the
    old column's name; a column absent from it gets its default.
    """

    before: Table
    after: Table
    column_map: tuple[tuple[str, str], ...]
    changes: tuple[Operation, ...] = ()
    """The changes this rebuild stands for, for summaries and to judge data loss."""

    @property
    def destructive(self) -> bool:  # type: ignore[override]
        kept = {old for _, old in self.column_map}
        return any(c.name not in kept for c in self.before.columns) or any(
            op.destructive for op in self.changes
        )

    def reverse(self) -> RebuildTable:
        return RebuildTable(
            self.after,
            self.before,
            tuple((old, new) for new, old in self.column_map),
            tuple(op.reverse() for op in reversed(self.changes)),
        )

    def describe(self) -> str:
        inner = "; ".join(op.describe() for op in self.changes) or "rebuild"
        return f"rebuild table {self.after.key} ({inner})"


def operation_fields(operation: Operation) -> dict[str, Any]:
    return {k: getattr(operation, k) for k in operation.__dataclass_fields__}


@dataclass(frozen=True)
class CreateObject(Operation):
    """Create a carried object with the server's own statement (an extension, a domain)."""

    obj: CarriedObject

    def reverse(self) -> DropObject:
        return DropObject(self.obj)

    def describe(self) -> str:
        return f"create {self.obj}"


@dataclass(frozen=True)
class DropObject(Operation):
    obj: CarriedObject

    def reverse(self) -> CreateObject:
        return CreateObject(self.obj)

    def describe(self) -> str:
        return f"drop {self.obj}"


@dataclass(frozen=True)
class ReplaceObject(Operation):
    """A carried object whose definition differs (a view, a function, a trigger): the old one
    replaced by the new, in place where the dialect can (``CREATE OR REPLACE``), else dropped
    and created again; undone by putting the old definition back."""

    old: CarriedObject
    new: CarriedObject

    def reverse(self) -> ReplaceObject:
        return ReplaceObject(self.new, self.old)

    def describe(self) -> str:
        return f"replace {self.new}"


@dataclass(frozen=True)
class AlterObject(Operation):
    """A carried object created before the tables (a sequence, a domain) whose definition
    differs and that the dialect alters in place (``Dialect.alter_carried``): dropping it
    would take what uses it along. ``statements`` make ``old`` into ``new``; ``backward``
    makes ``new`` back into ``old``."""

    old: CarriedObject
    new: CarriedObject
    statements: tuple[str, ...]
    backward: tuple[str, ...]

    def reverse(self) -> AlterObject:
        return AlterObject(self.new, self.old, self.backward, self.statements)

    def describe(self) -> str:
        return f"alter {self.new}"
