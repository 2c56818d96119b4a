"""Lower-casing the email of every row of a 1,000,000-row table, per dialect, in one run:
a single in-database UPDATE; the raw driver doing covet's round trip (the same keyset page and
the same write statements per batch), in turn, with the next page read beside the write, and
also transforming the next batch during the write ("same": what covet does on PostgreSQL and
MariaDB); BulkDataMigration (also with pages read in turn); ParallelDataMigration; and
DataMigration. Rows per second.

    python bench/data.py [--rows 1000000] [--batch 10000] [--repeat 3]
                         [--dialects postgresql mysql sqlite] [--only VARIANT ...]

The table: ``id bigint`` primary key, ``email`` like ``User123@Example.COM``, a 100-byte
payload. It is rebuilt before every variant, so each starts from the same data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from functools import partial
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


class BulkLowerInTurn(BulkLower):
    """Without reading the next page beside the write: covet's own cost against the plain
    round trip."""

    _prefetch = False


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


PG_PAGE = "SELECT * FROM big WHERE id > $1 ORDER BY id LIMIT $2"
# covet's planner settings for page reads (walk the key index; a never-analyzed table otherwise
# gets a whole-table scan and sort per page) and for the write (hash the batch, scan its range).
PG_WALK_INDEX = (
    "SET enable_seqscan = off; SET enable_sort = off; SET max_parallel_workers_per_gather = 0"
)
PG_HASH = "SET LOCAL enable_nestloop = off"
# covet's statement for this table (int key, str values into varchar: the JSON path).
PG_WRITE = (
    'UPDATE "big" AS t SET "email" = v."email"::character varying FROM ROWS FROM '
    '(json_array_elements_text($1::json), json_array_elements_text($2::json)) AS v("id", "email") '
    'WHERE t."id" = v."id"::bigint AND t."id" BETWEEN $3 AND $4'
)
MY_PAGE = "SELECT * FROM big WHERE id > %s ORDER BY id LIMIT %s"
MY_WRITE = (
    "UPDATE `big` AS t JOIN JSON_TABLE(%s, '$[*]' COLUMNS(`id` bigint(20) PATH '$[0]', "
    "`email` LONGTEXT PATH '$[1]')) AS v ON t.`id` = v.`id` SET t.`email` = v.`email`"
)


async def raw_round_trip(
    adapter: Any, dialect: str, batch: int, beside: bool = False, overlap: bool = False
) -> None:
    """What covet's bulk path does, written directly against the driver: the same keyset page
    of whole rows and the same write statement per batch, in a transaction, with no change
    detection and no checkpoint. ``beside``: read the next page on a second connection while
    the batch is written, as covet does where it can open one. ``overlap`` (with ``beside``):
    also transform the next page while the batch is still being written, as covet does when the
    transform does not use the adapter."""
    sibling = await adapter.open_sibling() if beside else None
    if sibling is not None:
        await sibling.connect()
    reader = (sibling or adapter).connection
    conn = adapter.connection
    try:
        if dialect == "postgresql":
            await reader.execute(PG_WALK_INDEX)
            await _raw_postgresql(conn, reader, batch, beside, overlap)
            await conn.execute(
                "RESET enable_seqscan; RESET enable_sort; RESET max_parallel_workers_per_gather"
            )
        elif dialect == "mysql":
            await _raw_mysql(conn, reader, batch, beside, overlap)
        else:
            await _raw_sqlite(conn, batch)
    finally:
        if sibling is not None:
            await sibling.disconnect()


async def _raw_postgresql(conn: Any, reader: Any, batch: int, beside: bool, overlap: bool) -> None:
    async def write(ids: list[int], emails: list[str], sending: asyncio.Event) -> None:
        async with conn.transaction():
            await conn.execute(PG_HASH)
            sending.set()
            await conn.execute(
                PG_WRITE, json.dumps(ids), json.dumps(emails, ensure_ascii=False), ids[0], ids[-1]
            )

    rows = await reader.fetch(PG_PAGE, 0, batch)
    writing: asyncio.Future[None] | None = None
    while rows:
        ids = [r["id"] for r in rows]
        emails = [r["email"].lower() for r in rows]
        ahead = asyncio.ensure_future(reader.fetch(PG_PAGE, ids[-1], batch)) if beside else None
        if writing is not None:
            await writing
        writing = await _launch(partial(write, ids, emails), overlap)
        rows = await ahead if ahead is not None else await conn.fetch(PG_PAGE, ids[-1], batch)
    if writing is not None:
        await writing


async def _launch(
    write: Callable[[asyncio.Event], Awaitable[None]], overlap: bool
) -> asyncio.Future[None] | None:
    """Run ``write``; with ``overlap``, return once its statement is on its way (as covet does:
    the next transform holds the event loop, so a write not yet sent would wait for it)."""
    sending = asyncio.Event()
    task = asyncio.ensure_future(write(sending))
    if not overlap:
        await task
        return None
    await asyncio.wait([task, asyncio.ensure_future(sending.wait())], return_when="FIRST_COMPLETED")
    await asyncio.sleep(0)
    return task


async def _raw_mysql(conn: Any, reader: Any, batch: int, beside: bool, overlap: bool) -> None:
    async def page(after: int) -> list[Any]:
        async with reader.cursor() as cur:
            await cur.execute(MY_PAGE, (after, batch))
            return list(await cur.fetchall())

    async def write(values: str, sending: asyncio.Event) -> None:
        async with conn.cursor() as cur:
            await cur.execute("BEGIN")
            sending.set()
            await cur.execute(MY_WRITE, (values,))
            await cur.execute("COMMIT")

    rows = await page(0)
    writing: asyncio.Future[None] | None = None
    while rows:
        values = json.dumps([(r[0], r[1].lower()) for r in rows], ensure_ascii=False)
        ahead = asyncio.ensure_future(page(rows[-1][0])) if beside else None
        if writing is not None:
            await writing
        writing = await _launch(partial(write, values), overlap)
        rows = await ahead if ahead is not None else await page(rows[-1][0])
    if writing is not None:
        await writing


async def _raw_sqlite(conn: Any, batch: int) -> None:
    last = 0
    cursor = await conn.cursor()
    cursor.row_factory = (
        None  # plain tuples, sqlite3's default (the adapter's connection makes dicts)
    )
    while True:
        await cursor.execute("SELECT * FROM big WHERE id > ? ORDER BY id LIMIT ?", (last, batch))
        rows = await cursor.fetchall()
        if not rows:
            return
        await conn.execute("BEGIN IMMEDIATE")
        await conn.executemany(
            "UPDATE big SET email = ? WHERE id = ?", [(r[1].lower(), r[0]) for r in rows]
        )
        await conn.execute("COMMIT")
        last = rows[-1][0]


async def run_dialect(
    dialect: str, url: str, rows: int, batch: int, repeat: int = 1,
    only: list[str] | None = None,
) -> dict[str, float]:  # fmt: skip
    from covet_core.plugins import Plugins

    d = Plugins.load().dialect_for_url(url)
    adapter = d.adapter_from_url(url, None)
    await adapter.connect()
    variants = {
        "in-database UPDATE": lambda: adapter.execute("UPDATE big SET email = LOWER(email)"),
        "raw driver round trip": lambda: raw_round_trip(adapter, dialect, batch),
        "raw, next page beside": lambda: raw_round_trip(adapter, dialect, batch, beside=True),
        "raw, beside + overlapped": lambda: raw_round_trip(
            adapter, dialect, batch, beside=True, overlap=True
        ),
        "BulkDataMigration": lambda: BulkLower(
            adapter=adapter, table_name="big", batch_size=batch
        ).execute(),
        "Bulk, pages in turn": lambda: BulkLowerInTurn(
            adapter=adapter, table_name="big", batch_size=batch
        ).execute(),
        "ParallelDataMigration": lambda: ParallelLower(
            adapter=adapter, table_name="big", batch_size=batch, max_workers=4
        ).execute(),
        "DataMigration": lambda: Lower(
            adapter=adapter, table_name="big", batch_size=batch
        ).execute(),
    }
    if dialect == "sqlite":  # covet reads beside the write only where a dialect's bulk path does
        del variants["raw, next page beside"], variants["Bulk, pages in turn"]
        del variants["raw, beside + overlapped"]
    if only:
        keep = ("in-database UPDATE", "raw driver round trip")
        variants = {k: v for k, v in variants.items() if k in keep or k.startswith(tuple(only))}
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):  # interleaved, so a load that drifts hits every variant alike
        for name, run in variants.items():
            await rebuild(adapter, dialect, rows, url)
            start = time.perf_counter()
            await run()
            runs[name].append(rows / (time.perf_counter() - start))
            left = await adapter.fetch_value("SELECT COUNT(*) FROM big WHERE email <> LOWER(email)")
            assert left == 0, f"{name} left {left} rows"
    await adapter.disconnect()
    return {name: statistics.median(rates) for name, rates in runs.items()}


def main() -> None:
    warnings.filterwarnings("ignore", message=".*Unknown table")  # DROP TABLE IF EXISTS, MySQL
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--dialects", nargs="+", default=["postgresql", "mysql", "sqlite"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant; the median")
    parser.add_argument(
        "--only", nargs="+", default=None, metavar="VARIANT",
        help="run just the variants whose names start with these words (the in-database "
        "UPDATE and the raw round trip always run: the ratios need them)",
    )  # fmt: skip
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covet-data-"))
    print(
        f"lower(email) over {args.rows:,} rows, batch {args.batch:,}, median of {args.repeat}: "
        f"rows/s, and ratios\n"
    )
    for dialect in args.dialects:
        with Scratch(dialect, root) as url:
            rates = asyncio.run(
                run_dialect(dialect, url, args.rows, args.batch, args.repeat, args.only)
            )
        base = rates["in-database UPDATE"]
        raw = rates["raw driver round trip"]
        same = rates.get("raw, beside + overlapped", raw)  # covet's strategy, by hand
        print(f"{'':<11}{'variant':<28}{'rows/s':>12}{'vs in-db':>10}{'vs raw':>9}{'vs same':>9}")
        for name, rate in rates.items():
            extra = f"{rate / raw:>8.2f}x{rate / same:>8.2f}x" if "raw" not in name else ""
            if name == "in-database UPDATE":
                extra = ""
            print(f"{dialect:<11}{name:<28}{rate:>12,.0f}{rate / base:>9.2f}x{extra}")
        print()


if __name__ == "__main__":
    main()
