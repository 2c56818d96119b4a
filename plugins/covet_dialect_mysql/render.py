"""DDL rendering for MySQL / MariaDB (pure; every identifier through the dialect's quoting)."""

from __future__ import annotations

from covet_core.schema import Column, ColumnType, CreateTable, DropTable, Operation
from covet_dialect_mysql import quote

# InnoDB for transactions and row locks; utf8mb4 because MySQL's "utf8" is 3-byte only.
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

_FIXED = {
    "text": "TEXT",
    "integer": "INT",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",  # an alias of TINYINT(1)
    "float": "DOUBLE",  # FLOAT is single precision in MySQL
    "timestamp": "DATETIME(6)",  # no zone conversion (unlike TIMESTAMP), microseconds kept
    "date": "DATE",
    "binary": "LONGBLOB",  # BLOB stops at 64 KiB
}


def render_type(column_type: ColumnType) -> str:
    name = column_type.name
    if name == "string":
        # MySQL has no unbounded VARCHAR; 255 is the conventional portable default.
        return f"VARCHAR({column_type.length or 255})"
    if name == "decimal":
        if column_type.precision is None:
            return "DECIMAL"  # the server's default, DECIMAL(10,0)
        return f"DECIMAL({column_type.precision},{column_type.scale or 0})"
    try:
        return _FIXED[name]
    except KeyError:
        raise ValueError(f"MySQL has no mapping for portable type {name!r}") from None


def _name(name: str, schema: str | None) -> str:
    # In MySQL a schema is a database: `db`.`table`.
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def _column(column: Column) -> str:
    sql = f"{quote(column.name)} {render_type(column.type)}"
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
            parts.append(f"PRIMARY KEY ({', '.join(quote(c) for c in table.primary_key)})")
        exists = "IF NOT EXISTS " if operation.if_not_exists else ""
        body = ",\n    ".join(parts)
        name = _name(table.name, table.schema)
        return [f"CREATE TABLE {exists}{name} (\n    {body}\n) {TABLE_OPTIONS}"]
    if isinstance(operation, DropTable):
        exists = "IF EXISTS " if operation.if_exists else ""
        return [f"DROP TABLE {exists}{_name(operation.name, operation.schema)}"]
    return None
