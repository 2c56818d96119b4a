"""The dialect's default backup strategy, where one is installed: a backup taken after
migrating restores every row (text, NULLs, bytes) and the history."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from covet_core.adapter import Adapter
from covet_core.schema import Column, ColumnType, CreateTable, ForeignKey, Table
from covet_core.testing.support import ScratchDatabase, asynctest, requires_worker, write_migration

__all__ = ["test_backup_round_trip_restores_rows_and_history"]

T = ColumnType
PARENT = Table(
    "parent",
    (Column("id", T("integer"), nullable=False), Column("name", T("string", 50))),
    primary_key=("id",),
)
CHILD = Table(
    "child",
    (
        Column("id", T("integer"), nullable=False),
        Column("parent_id", T("integer")),
        Column("note", T("string", 200)),
        Column("data", T("binary")),
    ),
    primary_key=("id",),
    foreign_keys=(ForeignKey("fk_child_parent", ("parent_id",), "parent", ("id",)),),
)
TABLES = ("parent", "child", "a", "_covet_migrations")


async def contents(db: ScratchDatabase, adapter: Adapter) -> str:
    digest = hashlib.sha256()
    for table in TABLES:
        for row in await adapter.fetch_all(f"SELECT * FROM {db.q(table)} ORDER BY 1"):
            normal = {
                k: bytes(v) if isinstance(v, bytes | bytearray | memoryview) else v
                for k, v in row.items()
            }
            digest.update(repr(sorted(normal.items())).encode())
    return digest.hexdigest()


@asynctest
async def test_backup_round_trip_restores_rows_and_history(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    strategy = db.dialect.default_backup
    if strategy is None:
        pytest.skip(f"{db.dialect.name} declares default_backup=None: no backups to test")
    if strategy not in db.plugins.backup_strategies:
        pytest.skip(f"{db.dialect.name}'s default backup {strategy!r} is not installed")
    requires_worker(db.dialect, "renderer", "the test's tables are created from models")
    for model in (PARENT, CHILD):
        for sql in db.plugins.render_operation(CreateTable(model), db.dialect):
            await adapter.execute(sql)
    await adapter.executemany(
        f"INSERT INTO {db.q('parent')} ({db.q('id')}, {db.q('name')}) VALUES ({db.p(2)})",
        [(1, "zürich ✓"), (2, None), (3, "日本語")],
    )
    names = ", ".join(db.q(c) for c in ("id", "parent_id", "note", "data"))
    await adapter.executemany(
        f"INSERT INTO {db.q('child')} ({names}) VALUES ({db.p(4)})",
        [(1, 1, "naïve 'quote' \\ back", bytes(range(256))), (2, None, None, None), (3, 3, "", b"\x00")],
    )  # fmt: skip
    write_migration(
        covet_migrations,
        "2024_01_01_000000_create_a",
        [f"CREATE TABLE {db.q('a')} ({db.q('id')} INTEGER PRIMARY KEY)"],
        [f"DROP TABLE {db.q('a')}"],
    )
    manager = db.manager(adapter, covet_migrations, backup_dir=db.workdir / "backups")
    assert (await manager.migrate_up())["success"]
    before = await contents(db, adapter)

    info = await manager.backup("suite")
    assert info.strategy == strategy and info.path.exists()
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    for table in ("child", "parent", "a", "_covet_migrations"):
        await adapter.execute(f"DROP TABLE {db.q(table)}")
    await manager.restore_backup(info.path)
    assert await contents(db, adapter) == before
    assert [s.applied for s in await manager.get_status()] == [True]
