"""``from covet.database.adapters.mysql import MySQLAdapter``."""

from covet_dialect_mysql.adapter import MySQLAdapter

__all__ = ["MySQLAdapter"]
