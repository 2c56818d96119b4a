"""DDL rendering for MySQL / MariaDB: the default renderer, overriding what MySQL spells
differently (pure; every identifier through the dialect's quoting)."""

from __future__ import annotations

from covet_core.schema.render import DdlRenderer
from covet_dialect_mysql import quote

# InnoDB for transactions and row locks; utf8mb4 because MySQL's "utf8" is 3-byte only.
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"


class MySQLRenderer(DdlRenderer):
    dialect_name = "MySQL"
    table_options = TABLE_OPTIONS
    types = {
        "text": "TEXT",
        "integer": "INT",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",  # an alias of TINYINT(1)
        "float": "DOUBLE",  # FLOAT is single precision in MySQL
        "timestamp": "DATETIME(6)",
        "timestamptz": "DATETIME(6)",  # no zone conversion (unlike TIMESTAMP), microseconds kept
        "date": "DATE",
        "binary": "LONGBLOB",  # BLOB stops at 64 KiB
    }

    def string_type(self, length: int | None) -> str:
        # MySQL has no unbounded VARCHAR; 255 is the conventional portable default.
        return f"VARCHAR({length or 255})"

    def decimal_type(self, precision: int | None, scale: int | None) -> str:
        if precision is None:
            return "DECIMAL"  # the server's default, DECIMAL(10,0)
        return f"DECIMAL({precision},{scale or 0})"


RENDERER = MySQLRenderer(quote)
render = RENDERER.render
render_type = RENDERER.render_type
