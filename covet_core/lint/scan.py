"""State a lint run carries from statement to statement and migration to migration."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Scan:
    created: set[str] = field(default_factory=set)
    """Tables created earlier in this run: empty, so blocking them costs nothing."""
    validated: set[str] = field(default_factory=set)
    """Tables that had a constraint validated earlier in this run (``SET NOT NULL`` after a
    validated ``CHECK (col IS NOT NULL)`` skips the scan on PostgreSQL 12+)."""
    in_transaction: bool = True
    """The current migration runs in one transaction."""
    schema_migration: bool = False
    """The current migration also changes the schema (a backfill then holds DDL locks)."""

    def is_new(self, table: str | None) -> bool:
        return table is not None and table.lower() in self.created
