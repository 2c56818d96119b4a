"""``from covet.database.migrations.data_migrations import DataMigration`` (the guide's path)."""

from covet_core.data import (
    AdapterBusy,
    BulkDataMigration,
    DataMigration,
    DataMigrationError,
    ParallelDataMigration,
    Progress,
)

__all__ = [
    "AdapterBusy",
    "BulkDataMigration",
    "DataMigration",
    "DataMigrationError",
    "ParallelDataMigration",
    "Progress",
]
