"""Data migrations: batched, resumable transforms of table rows (see ``migration``)."""

from covet_core.data.migration import BulkDataMigration, DataMigration, DataMigrationError
from covet_core.data.overlap import AdapterBusy
from covet_core.data.parallel import ParallelDataMigration
from covet_core.data.progress import Progress

__all__ = [
    "AdapterBusy",
    "BulkDataMigration",
    "DataMigration",
    "DataMigrationError",
    "ParallelDataMigration",
    "Progress",
]
