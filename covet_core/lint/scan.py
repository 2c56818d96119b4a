"""State a lint run carries from statement to statement and migration to migration."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Scan:
    created: set[str] = field(default_factory=set)
    """Tables created earlier in this migration: empty, so blocking them costs nothing."""
    created_before: set[str] = field(default_factory=set)
    """Tables created by an earlier migration of this run. Whether they are still new when
    this one runs is for the catalog to say (``--all`` against a database where they were
    applied long ago); a static lint takes them as new (a fresh install)."""
    validated: set[str] = field(default_factory=set)
    """Tables that had a constraint validated earlier in this run (``SET NOT NULL`` after a
    validated ``CHECK (col IS NOT NULL)`` skips the scan on PostgreSQL 12+)."""
    in_transaction: bool = True
    """The current migration runs in one transaction."""
    schema_migration: bool = False
    """The current migration also changes the schema (a backfill then holds DDL locks)."""

    def next_migration(self) -> None:
        self.created_before |= self.created
        self.created = set()

    def earlier(self, table: str | None) -> bool:
        return table is not None and table.lower() in self.created_before

    def is_new(self, table: str | None) -> bool:
        return table is not None and table.lower() in self.created
