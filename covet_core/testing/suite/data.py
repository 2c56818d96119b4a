"""Data migrations on the dialect: each row transformed exactly once, a failure keeps the
committed batches, and resuming continues where it stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from covet_core.adapter import Adapter
from covet_core.errors import MigrationFailedError
from covet_core.testing.support import ScratchDatabase, asynctest

__all__ = ["test_data_migration_runs_exactly_once_and_resumes_after_a_failure"]

NAME = "2024_01_01_000000_backfill"
ROWS = 120
# Quoted names arrive through str.format: the dialect decides how identifiers are written.
SOURCE = """
from covet_core.data import DataMigration
from covet_core.migration import Migration


class Bump(DataMigration):
    table_name = "items"
    batch_size = 20

    async def transform_batch(self, rows, adapter):
        stop = await adapter.fetch_value("SELECT COUNT(*) FROM {stop}")
        if stop and rows[0]["id"] > 60:
            raise RuntimeError("stopped by the test")
        for row in rows:
            row["counter"] += 1
        return rows


class Backfill(Migration):
    forward_sql = []
    data_steps = [Bump]
"""


@asynctest
async def test_data_migration_runs_exactly_once_and_resumes_after_a_failure(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    items, counter, stop = db.q("items"), db.q("counter"), db.q("stop_marker")
    await adapter.execute(
        f"CREATE TABLE {items} ({db.q('id')} BIGINT PRIMARY KEY, "
        f"{counter} INTEGER NOT NULL DEFAULT 0)"
    )
    await adapter.executemany(
        f"INSERT INTO {items} ({db.q('id')}) VALUES ({db.p(1)})", [(i,) for i in range(1, ROWS + 1)]
    )
    await adapter.execute(f"CREATE TABLE {stop} ({db.q('id')} INTEGER)")
    await adapter.execute(f"INSERT INTO {stop} ({db.q('id')}) VALUES (1)")
    (covet_migrations / f"{NAME}.py").write_text(SOURCE.format(stop=stop.replace('"', '\\"')))
    manager = db.manager(adapter, covet_migrations)

    failed = await manager.migrate_up()
    assert not failed["success"] and "60 row(s)" in failed["error"], failed["error"]
    assert (await manager.get_status())[0].state == "partial"
    done = f"SELECT COUNT(*) FROM {items} WHERE {counter} = 1"
    assert await adapter.fetch_value(done) == 60, "the committed batches stay"
    retry = await manager.migrate_up()
    assert not retry["success"] and "partial" in retry["error"], "no plain retry redoes them"
    with pytest.raises(MigrationFailedError):
        await manager.resolve(NAME, applied=True, run=True)
    assert await adapter.fetch_value(done) == 60

    await adapter.execute(f"DELETE FROM {stop}")
    await manager.resolve(NAME, applied=True, run=True)
    assert (await manager.get_status())[0].applied
    assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {items} WHERE {counter} <> 1") == 0
