"""``from covet.database.migrations import MigrationManager``."""

from covet_core.manager import MigrationManager, MigrationStatus
from covet_core.migration import Migration

__all__ = ["Migration", "MigrationManager", "MigrationStatus"]
