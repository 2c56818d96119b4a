"""Data migrations on every database: keyset batches, exactly-once resume, failures, bulk."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import Target

from covet.database.migrations.data_migrations import (
    BulkDataMigration,
    DataMigration,
    DataMigrationError,
    ParallelDataMigration,
)
from covet_core import hookimpl

ROWS = 2500


async def users(adapter: Any, target: Target, rows: int = ROWS) -> None:
    p = target.dialect.params(2)
    await adapter.execute(
        "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255), counter INTEGER NOT NULL DEFAULT 0)"
    )
    await adapter.executemany(
        f"INSERT INTO users (id, email) VALUES ({p[0]}, {p[1]})",
        [(i, None if i % 11 == 0 else f"User{i}@Example.COM") for i in range(1, rows + 1)],
    )


class Lower(DataMigration):
    async def transform_batch(self, rows, adapter):
        for row in rows:
            if row["email"]:
                row["email"] = row["email"].lower()
            row["counter"] += 1
        return rows


class BulkLower(BulkDataMigration):
    async def transform_batch(self, rows, adapter):
        return [
            {**r, "email": r["email"] and r["email"].lower(), "counter": r["counter"] + 1}
            for r in rows
        ]


async def check_all_once(adapter: Any) -> None:
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter <> 1") == 0
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE email <> LOWER(email)") == 0
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE email IS NULL") == ROWS // 11


@pytest.mark.parametrize("cls", [Lower, BulkLower])
async def test_every_row_once_with_progress(adapter, target, cls):
    await users(adapter, target)
    seen = []
    migration = cls(
        adapter=adapter,
        table_name="users",
        batch_size=1000,
        progress_callback=lambda p: seen.append(p.processed_rows),
    )
    progress = await migration.execute()
    assert seen == [1000, 2000, 2500]
    assert (progress.processed_rows, progress.total_rows, progress.failed_rows) == (2500, 2500, 0)
    assert (
        progress.success_rate == 100.0
        and progress.rows_per_second > 0
        and progress.eta_seconds == 0
    )
    await check_all_once(adapter)
    again = await cls(adapter=adapter, table_name="users", batch_size=1000).execute(resume=True)
    assert again.processed_rows == 2500, "a completed run resumes to nothing"
    await check_all_once(adapter)


KILLED = textwrap.dedent(
    """
    import asyncio, sys
    from covet_core.plugins import Plugins
    from covet.database.migrations.data_migrations import DataMigration

    class Lower(DataMigration):
        async def transform_batch(self, rows, adapter):
            for row in rows:
                row["email"] = row["email"] and row["email"].lower()
                row["counter"] += 1
            return rows

    async def main():
        d = Plugins.load().dialect_for_url(sys.argv[1])
        adapter = d.adapter_from_url(sys.argv[1], None)
        await adapter.connect()
        m = Lower(adapter=adapter, table_name="users", batch_size=100, checkpoint_enabled=True,
                  progress_callback=lambda p: print("batch", p.processed_rows, flush=True))
        await m.execute(resume="--resume" in sys.argv)

    asyncio.run(main())
    """
)


async def test_sigkill_then_resume_transforms_every_row_exactly_once(adapter, target):
    await users(adapter, target)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, target.url], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for _ in range(3):  # synchronise on committed batches, not on time
        assert proc.stdout.readline().startswith("batch")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partly = await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter = 1")
    assert 300 <= partly < ROWS, "killed part-way"
    resumed = subprocess.run(
        [sys.executable, "-c", KILLED, target.url, "--resume"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    await check_all_once(adapter)


async def test_composite_keys_unicode_and_where(adapter, target):
    p = target.dialect.params(3)
    await adapter.execute(
        "CREATE TABLE notes (tenant INTEGER NOT NULL, seq INTEGER NOT NULL, body VARCHAR(100), PRIMARY KEY (tenant, seq))"
    )
    await adapter.executemany(
        f"INSERT INTO notes (tenant, seq, body) VALUES ({p[0]}, {p[1]}, {p[2]})",
        [(t, s, None if s == 3 else f"Grüße {t}-{s} ✓") for t in (1, 2, 3) for s in range(1, 6)],
    )

    class Upper(BulkDataMigration):
        async def transform_batch(self, rows, adapter):
            return [{**r, "body": r["body"] and r["body"].upper()} for r in rows]

    where = f"tenant <> {target.dialect.placeholder(1)}"
    progress = await Upper(
        adapter=adapter, table_name="notes", batch_size=4, where=where, where_params=(2,)
    ).execute()
    assert progress.processed_rows == 10 and progress.batches == 3
    rows = await adapter.fetch_all("SELECT tenant, seq, body FROM notes ORDER BY tenant, seq")
    assert rows[0]["body"] == "GRÜSSE 1-1 ✓" and rows[2]["body"] is None
    assert rows[5]["body"] == "Grüße 2-1 ✓", "filtered out"


async def test_failures_retry_skip_and_stop(adapter, target):
    await users(adapter, target, rows=300)
    attempts: list[int] = []

    class Flaky(DataMigration):
        async def transform_batch(self, rows, adapter):
            attempts.append(rows[0]["id"])
            if rows[0]["id"] == 101 and attempts.count(101) == 1:
                raise ConnectionError("transient")
            if rows[0]["id"] == 201:
                raise ValueError("bad data in this batch")
            for r in rows:
                r["counter"] += 1
            return rows

    skipped = await Flaky(
        adapter=adapter, table_name="users", batch_size=100, retries=1, on_failure="skip"
    ).execute()
    assert attempts.count(101) == 2, "retried once"
    assert (skipped.processed_rows, skipped.failed_rows) == (300, 100)
    assert round(skipped.success_rate, 1) == 66.7
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter = 1") == 200

    class Broken(DataMigration):
        async def transform_batch(self, rows, adapter):
            raise ValueError("nope")

    with pytest.raises(
        DataMigrationError, match=r"batch starting at key \(1,\) failed after 1 attempt"
    ):
        await Broken(adapter=adapter, table_name="users", batch_size=100, name="broken").execute()


async def test_empty_table_and_missing_primary_key(adapter, target):
    await adapter.execute("CREATE TABLE empty_t (id INTEGER PRIMARY KEY, v VARCHAR(10))")
    progress = await Lower(adapter=adapter, table_name="empty_t").execute()
    assert (progress.processed_rows, progress.total_rows, progress.success_rate) == (0, 0, 100.0)
    await adapter.execute("CREATE TABLE heap (v VARCHAR(10))")
    with pytest.raises(DataMigrationError, match="has no primary key"):
        await Lower(adapter=adapter, table_name="heap").execute()


async def test_a_large_table_counts_from_the_catalog_estimate(adapter, target):
    """An exact COUNT(*) of a big InnoDB table takes seconds; the catalog's estimate is free.
    The progress says which it is, never shows more than 100%, and ends exact."""
    await users(adapter, target, rows=300)
    await adapter.execute("ANALYZE users" if target.name != "mysql" else "ANALYZE TABLE users")
    estimate_sql = target.dialect.row_estimate_sql

    class Estimated(Lower):
        estimate_above = 100

    seen = []
    migration = Estimated(
        adapter=adapter, table_name="users", batch_size=100,
        progress_callback=lambda p: seen.append((p.total_rows, p.total_is_estimate, p.processed_rows)),
    )  # fmt: skip
    progress = await migration.execute()
    assert (progress.total_rows, progress.total_is_estimate, progress.processed_rows) == (
        300, False, 300,
    )  # fmt: skip
    assert all(processed <= total for total, _, processed in seen)
    if estimate_sql is None:  # SQLite: counting is cheap, there is no estimate to ask for
        assert all(not estimated and total == 300 for total, estimated, _ in seen)
    else:
        assert seen[0][1], "the estimate was not used"
        stmt = estimate_sql("users")
        assert await adapter.fetch_value(stmt.text, stmt.params) > 0
    filtered = Estimated(adapter=adapter, table_name="users", where="id <= 50", name="filtered")
    assert (await filtered.execute()).total_rows == 50  # a filter needs the exact count


async def test_a_transform_may_not_change_keys(adapter, target):
    await users(adapter, target, rows=10)

    class Rekey(DataMigration):
        async def transform_batch(self, rows, adapter):
            return [{**r, "id": r["id"] + 1000} for r in rows]

    with pytest.raises(DataMigrationError, match="cannot change primary keys"):
        await Rekey(adapter=adapter, table_name="users").execute()
    assert await adapter.fetch_value("SELECT MAX(id) FROM users") == 10


@pytest.mark.parametrize("base", [DataMigration, BulkDataMigration])
async def test_returned_rows_in_another_order_shape_or_number(adapter, target, base):
    """Change detection matches returned rows to the rows read whatever the transform did:
    reordered, rebuilt with the keys in another order, some columns only, some rows only."""
    await users(adapter, target, rows=300)

    class Shapes(base):
        async def transform_batch(self, rows, adapter):
            first = rows[0]["id"]
            if first <= 100:  # new dicts, keys in another order, the list reversed
                return [
                    {"counter": r["counter"] + 1, "email": r["email"] and r["email"].lower(),
                     "id": r["id"]} for r in reversed(rows)
                ]  # fmt: skip
            if first <= 200:  # only the key and the changed column
                return [{"id": r["id"], "counter": r["counter"] + 1} for r in rows]
            for r in rows:  # in place, every fifth row left out (not written)
                r["counter"] += 1
                r["email"] = "changed"
            return [r for r in rows if r["id"] % 5]

    await Shapes(adapter=adapter, table_name="users", batch_size=100).execute()
    got = {
        r["id"]: (r["email"], r["counter"])
        for r in await adapter.fetch_all("SELECT id, email, counter FROM users")
    }
    for i in range(1, 301):
        email = None if i % 11 == 0 else f"User{i}@Example.COM"
        if i <= 100:
            want = (email and email.lower(), 1)
        elif i <= 200:
            want = (email, 1)
        else:
            want = ("changed", 1) if i % 5 else (email, 0)
        assert got[i] == want, i


async def test_values_of_every_kind_through_the_bulk_paths(adapter, target):
    """Ints and strings take the JSON paths on PostgreSQL and MySQL, dates, decimals and bytes
    the typed ones (on SQLite, dates become ISO-8601 text as the adapter binds them); NULLs,
    quotes, backslashes, newlines and astral characters survive every path."""
    sqlite = target.name == "sqlite"  # which binds no Decimal and returns dates as text
    blob = "BYTEA" if target.name == "postgresql" else "BLOB"
    await adapter.execute(
        f"CREATE TABLE kinds (id BIGINT PRIMARY KEY, name VARCHAR(40), n INTEGER, born DATE, "
        f"price DECIMAL(10,2), data {blob})"
    )
    p = target.dialect.params(6)
    await adapter.executemany(
        f"INSERT INTO kinds VALUES ({', '.join(p)})",
        [
            (i, f"n{i}", i, date(2020, 1, i), f"{i}.50" if sqlite else Decimal(f"{i}.50"), b"x")
            for i in range(1, 11)
        ],
    )
    tricky = ['Grüße "q" \\ b\nl 😀', None, "", "it's 100%", "  padded  "]

    class Kinds(BulkDataMigration):
        async def transform_batch(self, rows, adapter):
            for r in rows:
                if r["id"] <= 5:
                    r["name"], r["n"] = tricky[r["id"] - 1], None if r["id"] == 2 else -r["n"]
                else:
                    born = r["born"]
                    r["born"] = (born if isinstance(born, date) else date.fromisoformat(born)) + (
                        timedelta(days=1)
                    )
                    price = Decimal(str(r["price"])) + Decimal("0.01")
                    r["price"] = str(price) if sqlite else price
                    r["data"] = bytes([0, 255, r["id"]])
            return rows

    await Kinds(adapter=adapter, table_name="kinds", batch_size=4).execute()
    rows = await adapter.fetch_all("SELECT * FROM kinds ORDER BY id")
    for r in rows:
        i = r["id"]
        if i <= 5:
            assert (r["name"], r["n"]) == (tricky[i - 1], None if i == 2 else -i)
        else:
            born = r["born"] if isinstance(r["born"], date) else date.fromisoformat(r["born"])
            assert born == date(2020, 1, i + 1) and Decimal(str(r["price"])) == Decimal(f"{i}.51")
            assert bytes(r["data"]) == bytes([0, 255, i])
    if target.name == "postgresql":  # unnest() would flatten an array column: row by row
        await adapter.execute("CREATE TABLE tagged (id INTEGER PRIMARY KEY, tags TEXT[])")
        await adapter.execute("INSERT INTO tagged VALUES (1, '{a,b}'), (2, NULL)")

        class Tag(BulkDataMigration):
            async def transform_batch(self, rows, adapter):
                return [{**r, "tags": [*(r["tags"] or []), "new"]} for r in rows]

        await Tag(adapter=adapter, table_name="tagged").execute()
        tags = await adapter.fetch_all("SELECT tags FROM tagged ORDER BY id")
        assert [r["tags"] for r in tags] == [["a", "b", "new"], ["new"]]


async def test_a_too_long_value_is_an_error_not_truncated(adapter, target):
    if target.name == "sqlite":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    await adapter.execute("CREATE TABLE codes (id INTEGER PRIMARY KEY, code VARCHAR(5))")
    await adapter.execute("INSERT INTO codes VALUES (1, 'ab')")

    class Long(BulkDataMigration):
        async def transform_batch(self, rows, adapter):
            return [{**r, "code": "abcdefgh"} for r in rows]

    with pytest.raises(DataMigrationError, match=r"(?i)too long"):
        await Long(adapter=adapter, table_name="codes").execute()
    assert await adapter.fetch_value("SELECT code FROM codes") == "ab"


async def test_the_next_page_is_read_after_the_transform_and_its_connection_closed(adapter, target):
    """Pages may be read beside the previous batch's write, never before its transform: what
    the transform wrote through the adapter to later rows is seen by their batch."""
    await users(adapter, target, rows=500)
    p = target.dialect.params(2)
    sessions = {
        "postgresql": "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()",
        "mysql": "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()",
    }.get(target.name)
    before = await adapter.fetch_value(sessions) if sessions else 0

    class Ahead(BulkDataMigration):
        async def transform_batch(self, rows, adapter):
            last = rows[-1]["id"]
            await adapter.execute(
                f"UPDATE users SET counter = counter + 10 WHERE id > {p[0]} AND id <= {p[1]}",
                (last, last + 100),
            )
            for r in rows:
                r["counter"] += 1
            return rows

    await Ahead(adapter=adapter, table_name="users", batch_size=100).execute()
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter = 1") == 100
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter = 11") == 400
    if sessions:
        assert await adapter.fetch_value(sessions) == before, "the reading connection is closed"


async def test_no_second_connection_means_pages_in_turn(pg, monkeypatch):
    """A pool with one connection (held by the migration) cannot give the read-ahead its own:
    the wait for it is bounded and the migration reads pages in turn."""
    import asyncpg
    from covet_dialect_postgresql.adapter import PostgreSQLAdapter

    from covet_core.data.prefetch import Prefetcher

    monkeypatch.setattr(Prefetcher, "connect_within", 0.2)
    pool = await asyncpg.create_pool(pg.url, min_size=1, max_size=1)
    adapter = PostgreSQLAdapter(pool=pool)
    await adapter.connect()
    try:
        await users(adapter, pg, rows=300)
        await BulkLower(adapter=adapter, table_name="users", batch_size=100).execute()
        assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter <> 1") == 0
    finally:
        await adapter.disconnect()
        await pool.close()


PARALLEL = textwrap.dedent(
    """
    import asyncio, sys
    from covet_core.plugins import Plugins
    from covet.database.migrations.data_migrations import ParallelDataMigration

    class Count(ParallelDataMigration):
        async def transform_batch(self, rows, adapter):
            for row in rows:
                row["counter"] += 1
            return rows

    async def main():
        d = Plugins.load().dialect_for_url(sys.argv[1])
        adapter = d.adapter_from_url(sys.argv[1], None)
        await adapter.connect()
        m = Count(adapter=adapter, table_name="users", batch_size=50, chunk_rows=250, max_workers=1,
                  progress_callback=lambda p: print("batch", flush=True))
        await m.execute(resume=True)  # join the plan in progress, as every worker process does
        await adapter.disconnect()

    asyncio.run(main())
    """
)


async def test_parallel_processes_with_one_killed_mid_chunk(adapter, target):
    await users(adapter, target)

    def worker() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", PARALLEL, target.url], stdout=subprocess.PIPE, text=True
        )

    victim = worker()
    assert victim.stdout is not None
    assert victim.stdout.readline().startswith("batch"), "it committed a batch of its chunk"
    victim.send_signal(signal.SIGKILL)  # mid-chunk: 1 of the chunk's 5 batches committed
    victim.wait()
    others = [worker() for _ in range(3)]
    for proc in others:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    # The dead worker's chunk was taken over where it stopped: every row exactly once.
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter <> 1") == 0
    states = await adapter.fetch_all("SELECT DISTINCT state FROM _covet_data_chunks")
    assert [r["state"] for r in states] == ["done"]


async def test_parallel_workers_in_one_process(adapter, target):
    await users(adapter, target)

    class Count(ParallelDataMigration):
        async def transform_batch(self, rows, adapter):
            for row in rows:
                row["counter"] += 1
            return rows

    progress = await Count(
        adapter=adapter, table_name="users", batch_size=100, max_workers=4
    ).execute()
    assert progress.processed_rows == ROWS == progress.total_rows
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter <> 1") == 0
    again = await Count(
        adapter=adapter, table_name="users", batch_size=100, max_workers=4
    ).execute()
    assert again.processed_rows == ROWS, "a new run after a finished one starts over"
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter <> 2") == 0


async def test_cli_data_status_shows_unfinished_runs(adapter, target, tmp_path):
    import os

    await users(adapter, target, rows=300)

    class Stops(DataMigration):
        async def transform_batch(self, rows, adapter):
            if rows[0]["id"] > 100:
                raise RuntimeError("stop here")
            return rows

    with pytest.raises(DataMigrationError):
        await Stops(adapter=adapter, table_name="users", batch_size=100, name="stops").execute()
    result = subprocess.run(
        [sys.executable, "-m", "covet_core", "data", "status"],
        cwd=tmp_path, env={**os.environ, **target.env}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "stops on users: 100 rows done (0 failed), last key [100]" in result.stdout


STEP_MIGRATION = """
from covet.database.migrations.runner import Migration
from covet.database.migrations.data_migrations import DataMigration


class BackfillEmailV2(DataMigration):
    table_name = "users"
    batch_size = 100

    async def transform_batch(self, rows, adapter):
        if await adapter.fetch_value("SELECT COUNT(*) FROM stop_marker") and rows[0]["id"] > 100:
            raise RuntimeError("stopped by the test")
        for row in rows:
            if row["email"] and not row["email_v2"]:
                row["email_v2"] = row["email"]
            row["counter"] += 1
        return rows


class AddEmailV2(Migration):
    forward_sql = ["ALTER TABLE users ADD COLUMN email_v2 VARCHAR(255)"]
    backward_sql = ["ALTER TABLE users DROP COLUMN email_v2"]
    data_steps = [BackfillEmailV2]
"""


async def test_a_migration_with_a_data_step_resumes_through_resolve(
    adapter, target, migrations_dir
):
    from covet.database.migrations import MigrationManager

    await users(adapter, target, rows=300)
    await adapter.execute("CREATE TABLE stop_marker (id INTEGER)")
    await adapter.execute("INSERT INTO stop_marker VALUES (1)")
    (migrations_dir / "2024_01_01_000000_add_email_v2.py").write_text(STEP_MIGRATION)
    manager = MigrationManager(adapter, target.name, migrations_dir)
    dry = await manager.migrate_up(dry_run=True)
    assert dry["sql"][-1] == "-- data: BackfillEmailV2 on users"
    assert dry["plan"][0]["transaction"] is False
    failed = await manager.migrate_up()
    assert not failed["success"] and "stopped by the test" in failed["error"]
    status = (await manager.get_status())[0]
    assert status.state == "partial" and "1 statement(s) done" in status.detail
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter = 1") == 100
    await adapter.execute("DELETE FROM stop_marker")
    await manager.resolve("add_email_v2", applied=True, run=True)  # continues the data step
    assert (await manager.get_status())[0].applied
    assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE counter <> 1") == 0
    assert (
        await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE email_v2 IS NULL") == 300 // 11
    )


class ProgressRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    @hookimpl
    def covet_data_progress(self, migration: Any, step: str, progress: Any) -> None:
        self.calls.append((migration.name, step, progress.processed_rows))


async def test_data_steps_report_progress_through_the_hook(adapter, target, migrations_dir):
    from covet.database.migrations import MigrationManager

    await users(adapter, target, rows=250)
    await adapter.execute("CREATE TABLE stop_marker (id INTEGER)")
    (migrations_dir / "2024_01_01_000000_add_email_v2.py").write_text(STEP_MIGRATION)
    recorder = ProgressRecorder()
    manager = MigrationManager(adapter, target.name, migrations_dir, plugins=[recorder])
    assert (await manager.migrate_up(dry_run=True))["success"]
    assert recorder.calls == [], "no events on a dry run"
    assert (await manager.migrate_up())["success"]
    name = "2024_01_01_000000_add_email_v2"
    assert recorder.calls == [(name, "BackfillEmailV2", n) for n in (100, 200, 250)]
