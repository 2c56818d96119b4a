"""PostgreSQLAdapter and the advisory lock against the real server."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from conftest import write_migration

from covet.database.adapters.postgresql import PostgreSQLAdapter
from covet.database.migrations import MigrationManager
from covet_core.errors import (
    ConfigError,
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
    LockError,
    LockTimeoutError,
)

SECRET = "s3cr3t-p4ss"  # noqa: S105 - a fake password, to prove it is never echoed


async def connect(target, **kwargs):
    adapter = PostgreSQLAdapter.from_url(target.url)
    for key, value in kwargs.items():
        setattr(adapter, key, value)
    await adapter.connect()
    return adapter


def test_url_parsing():
    adapter = PostgreSQLAdapter.from_url(
        "postgresql://app%40corp:p%2Fss@db.example:6543/my%20db?sslmode=require"
        "&connect_timeout=3&lock_timeout=5s&statement_timeout=1min&application_name=deploy"
    )
    assert (adapter.host, adapter.port, adapter.database, adapter.user) == (
        "db.example", 6543, "my db", "app@corp",
    )  # fmt: skip
    assert adapter.ssl == "require" and adapter.connect_timeout == 3
    assert adapter.server_settings == {
        "application_name": "deploy", "lock_timeout": "5s", "statement_timeout": "1min",
    }  # fmt: skip
    assert "p/ss" not in repr(adapter)
    assert PostgreSQLAdapter(statement_timeout=2.5).server_settings == {
        "statement_timeout": "2500ms"
    }
    for bad in ("postgresql://h/db?pool=5", "mysql://h/db", "postgresql://h:port/db"):
        with pytest.raises(ConfigError):
            PostgreSQLAdapter.from_url(bad)


async def test_statements_rows_transactions_and_errors(pg):
    adapter = await connect(pg)
    await adapter.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    assert await adapter.execute("INSERT INTO t VALUES ($1, $2)", (1, "a")) == 1
    await adapter.executemany("INSERT INTO t VALUES ($1, $2)", [(2, "b"), (3, "c")])
    assert await adapter.fetch_all("SELECT id, name FROM t WHERE id < $1 ORDER BY id", (3,)) == [
        {"id": 1, "name": "a"}, {"id": 2, "name": "b"},
    ]  # fmt: skip
    # A schema reader's rows: the driver's records, read by name like fetch_all's dicts, and
    # errors translated the same way.
    rows = await adapter.fetch_rows("SELECT id, name FROM t WHERE id < $1 ORDER BY id", (3,))
    assert [(r["id"], r["name"]) for r in rows] == [(1, "a"), (2, "b")]
    assert not isinstance(rows[0], dict)
    with pytest.raises(DatabaseError, match='relation "absent" does not exist'):
        await adapter.fetch_rows("SELECT * FROM absent")
    assert await adapter.execute("UPDATE t SET name = 'z'") == 3
    with pytest.raises(RuntimeError):
        async with adapter.transaction():
            await adapter.execute("DELETE FROM t")
            raise RuntimeError("undo")
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 3
    async with adapter.transaction():
        await adapter.execute("INSERT INTO t VALUES (4, 'd')")
        with pytest.raises(IntegrityError):
            async with adapter.transaction():
                await adapter.execute("INSERT INTO t VALUES (1, 'dup')")
    assert await adapter.fetch_value("SELECT count(*) FROM t") == 4
    with pytest.raises(DatabaseError, match='relation "missing" does not exist') as info:
        await adapter.execute("SELECT * FROM missing")
    assert info.value.sqlstate == "42P01"
    await adapter.disconnect()


async def test_wraps_a_connection_and_a_pool(pg, migrations_dir):
    write_migration(
        migrations_dir, "2024_01_01_000000_a", ["CREATE TABLE a (id INTEGER)"], ["DROP TABLE a"]
    )
    conn = await asyncpg.connect(pg.url)
    adapter = PostgreSQLAdapter(connection=conn)
    await adapter.connect()
    result = await MigrationManager(adapter, "postgresql", migrations_dir).migrate_up()
    assert result["success"], result["error"]
    await adapter.disconnect()
    assert await conn.fetchval("SELECT count(*) FROM _covet_migrations") == 1, "still open"
    await conn.close()

    pool = await asyncpg.create_pool(pg.url, min_size=1, max_size=3)
    adapter = PostgreSQLAdapter(pool=pool)
    await adapter.connect()
    manager = MigrationManager(adapter, "postgresql", migrations_dir)
    assert (await manager.migrate_down())["success"]
    await adapter.disconnect()
    async with pool.acquire() as again:
        assert await again.fetchval("SELECT count(*) FROM _covet_migrations") == 0
    await pool.close()


async def test_a_pool_with_no_free_connection_is_an_error_not_a_hang(pg, migrations_dir):
    """The advisory lock wants a second session; a pool of one cannot give it."""
    write_migration(
        migrations_dir, "2024_01_01_000000_a", ["CREATE TABLE a (id INTEGER)"], ["DROP TABLE a"]
    )
    pool = await asyncpg.create_pool(pg.url, min_size=1, max_size=1)
    adapter = PostgreSQLAdapter(pool=pool, connect_timeout=0.5)
    await adapter.connect()
    sibling = await adapter.open_sibling()
    assert sibling is not None
    sibling.connect_timeout = 0.5
    with pytest.raises(ConnectionFailedError, match="no free connection in the pool"):
        await sibling.connect()
    await adapter.disconnect()
    await pool.close()


async def test_session_timeouts_are_applied(pg, migrations_dir):
    adapter = PostgreSQLAdapter.from_url(pg.url + "?lock_timeout=150ms&statement_timeout=2s")
    await adapter.connect()
    assert await adapter.fetch_value("SHOW lock_timeout") == "150ms"
    assert await adapter.fetch_value("SHOW statement_timeout") == "2s"
    await adapter.execute("CREATE TABLE busy (id INTEGER)")
    blocker = await asyncpg.connect(pg.url)
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
    write_migration(
        migrations_dir,
        "2024_01_01_000000_alter",
        ["ALTER TABLE busy ADD COLUMN x INTEGER"],
        ["SELECT 1"],
    )
    result = await MigrationManager(adapter, "postgresql", migrations_dir).migrate_up()
    assert not result["success"] and "lock timeout" in result["error"]
    await tx.rollback()
    await blocker.close()
    await adapter.disconnect()


async def test_create_index_concurrently_needs_atomic_false(pg, migrations_dir):
    adapter = await connect(pg)
    await adapter.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    write_migration(
        migrations_dir, "2024_01_01_000000_idx_tx",
        ["CREATE INDEX CONCURRENTLY idx_a ON users (email)"], ["DROP INDEX idx_a"],
    )  # fmt: skip
    manager = MigrationManager(adapter, "postgresql", migrations_dir)
    failed = await manager.migrate_up()
    assert "cannot run inside a transaction block" in failed["error"]
    assert (await manager.get_status())[0].state == "pending"
    write_migration(
        migrations_dir, "2024_01_01_000000_idx_tx",
        ["CREATE INDEX CONCURRENTLY idx_a ON users (email)"],
        ["DROP INDEX CONCURRENTLY idx_a"], atomic=False,
    )  # fmt: skip
    result = await manager.migrate_up()
    assert result["success"], result["error"]
    assert result["plan"][0]["transaction"] is False
    assert (
        await adapter.fetch_value("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_a'") == 1
    )
    assert (await manager.migrate_down())["success"]
    await adapter.disconnect()


async def test_connect_errors_are_one_line_and_never_show_the_password(pg):
    base = pg.url.rsplit("/", 1)[0].replace(
        "postgresql://postgres@", f"postgresql://postgres:{SECRET}@"
    )
    cases = {
        f"{base}/no_such_database_here": "does not exist",
        base.replace("postgres:", "no_such_role:") + "/test": "refused user 'no_such_role'",
        f"postgresql://postgres:{SECRET}@127.0.0.1:1/test": "cannot connect to PostgreSQL at 127.0.0.1:1",
    }
    for url, expected in cases.items():
        with pytest.raises(ConnectionFailedError) as info:
            await PostgreSQLAdapter.from_url(url).connect()
        message = str(info.value)
        assert expected in message and SECRET not in message and "\n" not in message


async def test_advisory_lock_holder_timeout_and_force(pg, migrations_dir):
    first = await connect(pg)
    second = await connect(pg)
    holder_manager = MigrationManager(first, "postgresql", migrations_dir)
    waiter = MigrationManager(second, "postgresql", migrations_dir, lock_timeout=0.2)
    async with holder_manager.locked():
        with pytest.raises(LockTimeoutError, match=r"held by .+/\d+ since "):
            async with waiter.locked():
                pass
        with pytest.raises(LockError, match="--force"):
            await waiter.unlock()
        # The lock is on its own session, not on the migration connection.
        sessions = await second.fetch_value(
            # This database only: other test runs share the server.
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name LIKE 'covet %' AND datname = current_database()"
        )
        assert sessions == 1
        old = await waiter.unlock(force=True)
        assert old is not None
        for _ in range(100):  # termination is asynchronous on the server: poll, bounded
            if await waiter.lock_strategy().holder() is None:
                break
            await asyncio.sleep(0.05)
        async with waiter.locked():
            pass
    await first.disconnect()
    await second.disconnect()


async def test_statements_that_refuse_a_transaction_are_detected(pg, migrations_dir):
    adapter = await connect(pg)
    await adapter.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    # atomic not declared: covet sees CREATE INDEX CONCURRENTLY and runs it outside a transaction
    (migrations_dir / "2024_01_01_000000_idx.py").write_text(
        "from covet.database.migrations.runner import Migration\n\n"
        "class M(Migration):\n"
        "    forward_sql = ['/* no lock on writes */ CREATE INDEX CONCURRENTLY idx_b ON users (email)']\n"
        "    backward_sql = ['DROP INDEX CONCURRENTLY idx_b']\n"
    )
    (migrations_dir / "2024_01_02_000000_plain.sql").write_text(
        "-- covet:up\nCREATE TABLE plain (id INTEGER);\n-- covet:down\nDROP TABLE plain;\n"
    )
    manager = MigrationManager(adapter, "postgresql", migrations_dir)
    dry = await manager.migrate_up(dry_run=True)
    assert [step["transaction"] for step in dry["plan"]] == [False, True]
    result = await manager.migrate_up()
    assert result["success"], result["error"]
    assert (
        await adapter.fetch_value("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_b'") == 1
    )
    assert (await manager.migrate_down(steps=2))["success"]
    await adapter.disconnect()
