"""Data-migration throughput with and without replica-lag throttling, on a real standby.

Needs the standby topology: ``bash ../shared/tools/topologies.sh up standby`` (primary on
5433, hot standby on 5434). Variants, interleaved, median of --repeat:

- ``no throttle``: BulkDataMigration, ``lower(email)`` over every row.
- ``max_replica_lag=1``: the same, waiting whenever the standby is more than 1 s behind.
- ``max_replica_lag=1, replay paused 2 s``: the standby stops replaying 2 s into the run
  (``pg_wal_replay_pause()``), then resumes; the migration must wait those seconds out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import asyncpg

from covet.database.migrations.data_migrations import BulkDataMigration
from covet_core.plugins import Plugins

PRIMARY = "postgresql://postgres@127.0.0.1:5433/covet"
STANDBY = "postgresql://postgres@127.0.0.1:5434/covet"


class Lower(BulkDataMigration):
    async def transform_batch(
        self, rows: list[dict[str, Any]], adapter: Any
    ) -> list[dict[str, Any]]:
        for row in rows:
            row["email"] = row["email"].lower()
        return rows


async def _table(rows: int) -> None:
    conn = await asyncpg.connect(PRIMARY)
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
    replica = await asyncpg.connect(STANDBY)
    try:  # start each run with the standby caught up
        while await replica.fetchval("SELECT pg_last_wal_replay_lsn() < $1", target):  # noqa: ASYNC110 - a server position, nothing to await
            await asyncio.sleep(0.05)
    finally:
        await replica.close()


async def _pause_for(seconds: float, after: float) -> None:
    replica = await asyncpg.connect(STANDBY)
    try:
        await asyncio.sleep(after)
        await replica.execute("SELECT pg_wal_replay_pause()")
        await asyncio.sleep(seconds)
        await replica.execute("SELECT pg_wal_replay_resume()")
    finally:
        await replica.close()


async def run(variant: str, rows: int, batch: int) -> tuple[float, float]:
    await _table(rows)
    adapter = Plugins.load().dialect("postgresql").adapter_from_url(PRIMARY, None)
    await adapter.connect()
    try:
        lag = None if variant == "no throttle" else 1.0
        migration = Lower(adapter, "lagbench", batch_size=batch, max_replica_lag=lag,
                          checkpoint_enabled=False)  # fmt: skip
        pauser = asyncio.create_task(_pause_for(2.0, 0.3)) if "paused" in variant else None
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
    args = parser.parse_args()
    variants = ["no throttle", "max_replica_lag=1", "max_replica_lag=1, replay paused 2 s"]
    times: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    for _ in range(args.repeat):
        for variant in variants:
            times[variant].append(await run(variant, args.rows, args.batch))
    base = statistics.median(t for t, _ in times[variants[0]])
    print(f"{args.rows} rows, batches of {args.batch}, median of {args.repeat}\n")
    print(f"{'variant':40} {'s':>7} {'rows/s':>9} {'throttled s':>12} {'vs none':>8}")
    for variant in variants:
        took = statistics.median(t for t, _ in times[variant])
        throttled = statistics.median(w for _, w in times[variant])
        print(f"{variant:40} {took:7.2f} {args.rows / took:9.0f} {throttled:12.2f} "
              f"{took / base:7.2f}x")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
