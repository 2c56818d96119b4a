"""DuckDBAdapter against real DuckDB files: the Adapter contract covet relies on."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import duckdb
import pytest
from covet_dialect_duckdb.adapter import DuckDBAdapter

from covet_core.adapter import Adapter
from covet_core.errors import (
    ConfigError,
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
    ReadOnlyDatabaseError,
)
from covet_core.manager import MigrationManager

pytest_plugins = ["duckdb_support"]


async def test_rows_are_dicts_and_counts_are_rows_changed(adapter: DuckDBAdapter) -> None:
    assert isinstance(adapter, Adapter)
    await adapter.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR)")
    assert await adapter.execute("INSERT INTO t VALUES (?, ?), (?, ?)", (1, "a", 2, "b")) == 2
    await adapter.executemany("INSERT INTO t VALUES (?, ?)", [(3, "c"), (4, "d")])
    assert await adapter.execute("UPDATE t SET name = upper(name) WHERE id > ?", (2,)) == 2
    assert await adapter.fetch_all("SELECT * FROM t WHERE id < 3 ORDER BY id") == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": "b"},
    ]
    assert await adapter.fetch_one("SELECT name FROM t WHERE id = ?", (4,)) == {"name": "D"}
    assert await adapter.fetch_one("SELECT name FROM t WHERE id = 99") is None
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 4


async def test_queries_run_off_the_event_loop_on_one_worker_thread(
    adapter: DuckDBAdapter,
) -> None:
    query = asyncio.ensure_future(
        adapter.fetch_value("SELECT sum(i) FROM range(100000000) AS r(i)")
    )
    turns = 0
    while not query.done():  # the loop keeps turning while DuckDB computes
        turns += 1
        await asyncio.sleep(0)
    assert await query == sum(range(100000000))
    assert turns > 1
    workers = [t for t in threading.enumerate() if t.name.startswith("covet-duckdb")]
    assert len(workers) == 1
    await adapter.disconnect()
    assert not any(t.name.startswith("covet-duckdb") for t in threading.enumerate())


async def test_errors_are_translated(adapter: DuckDBAdapter) -> None:
    await adapter.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    await adapter.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(IntegrityError, match=r"(?i)primary key"):
        await adapter.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(DatabaseError, match="nope") as caught:
        await adapter.fetch_all("SELECT * FROM nope")
    assert not isinstance(caught.value, IntegrityError)
    assert "\n" not in str(caught.value)


async def test_transaction_commits_and_rolls_back_ddl_too(adapter: DuckDBAdapter) -> None:
    async with adapter.transaction():
        assert adapter.in_transaction
        await adapter.execute("CREATE TABLE kept (i INTEGER)")
    assert not adapter.in_transaction
    with pytest.raises(DatabaseError):
        async with adapter.transaction():
            await adapter.execute("CREATE TABLE gone (i INTEGER)")
            await adapter.execute("INSERT INTO kept VALUES (1)")
            await adapter.execute("SELEC 1")
    assert not adapter.in_transaction
    names = await adapter.fetch_all("SELECT table_name FROM duckdb_tables()")
    assert names == [{"table_name": "kept"}]
    assert await adapter.fetch_value("SELECT count(*) FROM kept") == 0


async def test_nested_transaction_joins_the_outer_one(adapter: DuckDBAdapter) -> None:
    await adapter.execute("CREATE TABLE t (i INTEGER)")
    with pytest.raises(RuntimeError):
        async with adapter.transaction():
            await adapter.execute("INSERT INTO t VALUES (1)")
            async with adapter.transaction():
                await adapter.execute("INSERT INTO t VALUES (2)")
            async with adapter.transaction():
                raise RuntimeError("inner failure")
    # No savepoints: the inner failure undid the outer block's rows too.
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 0

    # An inner error swallowed by the caller still dooms the whole transaction.
    with pytest.raises(DatabaseError, match="whole transaction was rolled back"):
        async with adapter.transaction():
            await adapter.execute("INSERT INTO t VALUES (3)")
            try:
                async with adapter.transaction():
                    await adapter.execute("INSERT INTO t VALUES (NULL, NULL)")
            except DatabaseError:
                pass
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 0
    async with adapter.transaction():
        await adapter.execute("INSERT INTO t VALUES (4)")
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 1


async def test_a_wrapped_connection_is_left_open(tmp_path: Path) -> None:
    own = duckdb.connect(str(tmp_path / "own.duckdb"))
    wrapped = DuckDBAdapter(connection=own)
    await wrapped.connect()
    await wrapped.execute("CREATE TABLE t (i INTEGER)")
    await wrapped.execute("INSERT INTO t VALUES (7)")
    await wrapped.disconnect()
    assert own.execute("SELECT i FROM t").fetchall() == [(7,)]
    own.close()


async def test_connections_in_one_process_share_the_file(adapter: DuckDBAdapter) -> None:
    await adapter.execute("CREATE TABLE lk (id INTEGER PRIMARY KEY)")
    assert await adapter.open_sibling() is None  # see DuckDBAdapter.open_sibling
    other = DuckDBAdapter(adapter.path)
    await other.connect()
    try:
        # Two transactions insert the same key: the second commit is a constraint violation,
        # which the portable table lock needs to see as IntegrityError.
        with pytest.raises(IntegrityError):
            async with other.transaction():
                await other.execute("INSERT INTO lk VALUES (1)")
                async with adapter.transaction():
                    await adapter.execute("INSERT INTO lk VALUES (1)")
        assert await other.fetch_value("SELECT count(*) FROM lk") == 1
    finally:
        await other.disconnect()


def test_urls(tmp_path: Path) -> None:
    assert DuckDBAdapter.from_url("duckdb:///app.duckdb", tmp_path).path == str(
        tmp_path / "app.duckdb"
    )
    assert DuckDBAdapter.from_url("duckdb:////abs/x.duckdb", tmp_path).path == "/abs/x.duckdb"
    assert DuckDBAdapter.from_url("duckdb:///:memory:", tmp_path).path == ":memory:"
    assert DuckDBAdapter.from_url("duckdb:///a.duckdb?timeout=2.5", tmp_path).timeout == 2.5
    for bad in (
        "duckdb://host/x.duckdb",
        "duckdb:///",
        "duckdb:///x.duckdb?threads=2",
        "duckdb:///x.duckdb?timeout=-1",
    ):
        with pytest.raises(ConfigError):
            DuckDBAdapter.from_url(bad, tmp_path)


async def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    missing = DuckDBAdapter(tmp_path / "nope" / "app.duckdb")
    assert missing.missing_database() == str(tmp_path / "nope" / "app.duckdb")
    with pytest.raises(ConnectionFailedError, match=r"folder .* does not exist"):
        await missing.connect()


async def test_a_read_only_connection_is_refused_before_any_write(tmp_path: Path) -> None:
    path = tmp_path / "ro.duckdb"
    duckdb.connect(str(path)).close()
    own = duckdb.connect(str(path), read_only=True)
    adapter = DuckDBAdapter(connection=own)
    await adapter.connect()
    manager = MigrationManager(adapter, "duckdb", tmp_path / "migrations")
    with pytest.raises(ReadOnlyDatabaseError, match="opened with read_only=True"):
        await manager.require_writable()
    own.close()
