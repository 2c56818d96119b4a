"""covet through PgBouncer in transaction pooling mode, the default of most hosted offerings.

Runs against a real PgBouncer (pool of 2 server connections) in front of the machine's
PostgreSQL, started on loopback by ``../shared/tools/topologies.sh up pgbouncer`` and removed
afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from conftest import write_migration
from topologies import read_schema, topology

POOLED = "postgresql://postgres@127.0.0.1:6432/covet_pgb"
UPSTREAM = "postgresql://postgres@127.0.0.1:5432/covet_pgb"
PROCESSES = 6

DATA_STEP = """
from covet.database.migrations.runner import Migration
from covet.database.migrations.data_migrations import DataMigration


class Bump(DataMigration):
    table_name = "items"
    batch_size = 40

    async def transform_batch(self, rows, adapter):
        for row in rows:
            row["counter"] += 1
        return rows


class Backfill(Migration):
    dependencies = ["2024_01_01_000000_items"]
    forward_sql = ["INSERT INTO log (name) VALUES ('backfill')"]
    backward_sql = ["UPDATE items SET counter = 0"]
    data_steps = [Bump]
"""


@pytest.fixture
def pgbouncer() -> Iterator[None]:
    with topology("pgbouncer"):
        yield


def _covet(cwd: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COVET_DATABASE_URL": url, "COVET_MIGRATIONS_DIR": str(cwd / "m")}
    return subprocess.Popen(
        [sys.executable, "-m", "covet_core", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _done(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out + err


def test_without_the_setting_the_second_run_names_it(pgbouncer: None, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    write_migration(tmp_path / "m", "2024_01_01_000000_a", ["CREATE TABLE a (id int)"])
    assert _done(_covet(tmp_path, POOLED, "migrate", "up"))[0] == 0
    code, output = _done(_covet(tmp_path, POOLED, "migrate", "status"))
    assert code != 0
    assert "add ?pooler=transaction to the database URL" in output, output
    assert len(output.strip().splitlines()) == 1, output  # one line, no traceback


async def _upstream(sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(UPSTREAM)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def _pooled_settings() -> list[tuple[str, str]]:
    """What a client of the pool sees, outside any transaction, on each server connection."""
    conns = [await asyncpg.connect(POOLED, statement_cache_size=0) for _ in range(2)]
    try:
        seen = []
        for conn in conns:
            async with conn.transaction():  # both held at once: both server connections
                pass
            seen.append(
                (
                    await conn.fetchval("SHOW lock_timeout"),
                    await conn.fetchval("SHOW enable_seqscan"),
                )
            )
        return seen
    finally:
        for conn in conns:
            await conn.close()


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_concurrent_runs_through_a_pooler_apply_everything_exactly_once(
    pgbouncer: None, tmp_path: Path, mode: str
) -> None:
    """Six processes, a pool of two server connections: in session pooling each process
    needs only one (two each made them wait on each other until PgBouncer's timeout)."""
    folder = tmp_path / "m"
    folder.mkdir()
    names = [f"2024_01_0{i}_000000_step_{i}" for i in range(2, 6)]
    write_migration(
        folder,
        "2024_01_01_000000_items",
        [
            "CREATE TABLE log (name text NOT NULL)",
            "CREATE TABLE items (id bigint PRIMARY KEY, counter int NOT NULL DEFAULT 0)",
            "INSERT INTO items (id) SELECT generate_series(1, 300)",
            "INSERT INTO log (name) VALUES ('items')",
        ],
        ["DROP TABLE items", "DROP TABLE log"],
    )
    (folder / "2024_01_01_000001_backfill.py").write_text(DATA_STEP)
    for name in names:
        write_migration(
            folder,
            name,
            [f"CREATE TABLE {name[-6:]} (id int)", f"INSERT INTO log (name) VALUES ('{name}')"],
            [f"DROP TABLE {name[-6:]}"],
        )
    database = POOLED + ("_session" if mode == "session" else "")
    url = f"{database}?pooler={mode}&lock_timeout=5s"
    procs = [
        _covet(tmp_path, url, "migrate", "up", "--lock-timeout", "120") for _ in range(PROCESSES)
    ]
    results = [_done(p) for p in procs]
    for code, output in results:
        assert code == 0, output

    logged = asyncio.run(_upstream("SELECT name, count(*) AS n FROM log GROUP BY name"))
    assert {r["name"]: r["n"] for r in logged} == {
        "items": 1, "backfill": 1, **{name: 1 for name in names}
    }  # fmt: skip
    counters = asyncio.run(_upstream("SELECT counter, count(*) AS n FROM items GROUP BY 1"))
    assert [(r["counter"], r["n"]) for r in counters] == [(1, 300)]  # every row once
    history = asyncio.run(_upstream("SELECT count(*) AS n FROM _covet_migrations"))
    assert history[0]["n"] == len(names) + 2
    # Nothing of covet's is left on the pooled server connections.
    assert (
        asyncio.run(
            _upstream(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
        == []
    )
    assert asyncio.run(_pooled_settings()) == [("0", "on"), ("0", "on")]


def test_pg_advisory_is_refused_through_a_transaction_pooler(
    pgbouncer: None, tmp_path: Path
) -> None:
    (tmp_path / "m").mkdir()
    write_migration(tmp_path / "m", "2024_01_01_000000_a", ["CREATE TABLE a (id int)"])
    (tmp_path / "covet.toml").write_text('lock = "pg_advisory"\npooler = "transaction"\n')
    code, output = _done(_covet(tmp_path, POOLED, "migrate", "up"))
    assert code == 2 and 'does not hold through a transaction pooler; use lock = "table"' in output


def test_a_schema_read_through_a_transaction_pooler_leaves_no_setting_behind(
    pgbouncer: None, tmp_path: Path
) -> None:
    """The read's one transaction (its snapshot, JIT off) holds one server connection of the
    pool; its settings end with it, so the next client of that connection sees none."""
    asyncio.run(_upstream("CREATE TABLE IF NOT EXISTS read_through (id int PRIMARY KEY)"))
    for _ in range(2):  # the second read may come through the other server connection
        schema = asyncio.run(read_schema(POOLED + "?pooler=transaction", tmp_path))
        assert schema.table("read_through").primary_key == ("id",)
    server_default = asyncio.run(_upstream("SHOW jit_above_cost"))[0][0]
    assert asyncio.run(_pooled_jit()) == [server_default, server_default]


async def _pooled_jit() -> list[str]:
    conns = [await asyncpg.connect(POOLED, statement_cache_size=0) for _ in range(2)]
    try:
        for conn in conns:
            await conn.execute("BEGIN")  # both held at once: both server connections
        seen = [await conn.fetchval("SHOW jit_above_cost") for conn in conns]
        for conn in conns:
            await conn.execute("COMMIT")
        return seen
    finally:
        for conn in conns:
            await conn.close()
