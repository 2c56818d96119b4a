"""The default DDL renderer: ANSI SQL that a dialect subclasses, overriding only what differs.

Alembic's split (``ddl/impl.py`` and a small ``ddl/postgresql.py``): the dialect plugin owns a
``DdlRenderer`` subclass with its quoting function, its type names and its table options, and
returns ``renderer.render(operation)`` from its ``covet_render_operation`` hook. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from covet_core.schema.model import Column, ColumnType
from covet_core.schema.operations import CreateTable, DropTable, Operation


class DdlRenderer:
    dialect_name: ClassVar[str] = "ansi"
    types: ClassVar[Mapping[str, str]] = {}
    """Portable type name -> SQL type, for types without length or precision."""
    table_options: ClassVar[str] = ""
    """Appended after a CREATE TABLE's closing parenthesis (e.g. ``ENGINE=InnoDB``)."""

    def __init__(self, quote: Callable[[str], str]) -> None:
        self.quote = quote

    # -- pieces a dialect overrides ---------------------------------------------------------

    def string_type(self, length: int | None) -> str:
        return f"VARCHAR({length})" if length else "VARCHAR"

    def decimal_type(self, precision: int | None, scale: int | None) -> str:
        return f"NUMERIC({precision}, {scale or 0})" if precision is not None else "NUMERIC"

    def render_type(self, column_type: ColumnType) -> str:
        if column_type.name == "string" and "string" not in self.types:
            return self.string_type(column_type.length)
        if column_type.name == "decimal" and "decimal" not in self.types:
            return self.decimal_type(column_type.precision, column_type.scale)
        try:
            return self.types[column_type.name]
        except KeyError:
            raise ValueError(
                f"{self.dialect_name} has no mapping for portable type {column_type.name!r}"
            ) from None

    # -- shared rendering ---------------------------------------------------------------------

    def table_name(self, name: str, schema: str | None) -> str:
        return f"{self.quote(schema)}.{self.quote(name)}" if schema else self.quote(name)

    def column(self, column: Column) -> str:
        sql = f"{self.quote(column.name)} {self.render_type(column.type)}"
        if not column.nullable:
            sql += " NOT NULL"
        if column.default is not None:
            sql += f" DEFAULT {column.default}"
        return sql

    def create_table(self, operation: CreateTable) -> list[str]:
        table = operation.table
        parts = [self.column(c) for c in table.columns]
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(self.quote(c) for c in table.primary_key)})")
        exists = "IF NOT EXISTS " if operation.if_not_exists else ""
        body = ",\n    ".join(parts)
        options = f" {self.table_options}" if self.table_options else ""
        name = self.table_name(table.name, table.schema)
        return [f"CREATE TABLE {exists}{name} (\n    {body}\n){options}"]

    def drop_table(self, operation: DropTable) -> list[str]:
        exists = "IF EXISTS " if operation.if_exists else ""
        return [f"DROP TABLE {exists}{self.table_name(operation.name, operation.schema)}"]

    def render(self, operation: Operation) -> list[str] | None:
        """Statements for ``operation``, or ``None`` when this renderer does not know it."""
        if isinstance(operation, CreateTable):
            return self.create_table(operation)
        if isinstance(operation, DropTable):
            return self.drop_table(operation)
        return None
