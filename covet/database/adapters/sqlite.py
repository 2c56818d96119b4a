"""``from covet.database.adapters.sqlite import SQLiteAdapter``."""

from covet_dialect_sqlite.adapter import SQLiteAdapter

__all__ = ["SQLiteAdapter"]
