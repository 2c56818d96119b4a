"""Data migrations wait for MariaDB replicas listed in ``replicas`` (``max_replica_lag``).

Runs against a real MariaDB primary with an asynchronous replica, started on loopback by
``tools/mariadb-replication.sh up`` (about 2 s) and removed afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import mysql_admin, write_migration
from topologies import Stalled, bumping, numbered, topology

from covet.database.migrations.data_migrations import DataMigrationError
from covet_core.plugins import Plugins

PRIMARY = "mysql://root@127.0.0.1:4316/covet"
REPLICA = "mysql://root@127.0.0.1:4317/covet"


@pytest.fixture(scope="module")
def replication() -> Iterator[None]:
    with topology("mariadb-replication"):
        yield


async def _replicated(table: str) -> None:
    """Poll the replica (bounded) until the primary's table exists there."""
    deadline = time.monotonic() + 30
    while not await mysql_admin(f"SHOW TABLES LIKE '{table}'", url=REPLICA):
        assert time.monotonic() < deadline, f"{table} never reached the replica"
        await asyncio.sleep(0.05)


async def _primary_with(table: str, rows: int) -> Any:
    primary = Plugins.load().dialect("mysql").adapter_from_url(PRIMARY, None)
    await primary.connect()
    await numbered(primary, table, rows)
    await _replicated(table)
    return primary


@pytest.mark.parametrize("kind", ["BulkDataMigration", "ParallelDataMigration"])
async def test_a_data_migration_waits_while_the_replica_stops_applying(
    replication: None, kind: str
) -> None:
    """The replica's SQL thread stopped: with ``max_replica_lag=0`` no batch runs until the
    replica has applied the one before, so the migration stops advancing (and its progress
    says it waits) until replication resumes; then it finishes, every row once."""
    primary = await _primary_with("lagged", 400)
    try:
        await mysql_admin("STOP SLAVE SQL_THREAD", url=REPLICA)
        watch = Stalled()
        options = {"max_workers": 2} if kind == "ParallelDataMigration" else {}
        migration = bumping(kind)(
            primary, "lagged", batch_size=50, max_replica_lag=0, replicas=[REPLICA],
            progress_callback=watch, checkpoint_enabled=False, **options,
        )  # fmt: skip
        running = asyncio.create_task(migration.execute())
        await asyncio.wait_for(watch.still.wait(), 60)
        assert watch.seen[0] == watch.seen[1] < 400, (
            watch.seen
        )  # no batch while the replica is behind
        await mysql_admin("START SLAVE SQL_THREAD", url=REPLICA)
        progress = await asyncio.wait_for(running, 60)
        assert progress.processed_rows == 400 and progress.throttled_seconds > 1.5
        assert await primary.fetch_all("SELECT n, count(*) AS c FROM lagged GROUP BY n") == [
            {"n": 1, "c": 400}
        ]
    finally:
        await mysql_admin("START SLAVE SQL_THREAD", url=REPLICA)
        await primary.execute("DROP TABLE IF EXISTS lagged")
        await primary.disconnect()


async def test_a_caught_up_replica_costs_no_waiting(replication: None) -> None:
    primary = await _primary_with("fresh", 300)
    try:
        migration = bumping("BulkDataMigration")(
            primary, "fresh", batch_size=100, max_replica_lag=5, replicas=[REPLICA],
            checkpoint_enabled=False,
        )  # fmt: skip
        progress = await migration.execute()
        assert progress.processed_rows == 300 and progress.throttled_seconds == 0
    finally:
        await primary.execute("DROP TABLE IF EXISTS fresh")
        await primary.disconnect()


@pytest.mark.parametrize(
    ("replicas", "message"),
    [
        ([], "needs the replicas to watch: list their URLs"),
        (
            ["mysql://root:sekret@127.0.0.1:1/covet"],
            "cannot watch replica 127.0.0.1:1: cannot connect",
        ),
        (["mysql://root@127.0.0.1:3306/test"], "127.0.0.1:3306 is not a replica"),
    ],
)
async def test_a_replica_that_cannot_be_read_is_an_error_not_a_pass(
    replication: None, replicas: list[str], message: str
) -> None:
    primary = await _primary_with("unwatched", 20)
    try:
        migration = bumping("BulkDataMigration")(
            primary, "unwatched", batch_size=10, max_replica_lag=5, replicas=replicas,
            checkpoint_enabled=False,
        )  # fmt: skip
        with pytest.raises(DataMigrationError, match=message) as caught:
            await migration.execute()
        assert "sekret" not in str(caught.value)
        # Checked before the first batch: nothing was written.
        assert await primary.fetch_value("SELECT max(n) FROM unwatched") == 0
    finally:
        await primary.execute("DROP TABLE IF EXISTS unwatched")
        await primary.disconnect()


STEP = """
from covet.database.migrations.data_migrations import DataMigration


class Bump(DataMigration):
    table_name = "stepped"
    batch_size = 1

    async def transform_batch(self, rows, adapter):
        for row in rows:
            row["n"] += 1
        return rows
"""


def test_a_data_step_in_a_migration_watches_the_configured_replicas(
    replication: None, run: Any, tmp_path: Path
) -> None:
    """``replicas`` and ``max_replica_lag`` in covet.toml reach a migration's data step: an
    unreachable replica listed there fails it (never a silent pass), and with the real replica
    the step then runs, every row once."""
    setup = ("DROP TABLE IF EXISTS stepped, _covet_migrations, _covet_migration_lock, "
             "_covet_data_checkpoints")  # fmt: skip
    asyncio.run(mysql_admin(setup, url=PRIMARY))
    asyncio.run(
        mysql_admin("CREATE TABLE stepped (id bigint PRIMARY KEY, n int NOT NULL)", url=PRIMARY)
    )
    asyncio.run(mysql_admin("INSERT INTO stepped VALUES (1, 0), (2, 0), (3, 0)", url=PRIMARY))
    folder = tmp_path / "migrations"
    folder.mkdir()
    path = write_migration(folder, "2024_01_01_000000_stepped", body="data_steps = [Bump]")
    path.write_text(STEP + path.read_text())
    (tmp_path / "covet.toml").write_text(
        f'database = "{PRIMARY}"\nmax_replica_lag = 5\nreplicas = ["${{REPLICA_URL}}"]\n'
    )
    try:
        gone: Result = run(
            "migrate", "up", env={"REPLICA_URL": "mysql://root:sekret@127.0.0.1:1/x"}
        )
        assert gone.exit_code != 0
        assert "cannot watch replica 127.0.0.1:1" in gone.output, gone.output
        assert "sekret" not in gone.output
        assert asyncio.run(mysql_admin("SELECT max(n) FROM stepped", url=PRIMARY))[0][0] == 0
        result: Result = run("migrate", "up", env={"REPLICA_URL": REPLICA})
        assert result.exit_code == 0, result.output
        rows = asyncio.run(mysql_admin("SELECT n FROM stepped ORDER BY id", url=PRIMARY))
        assert [r[0] for r in rows] == [1, 1, 1]
    finally:
        asyncio.run(mysql_admin(setup, url=PRIMARY))


def test_a_mistyped_replica_url_is_refused_before_anything_runs(run: Any, tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "covet.toml").write_text(
        'database = "sqlite:///x.db"\nreplicas = ["postgres://replica/db"]\n'
    )
    result: Result = run("migrate", "up")
    assert result.exit_code == 2
    assert "replicas: " in result.output
    assert not (tmp_path / "x.db").exists()


def test_replicas_must_be_a_list_of_urls(run: Any, tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "covet.toml").write_text('database = "sqlite:///x.db"\nreplicas = [1]\n')
    result: Result = run("migrate", "status")
    assert result.exit_code == 2
    assert "replicas must be a list of database URLs" in result.output
