"""Backups taken before migrating: the strategy protocol and what a backup reports.

Strategies are registered by plugins through ``covet_register_backup_strategies`` and chosen
by name. A backup that was asked for and cannot be made stops the run before any migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class BackupInfo:
    """One backup file, as passed to ``covet_backup_created``."""

    path: Path
    strategy: str
    database: str
    created_at: datetime
    size: int
    label: str = ""
    sha256: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class BackupStrategy(Protocol):
    """What ``factory(adapter=, dialect=, options=, plugins=)`` of a backup strategy returns."""

    async def create(self, directory: Path, label: str) -> BackupInfo:
        """Write a backup into ``directory`` (file mode 0600); ``label`` names the next migration."""
