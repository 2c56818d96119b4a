"""The migration lock: busy messages, dead holders, unlock — with real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Target, write_migration

from covet.database.migrations import MigrationManager
from covet_core.errors import LockError, LockTimeoutError

A = "2024_01_01_000000_create_a"

HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from covet_core.plugins import Plugins
    from covet.database.migrations import MigrationManager

    async def main():
        plugins = Plugins.load()
        dialect = plugins.dialect_for_url(sys.argv[1])
        adapter = dialect.adapter_from_url(sys.argv[1], None)
        await adapter.connect()
        manager = MigrationManager(adapter, dialect, sys.argv[2], plugins=plugins, lock=sys.argv[3])
        async with manager.locked():
            print("locked", flush=True)
            sys.stdin.readline()  # hold until killed

    asyncio.run(main())
    """
)


def start_holder(url: str, migrations: Path, lock: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(migrations), lock],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"  # synchronise on the pipe, not on time
    return proc


def lock_names(target: Target) -> list[str]:
    return sorted({target.dialect.default_lock, "table"})


async def test_busy_lock_names_holder_and_migrates_nothing(adapter, target, migrations_dir):
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    for lock in lock_names(target):
        first = MigrationManager(adapter, target.name, migrations_dir, lock=lock)
        other_adapter = target.new_adapter()
        await other_adapter.connect()
        try:
            second = MigrationManager(
                other_adapter, target.name, migrations_dir, lock=lock, lock_timeout=0.2
            )
            async with first.locked():
                result = await second.migrate_up()
            assert not result["success"]
            assert result["error"].startswith("Cannot acquire migration lock: held by ")
            assert f"{socket.gethostname()}/{os.getpid()} since " in result["error"]
            assert not await target.table_exists(other_adapter, "a")
            # Released on exit: the second manager now gets it at once.
            assert (await second.migrate_up())["applied"] == [A]
            assert (await second.migrate_down())["success"]
        finally:
            await other_adapter.disconnect()


async def test_holder_killed_with_sigkill_does_not_block(adapter, target, migrations_dir):
    for lock in lock_names(target):
        proc = start_holder(target.url, migrations_dir, lock)
        manager = MigrationManager(
            adapter, target.name, migrations_dir, lock=lock, lock_timeout=0.2
        )
        holder = await manager.lock_strategy().holder()
        assert holder is not None and holder.pid == proc.pid
        with pytest.raises(LockTimeoutError, match=f"/{proc.pid} since"):
            async with manager.locked():
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        manager.lock_timeout = 10
        async with manager.locked():
            assert (await manager.lock_strategy().holder()) is not None


async def test_table_lock_from_another_host_needs_unlock(adapter, target, migrations_dir):
    manager = MigrationManager(adapter, target.name, migrations_dir, lock="table", lock_timeout=0.1)
    async with manager.locked():
        pass  # creates the lock table
    p = target.dialect.params(6)
    await adapter.execute(
        "INSERT INTO _covet_migration_lock (id, host, pid, owner, token, acquired_at) "
        f"VALUES ({', '.join(p)})",
        (
            1,
            "build-7.example",
            4242,
            "ci@build-7",
            "t0k3n",
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
    )
    with pytest.raises(
        LockTimeoutError, match=r"held by build-7\.example/4242 since 2026-01-02 03:04:05 UTC"
    ):
        async with manager.locked():
            pass
    holder = await manager.unlock()
    assert holder is not None and holder.host == "build-7.example"
    assert await manager.unlock() is None
    async with manager.locked():
        pass


async def test_sqlite_file_lock_cannot_be_broken_while_alive(tmp_path, migrations_dir):
    url = f"sqlite:///{tmp_path / 'held.db'}"
    proc = start_holder(url, migrations_dir, "sqlite_file")
    try:
        from covet.database.adapters.sqlite import SQLiteAdapter

        adapter = SQLiteAdapter(tmp_path / "held.db")
        await adapter.connect()
        manager = MigrationManager(adapter, "sqlite", migrations_dir)
        with pytest.raises(LockError, match=f"held by running process .*/{proc.pid}"):
            await manager.unlock()
        await adapter.disconnect()
    finally:
        proc.kill()
        proc.wait()


async def test_lock_is_uncontended_fast(adapter, target, migrations_dir):
    # Not a timing test: proves acquire does not wait when free (timeout 0 would fail if it did).
    manager = MigrationManager(adapter, target.name, migrations_dir, lock_timeout=0)
    for _ in range(3):
        async with manager.locked():
            pass


async def test_unlock_refuses_a_live_table_lock_holder_unless_forced(
    adapter, target, migrations_dir
):
    proc = start_holder(target.url, migrations_dir, "table")
    try:
        manager = MigrationManager(adapter, target.name, migrations_dir, lock="table")
        with pytest.raises(LockError, match=f"running process .*/{proc.pid}.*--force"):
            await manager.unlock()
        holder = await manager.unlock(force=True)
        assert holder is not None and holder.pid == proc.pid
        assert await manager.lock_strategy().holder() is None
    finally:
        proc.kill()
        proc.wait()
