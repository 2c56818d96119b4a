"""The dialect's default migration lock across real processes: one migrates, the other waits
or gives up naming the holder, and a holder killed with SIGKILL blocks nobody.

The test holds no connection of its own while the processes run: a database one process at a
time may open (DuckDB) must be free for them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from covet_core.testing.support import ScratchDatabase, asynctest, write_migration

__all__ = [
    "test_lock_killed_holder_does_not_block",
    "test_lock_only_one_process_applies_each_migration",
]


def cli(db: ScratchDatabase, migrations: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COVET_DATABASE_URL": db.url, "COVET_MIGRATIONS_DIR": str(migrations)}
    return subprocess.Popen(
        [sys.executable, "-m", "covet_core", "migrate", "up", *args],
        cwd=db.workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def two_migrations(db: ScratchDatabase, migrations: Path) -> list[str]:
    names = ["2024_01_01_000000_one", "2024_01_02_000000_two"]
    for i, name in enumerate(names):
        table = db.q(f"t{i}")
        write_migration(
            migrations,
            name,
            [
                f"CREATE TABLE {table} ({db.q('id')} INTEGER PRIMARY KEY)",
                f"INSERT INTO {table} ({db.q('id')}) VALUES (1)",
            ],
            [f"DROP TABLE {table}"],
        )
    return names


async def rows_and_tables(db: ScratchDatabase) -> tuple[list[int], bool]:
    """Row counts of t0 and t1 where they exist, and whether t0 exists, on a fresh connection."""
    adapter = db.new_adapter()
    await adapter.connect()
    try:
        counts = []
        for i in range(2):
            if await db.table_exists(adapter, f"t{i}"):
                counts.append(await adapter.fetch_value(f"SELECT COUNT(*) FROM {db.q(f't{i}')}"))
        return counts, await db.table_exists(adapter, "t0")
    finally:
        await adapter.disconnect()


@asynctest
async def test_lock_only_one_process_applies_each_migration(
    covet_database: ScratchDatabase, covet_migrations: Path
) -> None:
    db = covet_database
    names = two_migrations(db, covet_migrations)
    procs = [cli(db, covet_migrations, "--lock-timeout", "60") for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, f"exit {proc.returncode}: {out}\n{err}"
    applied = [ln.split()[1] for out, _ in outputs for ln in out.splitlines() if "✓" in ln]
    assert sorted(applied) == names, "each migration applied by exactly one process"
    assert (await rows_and_tables(db))[0] == [1, 1]


@asynctest
async def test_lock_killed_holder_does_not_block(
    covet_database: ScratchDatabase, covet_migrations: Path
) -> None:
    db = covet_database
    names = two_migrations(db, covet_migrations)
    holder = subprocess.Popen(
        [sys.executable, "-m", "covet_core.testing.holder", db.url, str(covet_migrations)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"  # synchronise on the pipe
        out, err = cli(db, covet_migrations, "--lock-timeout", "0.2").communicate(timeout=60)
        assert "lock" in (out + err).lower() and str(holder.pid) in out + err, out + err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert not (await rows_and_tables(db))[1], "the lock kept the other process out"
    proc = cli(db, covet_migrations, "--lock-timeout", "30")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert sorted(ln.split()[1] for ln in out.splitlines() if "✓" in ln) == names
