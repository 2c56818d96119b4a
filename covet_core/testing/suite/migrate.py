"""MigrationManager on the dialect: up, down, status, dry run, target, history and checksums,
what a failure leaves behind, and ``.sql`` files split by the dialect's splitter."""

from __future__ import annotations

from pathlib import Path

from covet_core.adapter import Adapter
from covet_core.testing.support import (
    ScratchDatabase,
    asynctest,
    requires,
    requires_worker,
    write_migration,
)

__all__ = [
    "test_migrate_changed_applied_file_is_detected",
    "test_migrate_dry_run_changes_nothing",
    "test_migrate_failure_is_atomic_with_transactional_ddl",
    "test_migrate_failure_without_transactional_ddl_is_recorded_partial",
    "test_migrate_sql_file_is_split_into_statements",
    "test_migrate_up_status_down_and_target",
]

A = "2024_01_01_000000_create_a"
B = "2024_01_02_000000_create_b"
C = "2024_01_03_000000_create_c"


def three(db: ScratchDatabase, directory: Path) -> None:
    for name, table in ((A, "a"), (B, "b"), (C, "c")):
        write_migration(
            directory,
            name,
            [f"CREATE TABLE {db.q(table)} ({db.q('id')} INTEGER PRIMARY KEY)"],
            [f"DROP TABLE {db.q(table)}"],
        )


async def tables(db: ScratchDatabase, adapter: Adapter, *names: str) -> list[bool]:
    return [await db.table_exists(adapter, name) for name in names]


@asynctest
async def test_migrate_up_status_down_and_target(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    three(db, covet_migrations)
    manager = db.manager(adapter, covet_migrations)
    up = await manager.migrate_up(target=B)
    assert up["success"], up["error"]
    assert up["applied"] == [A, B] and up["error"] is None and up["duration"] >= 0
    assert await tables(db, adapter, "a", "b", "c") == [True, True, False]
    status = await manager.get_status()
    assert [(s.name, s.applied, s.state) for s in status] == [
        (A, True, "applied"),
        (B, True, "applied"),
        (C, False, "pending"),
    ]
    assert status[0].applied_at is not None and status[0].applied_at.tzinfo is not None
    assert status[2].applied_at is None
    rest = await manager.migrate_up()
    assert rest["success"] and rest["applied"] == [C]
    assert (await manager.migrate_up())["applied"] == [], "nothing applies twice"
    down = await manager.migrate_down(steps=2)
    assert down["success"], down["error"]
    assert down["rolled_back"] == [C, B]
    assert await tables(db, adapter, "a", "b", "c") == [True, False, False]
    assert [s.applied for s in await manager.get_status()] == [True, False, False]
    unknown = await manager.migrate_up(target="2030_01_01_000000_nope")
    assert not unknown["success"] and "unknown target" in unknown["error"]
    assert await tables(db, adapter, "b") == [False]


@asynctest
async def test_migrate_dry_run_changes_nothing(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    three(db, covet_migrations)
    manager = db.manager(adapter, covet_migrations)
    dry = await manager.migrate_up(dry_run=True)
    assert dry["success"] and dry["dry_run"] and dry["applied"] == [A, B, C]
    assert dry["sql"] == [
        f"CREATE TABLE {db.q(t)} ({db.q('id')} INTEGER PRIMARY KEY)" for t in "abc"
    ]
    # Not even the history or lock table may appear.
    assert await tables(db, adapter, "a", "_covet_migrations", "_covet_migration_lock") == [
        False,
        False,
        False,
    ]
    assert (await manager.migrate_up())["success"]
    dry_down = await manager.migrate_down(steps=1, dry_run=True)
    assert dry_down["success"] and dry_down["rolled_back"] == [C]
    assert await tables(db, adapter, "c") == [True]


@asynctest
async def test_migrate_changed_applied_file_is_detected(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    three(db, covet_migrations)
    manager = db.manager(adapter, covet_migrations)
    assert (await manager.migrate_up(target=B))["success"]
    rows = await adapter.fetch_all(
        "SELECT name, checksum, state FROM _covet_migrations ORDER BY execution_order"
    )
    assert [r["name"] for r in rows] == [A, B]
    assert all(r["state"] == "applied" and r["checksum"].startswith("sha256:") for r in rows)
    path = covet_migrations / f"{A}.py"
    path.write_text(path.read_text().replace("INTEGER PRIMARY KEY", "INTEGER NOT NULL"))
    status = {s.name: s for s in await manager.get_status()}
    assert status[A].changed and not status[B].changed
    refused = await manager.migrate_up()
    assert not refused["success"] and "covet migrate repair" in refused["error"]
    assert await tables(db, adapter, "c") == [False]
    await manager.repair()
    assert await manager.validate() == []
    assert (await manager.migrate_up())["applied"] == [C]


def failing(db: ScratchDatabase, directory: Path) -> None:
    write_migration(
        directory,
        A,
        [
            f"CREATE TABLE {db.q('a')} ({db.q('id')} INTEGER PRIMARY KEY)",
            f"INSERT INTO {db.q('no_such_table')} ({db.q('id')}) VALUES (1)",
            f"CREATE TABLE {db.q('a2')} ({db.q('id')} INTEGER PRIMARY KEY)",
        ],
        # Mirror order, one backward statement per forward one: resolve can undo a prefix.
        [f"DROP TABLE {db.q('a2')}", f"DELETE FROM {db.q('a')}", f"DROP TABLE {db.q('a')}"],
    )
    write_migration(
        directory,
        B,
        [f"CREATE TABLE {db.q('b')} ({db.q('id')} INTEGER PRIMARY KEY)"],
        [f"DROP TABLE {db.q('b')}"],
    )


@asynctest
async def test_migrate_failure_is_atomic_with_transactional_ddl(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    requires(db.dialect, "transactional_ddl", "DDL commits as it runs (see the partial test)")
    failing(db, covet_migrations)
    manager = db.manager(adapter, covet_migrations)
    result = await manager.migrate_up()
    assert not result["success"] and result["failed"] == A and result["applied"] == []
    assert "statement 2" in result["error"]
    assert await tables(db, adapter, "a", "a2", "b") == [False, False, False]
    assert [s.state for s in await manager.get_status()] == ["pending", "pending"]


@asynctest
async def test_migrate_failure_without_transactional_ddl_is_recorded_partial(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    failing(db, covet_migrations)
    manager = db.manager(adapter, covet_migrations)
    if db.dialect.capabilities.transactional_ddl:
        # The same state must be exact when the author opts out of the transaction.
        path = covet_migrations / f"{A}.py"
        path.write_text(path.read_text().replace("atomic = True", "atomic = False"))
    result = await manager.migrate_up()
    assert not result["success"] and result["failed"] == A
    # DDL committed as it ran: the history says exactly how far it got, never "applied".
    assert await tables(db, adapter, "a", "a2", "b") == [True, False, False]
    status = {s.name: s for s in await manager.get_status()}
    assert status[A].state == "partial" and "up: 1 statement(s) done" in (status[A].detail or "")
    refused = await manager.migrate_up()
    assert not refused["success"] and f"resolve {A}" in refused["error"]
    await manager.resolve(A, applied=False, run=True)  # undo statement 1, start over
    assert await tables(db, adapter, "a") == [False]
    assert [s.state for s in await manager.get_status()] == ["pending", "pending"]


@asynctest
async def test_migrate_sql_file_is_split_into_statements(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    requires_worker(db.dialect, "split_statements", "the dialect has no .sql migration files")
    t, v = db.q("t"), db.q("v")
    (covet_migrations / f"{A}.sql").write_text(
        "-- covet:up\n"
        f"CREATE TABLE {t} ({db.q('id')} INTEGER PRIMARY KEY, {v} VARCHAR(20));\n"
        "-- a semicolon in a comment; and in a string below\n"
        f"INSERT INTO {t} ({db.q('id')}, {v}) VALUES (1, 'a;b');\n"
        f"INSERT INTO {t} ({db.q('id')}, {v}) VALUES (2, 'it''s');\n"
        "-- covet:down\n"
        f"DROP TABLE {t};\n"
    )
    manager = db.manager(adapter, covet_migrations)
    up = await manager.migrate_up()
    assert up["success"], up["error"]
    rows = await adapter.fetch_all(f"SELECT {v} FROM {t} ORDER BY {db.q('id')}")
    assert [r["v"] for r in rows] == ["a;b", "it's"]
    down = await manager.migrate_down()
    assert down["success"] and await tables(db, adapter, "t") == [False]
