"""A deploy aimed at a hot standby fails, even with nothing pending; reading works there.

Runs against a real PostgreSQL primary with a streaming hot standby, started on loopback by
``../shared/tools/topologies.sh up standby`` (about 3 s) and removed afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from click.testing import Result
from conftest import write_migration
from topologies import Stalled, bumping, read_schema, topology

PRIMARY = "postgresql://postgres@127.0.0.1:5433/covet"
STANDBY = "postgresql://postgres@127.0.0.1:5434/covet"


@pytest.fixture(scope="module")
def standby() -> Iterator[None]:
    with topology("standby"):
        yield


async def _wait_replayed(table: str) -> None:
    """Poll the standby (bounded) until the primary's table has been replayed there."""
    deadline = time.monotonic() + 30
    conn = await asyncpg.connect(STANDBY)
    try:
        while await conn.fetchval("SELECT to_regclass($1)", table) is None:
            assert time.monotonic() < deadline, f"{table} never reached the standby"
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


def test_every_writing_command_refuses_a_standby_and_reading_works(
    standby: None, run: Callable[..., Result], migrations_dir: Path
) -> None:
    write_migration(migrations_dir, "2024_01_01_000000_first", ["CREATE TABLE a (id int)"])
    on_primary = {"COVET_DATABASE_URL": PRIMARY}
    on_standby = {"COVET_DATABASE_URL": STANDBY}
    dirs = ("--dir", str(migrations_dir))

    # Something pending: refused before anything runs, not blamed on the migration.
    pending = run(*dirs, "migrate", "up", env=on_standby)
    assert pending.exit_code == 2, pending.output
    assert "this is a read-only replica (a hot standby" in pending.output
    assert "point covet at the primary" in pending.output
    assert "Nothing of it was kept" not in pending.output

    assert run(*dirs, "migrate", "up", env=on_primary).exit_code == 0
    asyncio.run(_wait_replayed("public.a"))
    write_migration(migrations_dir, "2024_01_02_000000_second", ["CREATE TABLE b (id int)"])
    assert run(*dirs, "migrate", "up", "--target", "2024_01_01_000000_first", env=on_primary)

    # Reading works on the replica.
    status = run(*dirs, "migrate", "status", env=on_standby)
    assert status.exit_code == 0 and "2024_01_01_000000_first" in status.output
    assert run(*dirs, "migrate", "validate", env=on_standby).exit_code == 0
    assert run(*dirs, "migrate", "up", "--dry-run", env=on_standby).exit_code == 0
    # A schema read (generate, lint) is one READ ONLY transaction: a standby serves it.
    schema = asyncio.run(read_schema(STANDBY, migrations_dir))
    assert [t.name for t in schema.tables.values()] == ["a"]

    # Every command that writes stops with the same one line, pending or not.
    writers = [
        ("migrate", "up"),
        ("migrate", "down"),
        ("migrate", "baseline"),
        ("migrate", "repair", "--yes"),
        ("migrate", "resolve", "2024_01_01_000000_first", "--rolled-back", "--force"),
        ("migrate", "unlock", "--force"),
    ]
    for command in writers:
        result = run(*dirs, *command, env=on_standby)
        assert result.exit_code == 2, (command, result.output)
        assert "this is a read-only replica" in result.output, (command, result.output)

    # Nothing pending any more: still refused (a deploy aimed at a replica must not pass).
    assert run(*dirs, "migrate", "up", env=on_primary).exit_code == 0
    asyncio.run(_wait_replayed("public.b"))
    nothing = run(*dirs, "migrate", "up", env=on_standby)
    assert nothing.exit_code == 2 and "read-only replica" in nothing.output


@pytest.mark.parametrize("kind", ["BulkDataMigration", "ParallelDataMigration"])
async def test_a_data_migration_waits_while_a_replica_is_behind_and_finishes_after(
    standby: None, kind: str
) -> None:
    """Replay paused on the standby: with ``max_replica_lag=0`` (every batch replayed before
    the next) the migration stops advancing, and says so in its progress, until replay
    resumes; then it finishes, every row once."""
    from covet_core.plugins import Plugins

    Bump = bumping(kind)
    primary = Plugins.load().dialect("postgresql").adapter_from_url(PRIMARY, None)
    await primary.connect()
    replica = await asyncpg.connect(STANDBY)
    try:
        await primary.execute("DROP TABLE IF EXISTS lagged")
        await primary.execute("CREATE TABLE lagged (id bigint PRIMARY KEY, n int NOT NULL)")
        await primary.execute("INSERT INTO lagged SELECT g, 0 FROM generate_series(1, 400) g")
        await _wait_replayed("public.lagged")
        await replica.execute("SELECT pg_wal_replay_pause()")
        watch = Stalled()
        options = {"max_workers": 2} if kind == "ParallelDataMigration" else {}
        migration = Bump(primary, "lagged", batch_size=50, max_replica_lag=0,
                         progress_callback=watch, checkpoint_enabled=False, **options)  # fmt: skip
        running = asyncio.create_task(migration.execute())
        await asyncio.wait_for(watch.still.wait(), 60)
        assert watch.seen[0] == watch.seen[1] < 400, (
            watch.seen
        )  # no batch while the replica is behind
        await replica.execute("SELECT pg_wal_replay_resume()")
        progress = await asyncio.wait_for(running, 60)
        assert progress.processed_rows == 400 and progress.throttled_seconds > 1.5
        assert await primary.fetch_all("SELECT n, count(*) AS c FROM lagged GROUP BY n") == [
            {"n": 1, "c": 400}
        ]
    finally:
        await replica.execute("SELECT pg_wal_replay_resume()")
        await replica.close()
        await primary.execute("DROP TABLE IF EXISTS lagged")
        await primary.disconnect()
