"""DDL rendering for PostgreSQL (pure; every identifier through the dialect's quoting)."""

from __future__ import annotations

from covet_core.dialect import quote_ansi
from covet_core.schema import Column, ColumnType, CreateTable, DropTable, Operation

_FIXED = {
    "text": "TEXT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "float": "DOUBLE PRECISION",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
    "binary": "BYTEA",
}


def render_type(column_type: ColumnType) -> str:
    name = column_type.name
    if name == "string":
        return f"VARCHAR({column_type.length})" if column_type.length else "VARCHAR"
    if name == "decimal":
        if column_type.precision is None:
            return "NUMERIC"
        return f"NUMERIC({column_type.precision}, {column_type.scale or 0})"
    try:
        return _FIXED[name]
    except KeyError:
        raise ValueError(f"PostgreSQL has no mapping for portable type {name!r}") from None


def _name(name: str, schema: str | None) -> str:
    return f"{quote_ansi(schema)}.{quote_ansi(name)}" if schema else quote_ansi(name)


def _column(column: Column) -> str:
    sql = f"{quote_ansi(column.name)} {render_type(column.type)}"
    if not column.nullable:
        sql += " NOT NULL"
    if column.default is not None:
        sql += f" DEFAULT {column.default}"
    return sql


def render(operation: Operation) -> list[str] | None:
    if isinstance(operation, CreateTable):
        table = operation.table
        parts = [_column(c) for c in table.columns]
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(quote_ansi(c) for c in table.primary_key)})")
        exists = "IF NOT EXISTS " if operation.if_not_exists else ""
        body = ",\n    ".join(parts)
        return [f"CREATE TABLE {exists}{_name(table.name, table.schema)} (\n    {body}\n)"]
    if isinstance(operation, DropTable):
        exists = "IF EXISTS " if operation.if_exists else ""
        return [f"DROP TABLE {exists}{_name(operation.name, operation.schema)}"]
    return None
