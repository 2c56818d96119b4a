"""Lower-casing the email of every row of a 1,000,000-row table, per dialect, in one run:
a single in-database UPDATE, the raw driver doing covet's round trip (keyset batch + one bulk
write per batch), BulkDataMigration, and DataMigration. Rows per second.

    python bench/data.py [--rows 1000000] [--batch 10000] [--dialects postgresql mysql sqlite]

The table: ``id bigint`` primary key, ``email`` like ``User123@Example.COM``, a 100-byte
payload. It is rebuilt before every variant, so each starts from the same data.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from backup import DDL, FILL, fill_sqlite
from dialects import Scratch

from covet.database.migrations.data_migrations import (
    BulkDataMigration,
    DataMigration,
    ParallelDataMigration,
)


class LowerEmails:
    """The transform every variant runs (a mixin, so the classes differ only in write path)."""

    async def transform_batch(
        self, rows: list[dict[str, Any]], adapter: Any
    ) -> list[dict[str, Any]]:
        for row in rows:
            row["email"] = row["email"].lower()
        return rows


class Lower(LowerEmails, DataMigration):
    pass


class BulkLower(LowerEmails, BulkDataMigration):
    pass


class ParallelLower(LowerEmails, ParallelDataMigration):
    pass


async def rebuild(adapter: Any, dialect: str, rows: int, url: str) -> None:
    await adapter.execute("DROP TABLE IF EXISTS big")
    await adapter.execute("DROP TABLE IF EXISTS _covet_data_checkpoints")
    await adapter.execute("DROP TABLE IF EXISTS _covet_data_chunks")
    if dialect == "sqlite":
        await adapter.disconnect()
        fill_sqlite(Path(url[len("sqlite:///") :]), rows)
        await adapter.connect()
    else:
        await adapter.execute(DDL)
        await adapter.execute(FILL[dialect].format(n=rows))


async def raw_round_trip(adapter: Any, dialect: str, batch: int) -> None:
    """What covet's bulk path does, written directly against the driver (whole rows, as
    transform_batch receives them)."""
    conn = adapter.connection
    last = 0
    while True:
        if dialect == "postgresql":
            rows = await conn.fetch(
                "SELECT * FROM big WHERE id > $1 ORDER BY id LIMIT $2", last, batch
            )
            if not rows:
                return
            async with conn.transaction():
                await conn.execute(
                    "UPDATE big AS t SET email = v.email FROM unnest($1::bigint[], $2::varchar[]) "
                    "AS v(id, email) WHERE t.id = v.id",
                    [r["id"] for r in rows], [r["email"].lower() for r in rows],
                )  # fmt: skip
            last = rows[-1]["id"]
        elif dialect == "mysql":
            async with conn.cursor() as cur:
                await cur.execute(
                    "SELECT * FROM big WHERE id > %s ORDER BY id LIMIT %s", (last, batch)
                )
                rows = await cur.fetchall()
                if not rows:
                    return
                derived = "SELECT %s AS id, %s AS email" + " UNION ALL SELECT %s, %s" * (
                    len(rows) - 1
                )
                await cur.execute("BEGIN")
                await cur.execute(
                    f"UPDATE big AS t JOIN ({derived}) AS v ON t.id = v.id SET t.email = v.email",
                    [x for r in rows for x in (r[0], r[1].lower())],
                )
                await cur.execute("COMMIT")
            last = rows[-1][0]
        else:
            cursor = await conn.execute(
                "SELECT * FROM big WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            )
            rows = await cursor.fetchall()
            if not rows:
                return
            await conn.execute("BEGIN IMMEDIATE")
            await conn.executemany(
                "UPDATE big SET email = ? WHERE id = ?",
                [(r["email"].lower(), r["id"]) for r in rows],
            )
            await conn.execute("COMMIT")
            last = rows[-1]["id"]


async def run_dialect(dialect: str, url: str, rows: int, batch: int) -> dict[str, float]:
    from covet_core.plugins import Plugins

    d = Plugins.load().dialect_for_url(url)
    adapter = d.adapter_from_url(url, None)
    await adapter.connect()
    variants = {
        "in-database UPDATE": lambda: adapter.execute("UPDATE big SET email = LOWER(email)"),
        "raw driver round trip": lambda: raw_round_trip(adapter, dialect, batch),
        "BulkDataMigration": lambda: BulkLower(
            adapter=adapter, table_name="big", batch_size=batch
        ).execute(),
        "ParallelDataMigration": lambda: ParallelLower(
            adapter=adapter, table_name="big", batch_size=batch, max_workers=4
        ).execute(),
        "DataMigration": lambda: Lower(
            adapter=adapter, table_name="big", batch_size=batch
        ).execute(),
    }
    rates = {}
    for name, run in variants.items():
        await rebuild(adapter, dialect, rows, url)
        start = time.perf_counter()
        await run()
        rates[name] = rows / (time.perf_counter() - start)
        changed = await adapter.fetch_value("SELECT COUNT(*) FROM big WHERE email <> LOWER(email)")
        assert changed == 0, f"{name} left {changed} rows"
    await adapter.disconnect()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--dialects", nargs="+", default=["postgresql", "mysql", "sqlite"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covet-data-"))
    print(
        f"lower(email) over {args.rows:,} rows, batch {args.batch:,}: rows/s (and vs in-database UPDATE)\n"
    )
    for dialect in args.dialects:
        with Scratch(dialect, root) as url:
            rates = asyncio.run(run_dialect(dialect, url, args.rows, args.batch))
        base = rates["in-database UPDATE"]
        raw = rates["raw driver round trip"]
        for name, rate in rates.items():
            extra = f"  ({rate / raw:.2f}x raw)" if name.endswith("Migration") else ""
            print(f"{dialect:<11}{name:<24}{rate:>12,.0f}{rate / base:>8.2f}x{extra}")
        print()


if __name__ == "__main__":
    main()
