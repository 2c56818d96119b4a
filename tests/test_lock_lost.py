"""A run whose migration lock is broken by `covet migrate unlock --force` commits nothing more."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import database_target, write_migration

from covet_core.errors import LockError

A = "2024_01_01_000000_create_a"

BLOCKING_FORWARD = """
async def forward(self, adapter):
    import sys
    print("inside-migration", flush=True)
    sys.stdin.readline()  # the test breaks the lock meanwhile
"""


def covet(cwd: Path, env: dict[str, str], *args: str, **kwargs: Any) -> Any:
    command = [sys.executable, "-m", "covet_core", "migrate", *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("dialect", "lock"),
    [("postgresql", None), ("postgresql", "table"), ("mysql", None), ("mysql", "table")],
)
def test_a_run_stops_before_committing_once_its_lock_is_taken_away(tmp_path, dialect, lock):
    with database_target(dialect, tmp_path) as target:
        migrations = tmp_path / "migrations"
        migrations.mkdir()
        write_migration(
            migrations, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"],
            body=BLOCKING_FORWARD,
        )  # fmt: skip
        if lock is not None:
            (tmp_path / "covet.toml").write_text(f'lock = "{lock}"\n')
        env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations)}
        victim = covet(tmp_path, env, "up", background=True)
        assert victim.stdout.readline().strip() == "inside-migration"  # synchronised on the pipe
        broken = covet(tmp_path, env, "unlock", "--force")
        assert broken.returncode == 0, broken.stderr
        _, err = victim.communicate("\n", timeout=60)
        assert victim.returncode == 1, err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "taken away" in errors[0], err
        status = covet(tmp_path, env, "status")
        assert "0 applied" in status.stdout, status.stdout
        exists = asyncio.run(table_exists(target, "a"))
        # Transactional DDL: the migration's transaction never committed. MySQL: the CREATE
        # ran (it commits on its own), and the history says which step was running.
        assert exists is not target.dialect.capabilities.transactional_ddl


async def table_exists(target: Any, table: str) -> bool:
    adapter = target.new_adapter()
    await adapter.connect()
    try:
        return bool(await target.table_exists(adapter, table))
    finally:
        await adapter.disconnect()


async def test_only_the_waiter_that_takes_over_a_dead_holder_logs_it(adapter, target):
    """Two waiters both see a dead holder; the one that loses the race must not claim it."""
    import asyncio as aio

    from structlog.testing import capture_logs

    from covet_core.locking import TableLock
    from covet_core.plugins import Plugins

    plugins = Plugins.load()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid on this host that is gone
    first = TableLock(adapter, target.dialect, plugins)
    await first._ensure_table()
    assert await first._try_insert()
    p = target.dialect.placeholder
    await adapter.execute(f"UPDATE _covet_migration_lock SET pid = {p(1)}", (dead.pid,))
    first._token = None

    other = target.new_adapter()
    await other.connect()
    seen, go_on = aio.Event(), aio.Event()

    class Slow(TableLock):
        async def _read(self):  # type: ignore[no-untyped-def]
            found = await super()._read()
            seen.set()
            await go_on.wait()  # the other waiter takes over meanwhile
            return found

    slow, fast = Slow(other, target.dialect, plugins), TableLock(adapter, target.dialect, plugins)
    try:
        with capture_logs() as logs:
            slow_attempt = aio.ensure_future(slow.acquire(0.05))
            await seen.wait()
            await fast.acquire(5)
            go_on.set()
            with pytest.raises(LockError):
                await slow_attempt
        taken = [e for e in logs if e["event"] == "lock.taken_over"]
        assert len(taken) == 1, logs
        await fast.release()
    finally:
        await other.disconnect()


DATA_STEP_BREAKS_LOCK = """
from covet.database.migrations.runner import Migration
from covet.database.migrations.data_migrations import DataMigration


import asyncio


class Bump(DataMigration):
    table_name = "items"
    batch_size = 10

    async def transform_batch(self, rows, adapter):
        if rows[0]["id"] > 10:  # the second batch: someone runs `unlock --force` meanwhile
            await adapter.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            )
            for _ in range(500):  # terminating only signals: wait until the lock is gone
                if not await adapter.fetch_value(
                    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'"
                ):
                    break
                await asyncio.sleep(0.01)
        for row in rows:
            row["counter"] += 1
        return rows


class Backfill(Migration):
    data_steps = [Bump]
"""


async def test_a_data_step_commits_no_batch_after_its_lock_is_taken_away(pg, tmp_path):
    from covet.database.migrations import MigrationManager

    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "2024_01_01_000000_backfill.py").write_text(DATA_STEP_BREAKS_LOCK)
    adapter = pg.new_adapter()
    await adapter.connect()
    try:
        await adapter.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, counter INT DEFAULT 0)")
        await adapter.execute("INSERT INTO items (id) SELECT generate_series(1, 30)")
        manager = MigrationManager(adapter, "postgresql", migrations)
        result = await manager.migrate_up()
        assert not result["success"] and "taken away" in result["error"], result
        # Only the first batch, committed while the lock was held.
        assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE counter = 1") == 10
    finally:
        await adapter.disconnect()
