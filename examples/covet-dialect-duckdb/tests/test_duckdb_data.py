"""Data migrations on DuckDB: a data step run by the CLI, resume after a failure exactly once,
the bulk path, and the parallel one (on one connection: see DuckDBAdapter.open_sibling)."""

from __future__ import annotations

import datetime
import decimal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from covet_dialect_duckdb.adapter import DuckDBAdapter

from covet_core.data import BulkDataMigration, DataMigration, ParallelDataMigration
from covet_core.errors import CovetError

pytest_plugins = ["duckdb_support"]

Covet = Callable[..., subprocess.CompletedProcess[str]]

ROWS = 2500

BACKFILL = """
from covet.database.migrations.data_migrations import DataMigration
from covet.database.migrations.runner import Migration


class BackfillEmailV2(DataMigration):
    table_name = "users"
    batch_size = 1000

    async def transform_batch(self, rows, adapter):
        for row in rows:
            row["email_v2"] = row["email"].upper()
        return rows


class AddEmailV2(Migration):
    forward_sql = ["ALTER TABLE users ADD COLUMN email_v2 VARCHAR"]
    backward_sql = ["ALTER TABLE users DROP COLUMN email_v2"]
    data_steps = [BackfillEmailV2]
"""


def _seed(path: Path) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR NOT NULL)")
        conn.execute(
            "INSERT INTO users SELECT i, 'user' || i || '@example.com' FROM range(1, ?) r(i)",
            [ROWS + 1],
        )


def test_a_data_step_backfills_every_row_through_the_cli(tmp_path: Path, covet: Covet) -> None:
    db = tmp_path / "app.duckdb"
    _seed(db)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "2024_01_01_000000_add_email_v2.py").write_text(BACKFILL)
    covet("migrate", "up")
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM users WHERE email_v2 = upper(email)"
        ).fetchone() == (ROWS,)
        assert conn.execute("SELECT state FROM _covet_migrations").fetchall() == [("applied",)]
    assert "1 applied, 0 pending" in covet("migrate", "status").stdout


class Doubling(DataMigration):
    fail_at: int | None = None

    async def transform_batch(self, rows: list[dict[str, Any]], adapter: Any) -> Any:
        for row in rows:
            if row["id"] == self.fail_at:
                raise RuntimeError("boom")
            row["n"] = row["n"] * 2
        return rows


async def _numbers(adapter: DuckDBAdapter) -> None:
    await adapter.execute("CREATE TABLE numbers (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    await adapter.execute(f"INSERT INTO numbers SELECT i, i FROM range(1, {ROWS + 1}) r(i)")


async def test_a_failed_run_resumes_after_its_last_batch_exactly_once(
    adapter: DuckDBAdapter,
) -> None:
    await _numbers(adapter)
    first = Doubling(adapter=adapter, table_name="numbers", batch_size=500)
    first.fail_at = 1700
    with pytest.raises(CovetError, match="boom"):
        await first.execute()
    # Three whole batches committed with their checkpoint; the failing one left no trace.
    assert await adapter.fetch_value("SELECT count(*) FROM numbers WHERE n = 2 * id") == 1500
    resumed = Doubling(adapter=adapter, table_name="numbers", batch_size=500)
    progress = await resumed.execute(resume=True)
    assert progress.processed_rows == ROWS
    assert await adapter.fetch_value("SELECT count(*) FROM numbers WHERE n = 2 * id") == ROWS


class Tripling(BulkDataMigration):
    async def transform_batch(self, rows: list[dict[str, Any]], adapter: Any) -> Any:
        for row in rows:
            row["n"] = row["n"] * 3
        return rows


class ParallelTripling(ParallelDataMigration):
    async def transform_batch(self, rows: list[dict[str, Any]], adapter: Any) -> Any:
        for row in rows:
            row["n"] = row["n"] * 3
        return rows


async def test_bulk_and_parallel_migrations_write_every_row_once(
    adapter: DuckDBAdapter,
) -> None:
    await _numbers(adapter)
    progress = await Tripling(adapter=adapter, table_name="numbers", batch_size=400).execute()
    assert progress.processed_rows == ROWS
    assert await adapter.fetch_value("SELECT count(*) FROM numbers WHERE n = 3 * id") == ROWS
    parallel = ParallelTripling(
        adapter=adapter, table_name="numbers", batch_size=300, max_workers=3
    )
    progress = await parallel.execute()
    assert progress.processed_rows == ROWS
    assert await adapter.fetch_value("SELECT count(*) FROM numbers WHERE n = 9 * id") == ROWS


class Relabel(BulkDataMigration):
    async def transform_batch(self, rows: list[dict[str, Any]], adapter: Any) -> Any:
        for row in rows:
            row["label"] = None if row["k"] % 3 == 0 else f"it's {row['k']}"
            row["due"] = datetime.date(2024, 1, 1) + datetime.timedelta(days=row["k"])
            row["amount"] = decimal.Decimal(row["k"]) / 4
        return rows


async def test_the_bulk_writer_writes_each_batch_in_one_statement_with_every_type(
    adapter: DuckDBAdapter,
) -> None:
    await adapter.execute(
        'CREATE TABLE "odd name" (k INTEGER, part VARCHAR, label VARCHAR, due DATE, '
        "amount DECIMAL(10, 2), PRIMARY KEY (k, part))"
    )
    await adapter.execute(
        "INSERT INTO \"odd name\" SELECT i, 'p', 'old', NULL, 0 FROM range(1, 1001) r(i)"
    )
    writes: list[str] = []
    execute = adapter.execute

    async def counting(sql: str, params: Any = None) -> int:
        if sql.startswith('UPDATE "odd name"'):
            writes.append(sql)
        return await execute(sql, params)

    adapter.execute = counting  # type: ignore[method-assign]
    progress = await Relabel(adapter=adapter, table_name="odd name", batch_size=250).execute()
    assert progress.processed_rows == 1000
    assert len(writes) == 4  # one UPDATE per batch, not one per row
    rows = await adapter.fetch_all('SELECT * FROM "odd name" WHERE k IN (3, 7) ORDER BY k')
    assert rows == [
        {"k": 3, "part": "p", "label": None, "due": datetime.date(2024, 1, 4),
         "amount": decimal.Decimal("0.75")},
        {"k": 7, "part": "p", "label": "it's 7", "due": datetime.date(2024, 1, 8),
         "amount": decimal.Decimal("1.75")},
    ]  # fmt: skip
