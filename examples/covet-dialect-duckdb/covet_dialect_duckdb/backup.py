"""``duckdb_copy``: a backup that is a DuckDB database file, written through the open connection.

DuckDB's ``COPY FROM DATABASE`` copies every table, view, sequence, index and constraint into
an attached file, inside one transaction: a consistent snapshot even while other connections
of this process write (no other process can have the file open). No external tool is needed.

DuckDB refuses to attach an existing file that is not a database, so the copy is written in a
private (0700) folder beside the backup, made 0600, and then moved onto the name covet
reserved. Restoring empties the live database (views, then tables in foreign-key order, then
sequences and enum types) and copies the backup into it, in one transaction: a failed restore
changes nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from covet_core.backup import SKIP_HINT, BackupInfo, discard, finish_backup, new_backup_file
from covet_core.errors import BackupError, DatabaseError

NAME = "duckdb_copy"
ALIAS = "covet_backup"
LOCK_TABLE = "_covet_migration_lock"
"""covet's portable lock table (``covet_core.locking``): a restore runs under that lock, and
the backup holds the row of whoever held it when the backup was taken."""
SAVED_LOCK = "_covet_restore_lock_rows"


class DuckDBCopyBackup:
    name = NAME

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def create(self, directory: Path, label: str) -> BackupInfo:
        database = await self.adapter.fetch_value("SELECT current_database()")
        path = new_backup_file(directory, str(database), label, ".duckdb")
        scratch = Path(tempfile.mkdtemp(prefix=".covet-", dir=directory))
        copy = scratch / path.name
        try:
            await self._attach(copy, read_only=False)
            try:
                async with self.adapter.transaction():
                    await self.adapter.execute(f"COPY FROM DATABASE {_q(database)} TO {ALIAS}")
            finally:
                await self.adapter.execute(f"DETACH {ALIAS}")  # writes the file out whole
            os.chmod(copy, 0o600)
            os.replace(copy, path)
            version = await self.adapter.fetch_value("SELECT version()")
            return finish_backup(
                path,
                strategy=NAME,
                database=str(database),
                label=label,
                extra={"server_version": version, "tool_version": f"DuckDB {version}"},
            )
        except (DatabaseError, OSError) as exc:
            discard(path)
            raise BackupError(f"DuckDB backup failed: {exc}; {SKIP_HINT}") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    async def restore(self, path: Path, target: Any = None) -> None:
        adapter = target if target is not None else self.adapter
        database = await adapter.fetch_value("SELECT current_database()")
        try:
            await self._attach(path, read_only=True, adapter=adapter)
            try:
                async with adapter.transaction():
                    keep_lock = await _has_table(adapter, str(database), LOCK_TABLE)
                    if keep_lock:
                        await adapter.execute(
                            f"CREATE TEMP TABLE {SAVED_LOCK} AS SELECT * FROM {_q(LOCK_TABLE)}"
                        )
                    for statement in await _drop_everything(adapter, str(database)):
                        await adapter.execute(statement)
                    await adapter.execute(f"COPY FROM DATABASE {ALIAS} TO {_q(database)}")
                    if keep_lock:
                        # The lock stays with its current holder (the restoring process), not
                        # with the backup's: releasing it must find its own row.
                        if await _has_table(adapter, str(database), LOCK_TABLE):
                            await adapter.execute(f"DELETE FROM {_q(LOCK_TABLE)}")
                            await adapter.execute(
                                f"INSERT INTO {_q(LOCK_TABLE)} SELECT * FROM temp.{SAVED_LOCK}"
                            )
                        await adapter.execute(f"DROP TABLE temp.{SAVED_LOCK}")
            finally:
                await adapter.execute(f"DETACH {ALIAS}")
        except DatabaseError as exc:
            raise BackupError(f"DuckDB restore from {path} failed: {exc}") from exc

    async def _attach(self, path: Path, *, read_only: bool, adapter: Any = None) -> None:
        mode = " (READ_ONLY)" if read_only else ""
        literal = "'" + str(path).replace("'", "''") + "'"
        await (adapter or self.adapter).execute(f"ATTACH {literal} AS {ALIAS}{mode}")


async def _has_table(adapter: Any, database: str, name: str) -> bool:
    found = await adapter.fetch_value(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? "
        "AND schema_name = current_schema() AND table_name = ?",
        (database, name),
    )
    return bool(found)


def _q(name: Any) -> str:
    return '"' + str(name).replace('"', '""') + '"'


async def _drop_everything(adapter: Any, database: str) -> list[str]:
    """DROP statements that empty ``database``: views, tables (each after the tables whose
    foreign keys reference it), sequences, enum types."""
    where = "WHERE database_name = ? AND NOT internal"
    views = await adapter.fetch_all(
        f"SELECT schema_name, view_name AS name FROM duckdb_views() {where}", (database,)
    )
    tables = await adapter.fetch_all(
        f"SELECT schema_name, table_name AS name FROM duckdb_tables() {where}", (database,)
    )
    refs = await adapter.fetch_all(
        "SELECT table_name AS child, referenced_table AS parent FROM duckdb_constraints() "
        "WHERE database_name = ? AND constraint_type = 'FOREIGN KEY'",
        (database,),
    )
    sequences = await adapter.fetch_all(
        "SELECT schema_name, sequence_name AS name FROM duckdb_sequences() WHERE database_name = ?",
        (database,),
    )
    types = await adapter.fetch_all(
        f"SELECT schema_name, type_name AS name FROM duckdb_types() {where}", (database,)
    )
    statements = [f"DROP VIEW {_q(v['schema_name'])}.{_q(v['name'])}" for v in views]
    left = list(tables)
    while left:
        referenced = {r["parent"] for r in refs if r["child"] in {t["name"] for t in left}}
        free = [t for t in left if t["name"] not in referenced] or left  # a cycle: try anyway
        statements += [f"DROP TABLE {_q(t['schema_name'])}.{_q(t['name'])}" for t in free]
        left = [t for t in left if t not in free]
    statements += [f"DROP SEQUENCE {_q(s['schema_name'])}.{_q(s['name'])}" for s in sequences]
    statements += [f"DROP TYPE {_q(t['schema_name'])}.{_q(t['name'])}" for t in types]
    return statements
