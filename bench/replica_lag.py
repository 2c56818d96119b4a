"""Data-migration throughput with and without replica-lag throttling, on a real replica.

PostgreSQL (default) needs ``bash ../shared/tools/topologies.sh up standby`` (primary on 5433,
hot standby on 5434); ``--dialect mysql`` needs ``bash tests/tools/mariadb-replication.sh up``
(primary on 4316, replica on 4317, listed in ``replicas=``). Variants, interleaved, median of
--repeat:

- ``no throttle``: BulkDataMigration, ``lower(email)`` over every row.
- ``max_replica_lag=1``: the same, waiting whenever the replica is more than 1 s behind.
- ``max_replica_lag=1, replay paused 2 s``: the replica stops applying 0.3 s into the run
  (``pg_wal_replay_pause()`` / ``STOP SLAVE SQL_THREAD``) for 2 s, then resumes; the migration
  must wait until it is back within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import aiomysql
import asyncpg

from covet.database.migrations.data_migrations import BulkDataMigration
from covet_core.plugins import Plugins


class Lower(BulkDataMigration):
    async def transform_batch(
        self, rows: list[dict[str, Any]], adapter: Any
    ) -> list[dict[str, Any]]:
        for row in rows:
            row["email"] = row["email"].lower()
        return rows


class Postgres:
    primary = "postgresql://postgres@127.0.0.1:5433/covet"
    replicas: tuple[str, ...] = ()
    standby = "postgresql://postgres@127.0.0.1:5434/covet"

    async def table(self, rows: int) -> None:
        conn = await asyncpg.connect(self.primary)
        try:
            await conn.execute("DROP TABLE IF EXISTS lagbench")
            await conn.execute(
                "CREATE TABLE lagbench (id bigint PRIMARY KEY, email text NOT NULL, payload text)"
            )
            await conn.execute(
                "INSERT INTO lagbench SELECT g, 'User' || g || '@Example.COM', repeat('x', 100) "
                "FROM generate_series(1, $1) g",
                rows,
            )
            await conn.execute("ANALYZE lagbench")
            target = await conn.fetchval("SELECT pg_current_wal_lsn()")
        finally:
            await conn.close()
        replica = await asyncpg.connect(self.standby)
        try:  # start each run with the standby caught up
            while await replica.fetchval("SELECT pg_last_wal_replay_lsn() < $1", target):  # noqa: ASYNC110 - a server position, nothing to await
                await asyncio.sleep(0.05)
        finally:
            await replica.close()

    async def pause_for(self, seconds: float, after: float) -> None:
        replica = await asyncpg.connect(self.standby)
        try:
            await asyncio.sleep(after)
            await replica.execute("SELECT pg_wal_replay_pause()")
            await asyncio.sleep(seconds)
            await replica.execute("SELECT pg_wal_replay_resume()")
        finally:
            await replica.close()


class MariaDB:
    primary = "mysql://root@127.0.0.1:4316/covet"
    replicas = ("mysql://root@127.0.0.1:4317/covet",)

    @staticmethod
    async def _on(port: int, *statements: str) -> Any:
        conn = await aiomysql.connect(host="127.0.0.1", port=port, user="root", db="covet",
                                      autocommit=True)  # fmt: skip
        try:
            async with conn.cursor() as cursor:
                for sql in statements:
                    await cursor.execute(sql)
                return await cursor.fetchall()
        finally:
            conn.close()

    async def table(self, rows: int) -> None:
        await self._on(
            4316,
            "DROP TABLE IF EXISTS lagbench",
            "CREATE TABLE lagbench (id bigint PRIMARY KEY, email varchar(80) NOT NULL, "
            "payload text)",
            # MariaDB's Sequence engine: seq_1_to_N is a table of 1..N.
            f"INSERT INTO lagbench SELECT seq, concat('User', seq, '@Example.COM'), "
            f"repeat('x', 100) FROM seq_1_to_{rows}",
        )
        while not await self._on(4317, f"SELECT 1 FROM lagbench WHERE id = {rows}"):  # noqa: ASYNC110 - a replica's position, nothing to await
            await asyncio.sleep(0.05)

    async def pause_for(self, seconds: float, after: float) -> None:
        await asyncio.sleep(after)
        await self._on(4317, "STOP SLAVE SQL_THREAD")
        await asyncio.sleep(seconds)
        await self._on(4317, "START SLAVE SQL_THREAD")


async def run(
    topology: Postgres | MariaDB, variant: str, rows: int, batch: int
) -> tuple[float, float]:
    await topology.table(rows)
    adapter = (
        Plugins.load().dialect_for_url(topology.primary).adapter_from_url(topology.primary, None)
    )
    await adapter.connect()
    try:
        lag = None if variant == "no throttle" else 1.0
        migration = Lower(adapter, "lagbench", batch_size=batch, max_replica_lag=lag,
                          replicas=topology.replicas, checkpoint_enabled=False)  # fmt: skip
        paused = "paused" in variant
        pauser = asyncio.create_task(topology.pause_for(2.0, 0.3)) if paused else None
        start = time.perf_counter()
        progress = await migration.execute()
        took = time.perf_counter() - start
        if pauser is not None:
            await pauser
        return took, progress.throttled_seconds
    finally:
        await adapter.disconnect()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dialect", choices=("postgresql", "mysql"), default="postgresql")
    args = parser.parse_args()
    topology = Postgres() if args.dialect == "postgresql" else MariaDB()
    variants = ["no throttle", "max_replica_lag=1", "max_replica_lag=1, replay paused 2 s"]
    times: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    for _ in range(args.repeat):
        for variant in variants:
            times[variant].append(await run(topology, variant, args.rows, args.batch))
    base = statistics.median(t for t, _ in times[variants[0]])
    print(f"{args.dialect}: {args.rows} rows, batches of {args.batch}, median of {args.repeat}\n")
    print(f"{'variant':40} {'s':>7} {'rows/s':>9} {'throttled s':>12} {'vs none':>8}")
    for variant in variants:
        took = statistics.median(t for t, _ in times[variant])
        throttled = statistics.median(w for _, w in times[variant])
        print(f"{variant:40} {took:7.2f} {args.rows / took:9.0f} {throttled:12.2f} "
              f"{took / base:7.2f}x")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
