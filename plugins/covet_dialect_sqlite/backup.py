"""``sqlite_backup``: SQLite's online backup API, through the open connection.

A consistent copy even while other connections write (SQLite copies page by page and restarts
if the source changes under it), into a 0600 file beside its manifest. Restore copies the file
back into the live database the same way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from covet_core.backup import SKIP_HINT, BackupInfo, discard, finish_backup, new_backup_file
from covet_core.errors import BackupError

NAME = "sqlite_backup"
_SIDECARS = ("-journal", "-wal", "-shm")
"""Files SQLite keeps beside a database while writing it; a failed copy can leave them."""


def _discard(path: Path) -> None:
    # A full disk stops SQLite before it can delete its rollback journal: remove it too, so a
    # failed backup leaves nothing behind.
    discard(path)
    for suffix in _SIDECARS:
        path.with_name(path.name + suffix).unlink(missing_ok=True)


class SQLiteBackup:
    name = NAME

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def _database_name(self) -> str:
        rows = await self.adapter.fetch_all("PRAGMA database_list")
        main = next((r["file"] for r in rows if r["name"] == "main"), "")
        return Path(main).stem if main else "memory"

    async def create(self, directory: Path, label: str) -> BackupInfo:
        import aiosqlite

        database = await self._database_name()
        path = new_backup_file(directory, database, label, ".sqlite3")
        try:
            async with aiosqlite.connect(path) as target:
                await self.adapter.connection.backup(target)
            return finish_backup(
                path,
                strategy=NAME,
                database=database,
                label=label,
                extra={
                    "server_version": sqlite3.sqlite_version,
                    "tool_version": f"SQLite online backup API ({sqlite3.sqlite_version})",
                },
            )
        except (sqlite3.Error, OSError) as exc:
            _discard(path)
            raise BackupError(f"SQLite backup failed: {exc}; {SKIP_HINT}") from exc

    async def restore(self, path: Path, target: Any = None) -> None:
        import aiosqlite

        adapter = target if target is not None else self.adapter
        try:
            async with aiosqlite.connect(path) as source:
                await source.backup(adapter.connection)
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite restore from {path} failed: {exc}") from exc
