"""``from covet.database.migrations import MigrationManager``."""

from covet_core.manager import MigrationManager, MigrationStatus
from covet_core.migration import Migration
from covet_core.schema.generator import MigrationGenerator

__all__ = ["Migration", "MigrationGenerator", "MigrationManager", "MigrationStatus"]
