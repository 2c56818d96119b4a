"""A statement covet was killed in the middle of is *in doubt*: the server may finish it.

On MariaDB a statement keeps running on the server after its client is gone. The history then
says "statement k+1 was running": ``status`` shows it, and ``resolve --run`` refuses until the
user says whether it took effect (``--in-doubt=completed`` or ``--in-doubt=not-run``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiomysql
from conftest import Target, mysql_admin, write_migration

NAME = "2024_01_01_000000_drop_c"
ALTER = "ALTER TABLE t DROP COLUMN c"


def covet(target: Target, migrations_dir: Path, *args: str, wait: bool = True) -> Any:
    env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    command = [sys.executable, "-m", "covet_core", "migrate", *args]
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


async def wait_for(check: Any, what: str, timeout: float = 30.0) -> Any:
    """Poll ``check()`` (bounded, backing off) until it returns something truthy."""
    deadline, delay = time.monotonic() + timeout, 0.01
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_statement_killed_mid_run_is_in_doubt_until_the_user_says(mysql, migrations_dir):
    target, database = mysql, mysql.url.rsplit("/", 1)[1]
    admin = await mysql_admin_connection(target)
    async with admin.cursor() as cursor:
        await cursor.execute("CREATE TABLE t (id INT PRIMARY KEY, c INT)")
        await cursor.execute("INSERT INTO t VALUES (1, 1), (2, 2)")
    write_migration(
        migrations_dir,
        NAME,
        ["CREATE TABLE first_step (id INT PRIMARY KEY)", ALTER, "CREATE TABLE third (id INT)"],
        ["DROP TABLE third", "ALTER TABLE t ADD COLUMN c INT", "DROP TABLE first_step"],
    )
    # A reader's open transaction holds t's metadata lock: the ALTER waits for it, observably.
    blocker = await mysql_admin_connection(target)
    async with blocker.cursor() as cursor:
        await cursor.execute("START TRANSACTION")
        await cursor.execute("SELECT * FROM t")
    victim = covet(target, migrations_dir, "up", wait=False)

    async def alter_waiting() -> Any:
        rows = await mysql_admin(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s AND INFO = %s "
            "AND STATE LIKE %s",
            (database, ALTER, "%metadata lock%"),
        )
        return rows[0][0] if rows else None

    thread = await wait_for(alter_waiting, "the ALTER to wait for the metadata lock")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    async with blocker.cursor() as cursor:
        await cursor.execute("COMMIT")  # the orphaned ALTER may now run to its end

    async def thread_gone() -> bool:
        rows = await mysql_admin(
            "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s", (thread,)
        )
        return not rows

    await wait_for(thread_gone, "the killed client's server thread to end")
    columns = await mysql_admin(
        "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 't' "
        "AND COLUMN_NAME = 'c'",
        (database,),
    )
    took_effect = not columns

    status = covet(target, migrations_dir, "status")
    assert status.returncode == 0, status.stderr
    assert "in doubt" in status.stdout and ALTER in status.stdout, status.stdout
    assert "None" not in status.stdout

    refused = covet(target, migrations_dir, "up")
    assert refused.returncode == 2
    assert ALTER in refused.stderr and "--in-doubt=completed" in refused.stderr
    assert "; None" not in refused.stderr

    blind = covet(target, migrations_dir, "resolve", NAME, "--applied", "--run")
    assert blind.returncode == 2, blind.stderr
    assert ALTER in blind.stderr and "--in-doubt" in blind.stderr
    assert blind.stderr.count("\n") == 1, "one line"

    answer = "completed" if took_effect else "not-run"
    done = covet(
        target, migrations_dir, "resolve", NAME, "--applied", "--run", f"--in-doubt={answer}"
    )
    assert done.returncode == 0, done.stderr
    assert (await mysql_admin(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
        "AND TABLE_NAME = 't' AND COLUMN_NAME = 'c'", (database,),
    ))[0][0] == 0  # fmt: skip
    assert (await mysql_admin(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
        "AND TABLE_NAME = 'third'", (database,),
    ))[0][0] == 1  # fmt: skip
    validate = covet(target, migrations_dir, "validate")
    assert validate.returncode == 0, validate.stderr
    print(f"in-doubt ALTER took effect after the kill: {took_effect}")
    blocker.close()
    admin.close()


async def mysql_admin_connection(target: Target) -> Any:
    from urllib.parse import urlsplit

    parts = urlsplit(target.url)
    return await aiomysql.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
        password=parts.password or "", db=parts.path.lstrip("/"), autocommit=True,
    )  # fmt: skip
