"""``from covet.database.adapters.postgresql import PostgreSQLAdapter``."""

from covet_dialect_postgresql.adapter import PostgreSQLAdapter

__all__ = ["PostgreSQLAdapter"]
