"""The manager's backup methods: take one (before applying, or on demand), list, restore."""

from __future__ import annotations

import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from covet_core.backup import (
    MANIFEST_SUFFIX,
    SKIP_HINT,
    BackupInfo,
    BackupStrategy,
    apply_retention,
    list_backups,
    read_manifest,
    verify,
)
from covet_core.errors import BackupError, CovetError
from covet_core.log import get_logger

if TYPE_CHECKING:
    from covet_core.adapter import Adapter
    from covet_core.dialect import Dialect
    from covet_core.plugins import Plugins

log = get_logger()


class BackupMethods:
    """Mixed into ``MigrationManager``, which provides these attributes."""

    adapter: Adapter
    dialect: Dialect
    plugins: Plugins
    backup_name: str | None
    backup_dir: Path
    backup_keep: int | None

    if TYPE_CHECKING:  # provided by MigrationManager

        def locked(self) -> AbstractAsyncContextManager[None]: ...

    def _backup_name(self) -> str:
        name = self.backup_name or self.dialect.default_backup
        if name is None:
            raise BackupError(
                f"a backup was requested but no backup strategy is installed for dialect "
                f"{self.dialect.name!r}; {SKIP_HINT}"
            )
        self.plugins.backup_strategies.get(name)
        return name

    def backup_strategy(self, name: str | None = None) -> BackupStrategy:
        """The configured (or named) backup strategy, bound to this manager's database."""
        name = name or self._backup_name()
        factory = self.plugins.backup_strategies.get(name)
        strategy: BackupStrategy = factory(
            adapter=self.adapter, dialect=self.dialect, options={"name": name}, plugins=self.plugins
        )
        return strategy

    async def backup(self, label: str = "") -> BackupInfo:
        """Take a backup now (also what ``enable_backup`` does before applying migrations).

        Fails closed: any failure is a ``BackupError`` and leaves no half-written file.
        Then ``covet_backup_created`` runs, and retention keeps the newest ``backup_keep``.
        """
        name = self._backup_name()
        try:
            info = await self.backup_strategy(name).create(self.backup_dir, label)
        except CovetError:
            raise
        except Exception as exc:
            raise BackupError(f"backup with {name!r} failed ({exc}); {SKIP_HINT}") from exc
        log.info("backup.created", path=str(info.path), size=info.size, strategy=name)
        self.plugins.backup_created(info)
        if self.backup_keep:
            for old in apply_retention(self.backup_dir, self.backup_keep):
                log.info("backup.removed", path=str(old.path), reason="retention")
        return info

    def list_backups(self) -> list[BackupInfo]:
        """Backups in ``backup_dir`` (those with a manifest), newest first."""
        return list_backups(self.backup_dir)

    async def restore_backup(
        self, path: str | os.PathLike[str], target: Adapter | None = None
    ) -> BackupInfo:
        """Restore a backup file into this database, or into ``target`` (another adapter).

        Uses the strategy recorded in the file's manifest, after checking its sha256. Takes the
        migration lock when restoring into this database, so no migration runs meanwhile.
        """
        path = Path(path)
        info = read_manifest(path.with_name(path.name + MANIFEST_SUFFIX))
        if info is None:
            raise BackupError(
                f"{path} has no valid manifest ({path.name}.json is missing, unreadable or "
                f"edited); is it a covet backup?"
            )
        verify(info)
        strategy = self.backup_strategy(info.strategy)
        if target is not None:
            await strategy.restore(info.path, target)
        else:
            async with self.locked():
                await strategy.restore(info.path, None)
        log.info("backup.restored", path=str(info.path), strategy=info.strategy)
        return info
