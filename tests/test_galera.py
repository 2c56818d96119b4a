"""covet on a 3-node MariaDB Galera cluster, one process per node, at once.

GET_LOCK is node-local: three processes on three nodes all "held" it, and the losers stopped
with a false "partial, repair by hand". Runs against a real cluster started on loopback by
``../shared/tools/topologies.sh up galera`` (about 15 s) and removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import mysql_admin, write_migration
from topologies import Stalled, bumping, numbered, topology

NODES = [f"mysql://root@127.0.0.1:{port}/covet" for port in (4306, 4307, 4308)]
ROUNDS = int(os.environ.get("COVET_GALERA_ROUNDS", "3"))


@pytest.fixture(scope="module")
def galera() -> Iterator[None]:
    with topology("galera"):
        yield


def _covet(cwd: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COVET_DATABASE_URL": url, "COVET_MIGRATIONS_DIR": str(cwd / "m")}
    return subprocess.Popen(
        [sys.executable, "-m", "covet_core", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _history(url: str) -> tuple[tuple[object, ...], ...]:
    sql = (
        "SELECT name, checksum FROM _covet_migrations ORDER BY name"
        if asyncio.run(mysql_admin("SHOW TABLES LIKE '_covet_migrations'", url=url))
        else "SELECT 1 WHERE FALSE"
    )
    # wsrep_sync_wait: read only once this node has applied everything certified before.
    asyncio.run(mysql_admin("SET GLOBAL wsrep_sync_wait = 1", url=url))
    return asyncio.run(mysql_admin(sql, url=url))


def test_one_process_per_node_applies_each_migration_once_per_round(
    galera: None, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    names = [f"2024_01_0{i}_000000_g{i}" for i in range(1, 5)]
    for i, name in enumerate(names, 1):
        write_migration(
            folder,
            name,
            [f"CREATE TABLE g{i} (id int PRIMARY KEY)", f"INSERT INTO g{i} VALUES (1)"],
            [f"DROP TABLE g{i}"],
        )
    for round_ in range(ROUNDS):
        procs = [_covet(tmp_path, url, "migrate", "up", "--lock-timeout", "120") for url in NODES]
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, f"round {round_}: {out}{err}"
            outputs.append(out)
        applied = sorted(
            line.split()[1] for out in outputs for line in out.splitlines() if "✓" in line
        )
        assert applied == names, f"round {round_}: each migration once, not {applied}"
        histories = {url: _history(url) for url in NODES}
        assert len(set(histories.values())) == 1, histories  # identical on every node
        assert [row[0] for row in histories[NODES[0]]] == names
        down = _covet(tmp_path, NODES[round_ % 3], "migrate", "down", "--steps", "4")
        out, err = down.communicate(timeout=180)
        assert down.returncode == 0, out + err


def test_the_lock_on_a_cluster_names_its_holder_across_nodes(galera: None, tmp_path: Path) -> None:
    """``unlock`` on another node sees the holder: the lock is one row, cluster-wide."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "2024_01_01_000000_wait.py").write_text(
        "import sys\n"
        "from covet.database.migrations.runner import Migration\n\n\n"
        "class Wait(Migration):\n"
        "    async def forward(self, adapter):\n"
        "        print('holding', flush=True)\n"
        "        sys.stdin.readline()\n"
    )
    env = {**os.environ, "COVET_DATABASE_URL": NODES[0], "COVET_MIGRATIONS_DIR": str(folder)}
    holder = subprocess.Popen(
        [sys.executable, "-m", "covet_core", "migrate", "up"],
        cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        other = _covet(tmp_path, NODES[2], "migrate", "unlock")
        out, err = other.communicate(timeout=60)
        assert other.returncode == 2, out + err
        assert f"/{holder.pid}" in out + err  # the holder's pid, seen from node 3
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0


async def _adapter(url: str) -> Any:
    from covet_core.plugins import Plugins

    adapter = Plugins.load().dialect("mysql").adapter_from_url(url, None)
    await adapter.connect()
    return adapter


async def test_a_data_migration_waits_while_a_node_stops_applying(galera: None) -> None:
    """Node 3 under FLUSH TABLES WITH READ LOCK (a backup's desync: it stops applying the
    cluster's writes, and its receive queue grows): with ``max_replica_lag=0`` and no
    ``replicas`` listed, the migration finds the nodes itself, stops advancing until node 3
    applies again, then finishes with every row once."""
    primary = await _adapter(NODES[0])
    node3 = await _adapter(NODES[2])
    try:
        await numbered(primary, "lagged", 300)
        await node3.execute("SET SESSION wsrep_sync_wait = 1")
        assert await node3.fetch_value("SELECT count(*) FROM lagged") == 300
        await node3.execute("FLUSH TABLES WITH READ LOCK")
        watch = Stalled()
        migration = bumping("BulkDataMigration")(
            primary, "lagged", batch_size=50, max_replica_lag=0, progress_callback=watch,
            checkpoint_enabled=False,
        )  # fmt: skip
        running = asyncio.create_task(migration.execute())
        await asyncio.wait_for(watch.still.wait(), 60)
        assert watch.seen[0] == watch.seen[1] < 300, watch.seen
        await node3.execute("UNLOCK TABLES")
        progress = await asyncio.wait_for(running, 60)
        assert progress.processed_rows == 300 and progress.throttled_seconds > 1.5
        assert await primary.fetch_all("SELECT n, count(*) AS c FROM lagged GROUP BY n") == [
            {"n": 1, "c": 300}
        ]
    finally:
        await node3.execute("UNLOCK TABLES")
        await primary.execute("DROP TABLE IF EXISTS lagged")
        await node3.disconnect()
        await primary.disconnect()


async def test_parallel_workers_on_three_nodes_transform_each_row_once(galera: None) -> None:
    """The same ParallelDataMigration run at once on each node (the way several machines
    share one): chunk claims made on different nodes conflict in certification, never both
    win, so every row is transformed exactly once."""
    adapters = [await _adapter(url) for url in NODES]
    try:
        await numbered(adapters[0], "spread", 3000)
        for adapter in adapters[1:]:
            await adapter.execute("SET SESSION wsrep_sync_wait = 1")
            assert await adapter.fetch_value("SELECT count(*) FROM spread") == 3000
        spread = bumping("ParallelDataMigration")
        options = {"batch_size": 100, "chunk_rows": 200, "max_workers": 2, "name": "spread-once"}
        runs = [spread(adapter, "spread", **options) for adapter in adapters]
        async with asyncio.timeout(120), asyncio.TaskGroup() as group:  # one fails: all stop
            for run in runs:
                group.create_task(run.execute())
        assert await adapters[0].fetch_all("SELECT n, count(*) AS c FROM spread GROUP BY n") == [
            {"n": 1, "c": 3000}
        ]
        chunks = await adapters[0].fetch_all(
            "SELECT state, processed FROM _covet_data_chunks WHERE name = 'spread-once'"
        )
        assert {c["state"] for c in chunks} == {"done"}
        assert sum(c["processed"] for c in chunks) == 3000  # each chunk's rows counted once
    finally:
        await adapters[0].execute("DROP TABLE IF EXISTS spread")
        for adapter in adapters:
            await adapter.disconnect()


def test_verbose_output_says_the_cluster_lock_is_used(galera: None, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    # A history of its own: the module's other tests leave theirs behind on the cluster.
    (tmp_path / "covet.toml").write_text('history_table = "_covet_verbose_history"\n')
    proc = _covet(tmp_path, NODES[1], "-v", "migrate", "up")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert "lock.acquired" in err and "table (Galera cluster: GET_LOCK is node-local)" in err
