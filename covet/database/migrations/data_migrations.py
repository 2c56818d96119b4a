"""``from covet.database.migrations.data_migrations import DataMigration`` (the guide's path)."""

from covet_core.data import (
    BulkDataMigration,
    DataMigration,
    DataMigrationError,
    ParallelDataMigration,
    Progress,
)

__all__ = [
    "BulkDataMigration",
    "DataMigration",
    "DataMigrationError",
    "ParallelDataMigration",
    "Progress",
]
