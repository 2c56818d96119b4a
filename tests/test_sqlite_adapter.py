"""SQLiteAdapter details: wrapping a caller's connection, URLs, errors, transactions."""

from __future__ import annotations

import aiosqlite
import pytest
from conftest import write_migration

from covet.database.adapters.sqlite import SQLiteAdapter
from covet.database.migrations import MigrationManager
from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError


async def test_wraps_a_connection_the_caller_owns(tmp_path, migrations_dir):
    write_migration(
        migrations_dir,
        "2024_01_01_000000_create_a",
        ["CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO a VALUES (1, 'x')"],
        ["DROP TABLE a"],
    )
    async with aiosqlite.connect(tmp_path / "own.db") as conn:  # default row factory: tuples
        adapter = SQLiteAdapter(connection=conn)
        await adapter.connect()
        result = await MigrationManager(adapter, "sqlite", migrations_dir).migrate_up()
        assert result["success"], result["error"]
        assert await adapter.fetch_all("SELECT id, name FROM a") == [{"id": 1, "name": "x"}]
        # An adapter with no driver rows of its own hands fetch_all's to a schema reader.
        assert await adapter.fetch_rows("SELECT id, name FROM a") == [{"id": 1, "name": "x"}]
        await adapter.disconnect()
        # Still the caller's, still open, and it sees the committed migration.
        async with conn.execute("SELECT count(*) FROM _covet_migrations") as cursor:
            assert (await cursor.fetchone())[0] == 1


async def test_transaction_commits_rolls_back_and_nests(tmp_path):
    adapter = SQLiteAdapter(tmp_path / "tx.db")
    await adapter.connect()
    await adapter.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    with pytest.raises(RuntimeError):
        async with adapter.transaction():
            await adapter.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("undo")
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 0
    async with adapter.transaction():
        await adapter.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(IntegrityError):
            async with adapter.transaction():  # a savepoint: only the inner part is undone
                await adapter.execute("INSERT INTO t VALUES (2)")
                await adapter.execute("INSERT INTO t VALUES (1)")
    assert await adapter.fetch_all("SELECT id FROM t") == [{"id": 1}]
    await adapter.executemany("INSERT INTO t VALUES (?)", [(3,), (4,)])
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 3
    assert await adapter.fetch_one("SELECT id FROM t WHERE id = ?", (99,)) is None
    with pytest.raises(DatabaseError, match="no such table"):
        await adapter.execute("SELECT * FROM missing")
    await adapter.disconnect()


def test_urls(tmp_path):
    assert SQLiteAdapter.from_url("sqlite:///app.db", tmp_path).path == str(tmp_path / "app.db")
    assert SQLiteAdapter.from_url("sqlite:////abs/app.db", tmp_path).path == "/abs/app.db"
    assert SQLiteAdapter.from_url("sqlite:///:memory:").path == ":memory:"
    assert SQLiteAdapter.from_url("sqlite:///x.db?timeout=2.5").timeout == 2.5
    for bad in (
        "sqlite://",
        "sqlite:///x.db?journal=wal",
        "sqlite://host/x.db",
        "sqlite:///x?timeout=soon",
    ):
        with pytest.raises(ConfigError):
            SQLiteAdapter.from_url(bad)


async def test_unopenable_file_is_a_one_line_error(tmp_path):
    adapter = SQLiteAdapter(tmp_path / "missing-dir" / "x.db")
    with pytest.raises(
        ConnectionFailedError, match=r"cannot open SQLite database .*does not exist"
    ):
        await adapter.connect()
    with pytest.raises(ConnectionFailedError, match="not connected"):
        await adapter.execute("SELECT 1")


async def test_in_memory_database_migrates_without_a_lock_file(tmp_path, migrations_dir):
    write_migration(
        migrations_dir, "2024_01_01_000000_a", ["CREATE TABLE a (id INTEGER)"], ["DROP TABLE a"]
    )
    adapter = SQLiteAdapter(":memory:")
    await adapter.connect()
    result = await MigrationManager(adapter, "sqlite", migrations_dir).migrate_up()
    assert result["success"] and result["applied"] == ["2024_01_01_000000_a"]
    assert list(tmp_path.glob("*covet-lock")) == []
    await adapter.disconnect()


async def test_unreadable_database_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "folder-not-file.db"
    bad.mkdir()  # a directory where the database file should be
    with pytest.raises(ConnectionFailedError, match="cannot open SQLite database"):
        await SQLiteAdapter(bad).connect()
