"""covet-team-backup-hook: a team's own backup policy, as an installable covet plugin.

The entry point in ``pyproject.toml`` (group ``covet.plugins``) is all the registration there
is: once installed, every ``covet`` command and every ``MigrationManager`` loads this module.
It implements two hooks:

* ``covet_backup_created``: after every backup, copy the file and its manifest into the folder
  named by ``COVET_TEAM_ARCHIVE`` and check the copy's sha256. A team would upload to its
  object storage here instead, apply its own retention, or notify a channel. The hook runs
  synchronously inside the migration run: keep it quick. If it raises, covet reports a
  one-line ``PluginError`` and applies no migration.
* ``covet_register_backup_strategies``: add ``team_sqlite_copy``, chosen with
  ``backup = "team_sqlite_copy"`` in ``covet.toml``. It backs SQLite up like the built-in
  ``sqlite_backup`` but with its own file suffix and manifest fields. A team would call its
  own tool here (a volume snapshot, pg_dump with house flags, ...) and record its version.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import covet_core
from covet_core.backup import BackupInfo, discard, finish_backup, new_backup_file, sha256_of
from covet_core.errors import BackupError

ARCHIVE_ENV = "COVET_TEAM_ARCHIVE"
STRATEGY = "team_sqlite_copy"


# -- archive every backup ------------------------------------------------------------------------


def _private(path: str, flags: int) -> int:
    # An ``open()`` opener: the copy is 0600 from its first byte, never briefly world-readable.
    return os.open(path, flags, 0o600)


@covet_core.hookimpl
def covet_backup_created(backup: BackupInfo) -> None:
    archive = os.environ.get(ARCHIVE_ENV)
    if not archive:
        return  # archiving is opt-in per environment
    folder = Path(archive).expanduser()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for source in (backup.path, backup.manifest_path):
        with source.open("rb") as src, open(folder / source.name, "xb", opener=_private) as dst:
            shutil.copyfileobj(src, dst)
    copy = folder / backup.path.name
    if sha256_of(copy) != (backup.sha256 or sha256_of(backup.path)):
        discard(copy)  # the archive never keeps a copy that does not match
        raise RuntimeError(f"archived copy {copy} does not match the backup's sha256")


# -- a backup strategy of the team's own ------------------------------------------------------


class TeamSQLiteCopy:
    """What the strategy factory returns: async ``create`` and ``restore`` (``BackupStrategy``)."""

    name = STRATEGY

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def create(self, directory: Path, label: str) -> BackupInfo:
        import aiosqlite  # imported when a backup is taken, not when covet loads plugins

        rows = await self.adapter.fetch_all("PRAGMA database_list")
        main = next((row["file"] for row in rows if row["name"] == "main"), "")
        database = Path(main).stem if main else "memory"
        version = await self.adapter.fetch_value("SELECT sqlite_version()")
        path = new_backup_file(directory, database, label, ".team.sqlite3")  # 0600, unique
        try:
            async with aiosqlite.connect(path) as copy:
                await self.adapter.connection.backup(copy)  # SQLite's online backup API
            return finish_backup(  # sha256 + manifest beside the file
                path,
                strategy=STRATEGY,
                database=database,
                label=label,
                extra={"tool_version": "team copy", "server_version": version},
            )
        except BaseException:
            discard(path)  # a failed backup leaves nothing behind; covet reports the error
            raise

    async def restore(self, path: Path, target: Any = None) -> None:
        import aiosqlite

        adapter = target if target is not None else self.adapter
        try:
            async with aiosqlite.connect(path) as source:
                await source.backup(adapter.connection)
        except sqlite3.Error as exc:
            raise BackupError(f"restoring {path} failed: {exc}") from exc


def _team_sqlite_copy(*, adapter: Any, dialect: Any, **_: Any) -> TeamSQLiteCopy:
    if dialect.name != "sqlite":
        raise BackupError(
            f"{STRATEGY} backs up SQLite only, not {dialect.name}; choose another backup strategy"
        )
    return TeamSQLiteCopy(adapter)


@covet_core.hookimpl
def covet_register_backup_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register(STRATEGY, _team_sqlite_copy)
