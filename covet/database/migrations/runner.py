"""``from covet.database.migrations.runner import Migration`` (the migration file template)."""

from covet_core.migration import Migration
from covet_core.runner import MigrationResult

__all__ = ["Migration", "MigrationResult"]
