"""Committed work is never reported as "nothing kept", and resuming never redoes it.

A step that commits as it goes (a data step's batches, a Python step outside a transaction)
may fail after part of its work is in the database: the migration is then ``partial``, and
``covet migrate resolve NAME --applied --run`` continues exactly where the work stopped.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Target, write_migration

from covet_core.errors import MigrationFailedError

NAME = "2024_01_01_000000_backfill"

DATA_FIRST = """
from covet.database.migrations.runner import Migration
from covet.database.migrations.data_migrations import DataMigration, ParallelDataMigration


class Bump({base}):
    table_name = "items"
    batch_size = 25

    async def transform_batch(self, rows, adapter):
        if await adapter.fetch_value("SELECT COUNT(*) FROM stop_marker") and rows[0]["id"] > 75:
            raise RuntimeError("stopped by the test")
        for row in rows:
            row["counter"] += 1
        return rows


class Backfill(Migration):
    forward_sql = []
    data_steps = [Bump]
"""


async def items(adapter: Any, target: Target, rows: int = 200) -> None:
    p = target.dialect.params(1)
    await adapter.execute(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, counter INTEGER NOT NULL DEFAULT 0)"
    )
    await adapter.executemany(
        f"INSERT INTO items (id) VALUES ({p[0]})", [(i,) for i in range(1, rows + 1)]
    )
    await adapter.execute("CREATE TABLE stop_marker (id INTEGER)")
    await adapter.execute("INSERT INTO stop_marker VALUES (1)")


@pytest.mark.parametrize("base", ["DataMigration", "ParallelDataMigration"])
async def test_a_data_step_that_fails_first_keeps_its_batches_and_resumes_exactly(
    adapter, target, migrations_dir, base
):
    from covet.database.migrations import MigrationManager

    await items(adapter, target)
    (migrations_dir / f"{NAME}.py").write_text(DATA_FIRST.replace("{base}", base))
    manager = MigrationManager(adapter, target.name, migrations_dir)
    failed = await manager.migrate_up()
    assert not failed["success"]
    error = failed["error"]
    assert "Nothing of it was kept" not in error
    assert "75 row(s)" in error, error
    assert f"covet migrate resolve {NAME} --applied --run" in error
    status = (await manager.get_status())[0]
    assert status.state == "partial", status
    assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE counter = 1") == 75

    again = await manager.migrate_up()  # a plain retry must not transform the 75 rows again
    assert not again["success"] and "partial" in again["error"]
    with pytest.raises(MigrationFailedError):  # resumed, failing before any new batch
        await manager.resolve(NAME, applied=True, run=True)
    assert (await manager.get_status())[0].state == "partial", "the first run's batches stay"
    assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE counter = 1") == 75
    await adapter.execute("DELETE FROM stop_marker")
    await manager.resolve(NAME, applied=True, run=True)
    assert (await manager.get_status())[0].applied
    assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE counter <> 1") == 0


PYTHON_FORWARD_BODY = """
async def forward(self, adapter):
    await adapter.execute("INSERT INTO items (id) VALUES (1000)")
    raise RuntimeError("forward failed after its insert")
"""


async def test_a_python_step_outside_a_transaction_is_partial_when_it_fails(
    adapter, target, migrations_dir
):
    from covet.database.migrations import MigrationManager

    await items(adapter, target, rows=1)
    # atomic = False: forward() runs outside a transaction, so its insert stays.
    write_migration(migrations_dir, NAME, atomic=False, body=PYTHON_FORWARD_BODY)
    manager = MigrationManager(adapter, target.name, migrations_dir)
    failed = await manager.migrate_up()
    assert not failed["success"]
    assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE id = 1000") == 1
    assert "Nothing of it was kept" not in failed["error"], failed["error"]
    assert (await manager.get_status())[0].state == "partial"


async def test_rolling_back_a_data_step_migration_is_transactional_where_ddl_is(
    adapter, target, migrations_dir
):
    from covet.database.migrations import MigrationManager

    if not target.dialect.capabilities.transactional_ddl:
        pytest.skip("DDL is not transactional here: a failed rollback is partial")
    await items(adapter, target, rows=10)
    await adapter.execute("DELETE FROM stop_marker")
    source = DATA_FIRST.replace("{base}", "DataMigration").replace(
        "forward_sql = []",
        'forward_sql = ["CREATE TABLE extra (id INTEGER)"]\n'
        '    backward_sql = ["DROP TABLE extra", "DROP TABLE no_such_table"]',
    )
    (migrations_dir / f"{NAME}.py").write_text(source)
    manager = MigrationManager(adapter, target.name, migrations_dir)
    assert (await manager.migrate_up())["success"]
    assert (await manager.migrate_up(dry_run=True))["plan"] == []
    down = await manager.migrate_down()
    assert not down["success"] and "Nothing of it was kept" in down["error"], down["error"]
    assert (await manager.get_status())[0].state == "applied"
    assert await target.table_exists(adapter, "extra"), "the DROP rolled back with the rest"


BLOCK_THEN_DATA = """
from covet.database.migrations.runner import Migration
from covet.database.migrations.data_migrations import DataMigration


class Bump(DataMigration):
    table_name = "items"
    batch_size = 5

    async def transform_batch(self, rows, adapter):
        for row in rows:
            row["counter"] += 1
        return rows


class Backfill(Migration):
    backward_sql = ["UPDATE items SET counter = 0"]
    data_steps = [Bump]

    async def forward(self, adapter):
        import os, sys
        if os.environ.get("BLOCK"):
            print("inside-migration", flush=True)
            sys.stdin.readline()  # killed here, before the data step starts
"""


async def test_a_run_killed_before_its_data_step_does_not_resume_an_old_checkpoint(
    adapter, target, migrations_dir, tmp_path
):
    """Applied, rolled back, applied again and killed before the data step: the completed
    checkpoint of the first application must not make resolve --run skip every row."""
    import os
    import signal
    import subprocess
    import sys

    await items(adapter, target, rows=20)
    (migrations_dir / f"{NAME}.py").write_text(BLOCK_THEN_DATA)
    env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}

    def covet(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "covet_core", "migrate", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    assert covet("up").returncode == 0
    assert covet("down").returncode == 0
    assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE counter <> 0") == 0
    victim = subprocess.Popen(
        [sys.executable, "-m", "covet_core", "migrate", "up"], env={**env, "BLOCK": "1"},
        cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert victim.stdout is not None and victim.stdout.readline().strip() == "inside-migration"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    resumed = covet("resolve", NAME, "--applied", "--run", "--in-doubt=completed")
    assert resumed.returncode == 0, resumed.stderr
    assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE counter <> 1") == 0
