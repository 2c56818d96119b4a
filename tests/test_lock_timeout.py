"""A migration never makes the application's queries queue behind it for longer than
``ddl_lock_timeout``, and succeeds by retrying once the long transaction blocking it ends.

An ``ALTER TABLE`` waiting for a table lock held by a long transaction makes every later query
on that table wait behind the ALTER: a correct migration then takes the site down.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from conftest import Target, write_migration
from structlog.testing import capture_logs

from covet_core.manager import MigrationManager

TIMEOUT = 0.3  # MySQL counts whole seconds: it rounds this up to 1

WAITING = {
    "postgresql": (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'ALTER TABLE t %'"
    ),
    "mysql": (
        "SELECT count(*) FROM information_schema.PROCESSLIST "
        "WHERE STATE = 'Waiting for table metadata lock' AND INFO LIKE 'ALTER TABLE t %'"
    ),
}


async def _until(adapter: Any, sql: str) -> None:
    """Poll (bounded) until ``sql`` counts a row: covet's ALTER is queued behind the blocker."""
    deadline = time.monotonic() + 30
    while not await adapter.fetch_value(sql):
        assert time.monotonic() < deadline, "covet's ALTER never waited for the lock"
        await asyncio.sleep(0.01)


async def test_a_blocked_alter_gives_way_to_traffic_then_succeeds_by_retrying(
    target: Target, migrations_dir: Any
) -> None:
    if target.dialect.lock_timeout is None:
        pytest.skip(f"{target.name} has no lock timeout: writers wait on the database file")
    write_migration(migrations_dir, "2024_01_01_000000_add", ["ALTER TABLE t ADD COLUMN c INT"],
                    ["ALTER TABLE t DROP COLUMN c"])  # fmt: skip
    blocker, observer, app, covet = (target.new_adapter() for _ in range(4))
    for adapter in (blocker, observer, app, covet):
        await adapter.connect()
    try:
        await blocker.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        await blocker.execute("INSERT INTO t (id) VALUES (1)")
        async with blocker.transaction():  # a long transaction that has read the table
            await blocker.fetch_all("SELECT * FROM t")
            manager = MigrationManager(
                covet, target.name, migrations_dir, ddl_lock_timeout=TIMEOUT, ddl_retries=100
            )
            with capture_logs() as logs:
                running = asyncio.create_task(manager.migrate_up())
                await _until(observer, WAITING[target.name])
                # The application's query queues behind covet's ALTER, but only until the
                # ALTER gives up; without a lock timeout it would wait for the blocker.
                start = time.monotonic()
                count = app.fetch_value("SELECT count(*) FROM t")
                assert await asyncio.wait_for(count, 10) == 1
                waited = time.monotonic() - start
                await _until(observer, WAITING[target.name])  # covet is trying again
        result = await asyncio.wait_for(running, 60)  # the blocker has committed
        assert result["success"], result
        assert waited < max(TIMEOUT, 1.0) + 1.5, f"the application waited {waited:.1f}s"
        retries = [e for e in logs if e["event"] == "migration.lock_timeout"]
        assert retries and retries[0]["migration"] == "2024_01_01_000000_add"
        assert await covet.fetch_all("SELECT c FROM t") == [{"c": None}]
        [status] = await manager.get_status()
        assert status.state == "applied"
    finally:
        for adapter in (blocker, observer, app, covet):
            await adapter.disconnect()


async def test_retries_run_out_and_the_migration_is_left_as_it_was(
    target: Target, migrations_dir: Any
) -> None:
    if target.dialect.lock_timeout is None:
        pytest.skip(f"{target.name} has no lock timeout: writers wait on the database file")
    write_migration(migrations_dir, "2024_01_01_000000_add", ["ALTER TABLE t ADD COLUMN c INT"])
    blocker, covet = target.new_adapter(), target.new_adapter()
    await blocker.connect()
    await covet.connect()
    try:
        await blocker.execute("CREATE TABLE t (id INT PRIMARY KEY)")
        async with blocker.transaction():
            await blocker.fetch_all("SELECT * FROM t")
            manager = MigrationManager(
                covet, target.name, migrations_dir, ddl_lock_timeout=TIMEOUT, ddl_retries=1
            )
            with capture_logs() as logs:
                result = await manager.migrate_up()
        assert not result["success"]
        assert len([e for e in logs if e["event"] == "migration.lock_timeout"]) == 1
        [status] = await manager.get_status()
        assert status.state == "pending"  # nothing kept: a later run starts clean
    finally:
        await blocker.disconnect()
        await covet.disconnect()
