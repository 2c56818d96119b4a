"""A `covet migrate up` process killed with SIGKILL in the middle of a migration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from conftest import write_migration

A = "2024_01_01_000000_create_a"
B = "2024_01_02_000000_create_b"


def covet_up(env, cwd, stdin):
    return subprocess.Popen(
        [sys.executable, "-m", "covet_core", "migrate", "up", "--lock-timeout", "10"],
        cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


async def test_sigkill_mid_migration_leaves_a_clean_retry(
    adapter, target, migrations_dir, tmp_path
):
    write_migration(
        migrations_dir,
        A,
        ["CREATE TABLE a (id INTEGER PRIMARY KEY)", "INSERT INTO a (id) VALUES (1)"],
        ["DROP TABLE a"],
        body="""
        async def forward(self, adapter):
            import os, sys
            if not os.environ.get("BLOCK"):
                return
            print("inside-migration", flush=True)
            sleeps = {"postgresql": "SELECT pg_sleep(60)", "mysql": "SELECT SLEEP(60)"}
            if adapter.dialect_name in sleeps:
                await adapter.execute(sleeps[adapter.dialect_name])  # a long server statement
            else:
                sys.stdin.readline()  # SQLite has no sleep: block until killed
        """,
    )
    write_migration(
        migrations_dir, B, ["CREATE TABLE b (id INTEGER PRIMARY KEY)"], ["DROP TABLE b"]
    )
    env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}

    victim = covet_up({**env, "BLOCK": "1"}, tmp_path, subprocess.PIPE)
    assert victim.stdout is not None
    assert victim.stdout.readline().strip() == "inside-migration"  # synchronised on the pipe
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    victim.stdin.close()
    from covet.database.migrations import MigrationManager

    lock = MigrationManager(adapter, target.name, migrations_dir).lock_strategy()
    assert await lock.holder() is None, "the dead process's lock is free at once"

    status = {s.name: s for s in await _status(adapter, target, migrations_dir)}
    if target.dialect.capabilities.transactional_ddl:
        assert not await target.table_exists(adapter, "a"), "the killed transaction rolled back"
        assert status[A].state == "pending"
    else:
        assert status[A].state == "partial" and not status[A].applied
    assert not status[B].applied

    if target.dialect.capabilities.transactional_ddl:
        retry = covet_up(env, tmp_path, subprocess.DEVNULL)  # no BLOCK: forward() returns
        out, err = retry.communicate(timeout=60)
        assert retry.returncode == 0, err  # the dead holder's lock did not block
        assert A in out and B in out
        assert await adapter.fetch_value("SELECT count(*) FROM a") == 1


async def _status(adapter, target, migrations_dir):
    from covet.database.migrations import MigrationManager

    return await MigrationManager(adapter, target.name, migrations_dir).get_status()
