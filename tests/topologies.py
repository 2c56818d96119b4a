"""Throw-away production topologies for tests: PgBouncer, a hot standby, a Galera cluster,
a MariaDB primary with an asynchronous replica.

``../shared/tools/topologies.sh`` starts the first three on loopback ports of their own beside
the machine's servers and removes them again; ``tools/mariadb-replication.sh`` (ours, in the
same manner) the last. Two test runs on one machine (two checkouts) would
start and stop the same instances under each other, so each use holds an exclusive file lock
for as long as its instance is up: a second run waits its turn instead.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import IN_CI

SCRIPT = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "topologies.sh"
OURS = {"mariadb-replication": Path(__file__).resolve().parent / "tools" / "mariadb-replication.sh"}
NEEDS = {
    "pgbouncer": Path("/usr/sbin/pgbouncer"),
    "standby": Path("/usr/lib/postgresql"),
    "galera": Path("/usr/lib/galera/libgalera_smm.so"),
    "mariadb-replication": Path("/usr/sbin/mariadbd"),
}


def _script(action: str, kind: str) -> subprocess.CompletedProcess[str]:
    command = (
        ["bash", str(OURS[kind]), action] if kind in OURS else ["bash", str(SCRIPT), action, kind]
    )
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@contextmanager
def topology(kind: str) -> Iterator[None]:
    """The ``kind`` topology, up for the duration (skips, or fails with ``CI=true``, when it
    cannot be had here)."""
    reason = None
    if kind not in OURS and not SCRIPT.exists():
        reason = f"{SCRIPT} is missing (shared/tools is not beside this checkout)"
    elif not NEEDS[kind].exists():
        reason = f"{NEEDS[kind]} is missing: install what the {kind} topology needs"
    elif os.geteuid() != 0:
        reason = "topologies.sh runs the servers as their own users: it needs root"
    if reason:
        if IN_CI:
            pytest.fail(f"{reason}; CI=true requires the {kind} topology")
        pytest.skip(reason)
    with open(f"/tmp/covet-topology-{kind}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another run's instance is ours only after it ends
        _script("down", kind)  # a run killed earlier may have left one behind
        started = _script("up", kind)
        if started.returncode != 0:
            pytest.fail(f"could not start the {kind} topology: {started.stderr[-2000:]}")
        try:
            yield
        finally:
            _script("down", kind)


def bumping(kind: str) -> type:
    """A data migration of class ``kind`` (``BulkDataMigration``, ...) that adds 1 to the
    ``n`` of every row: after it, every row's ``n`` tells how often it was transformed."""
    from covet.database.migrations import data_migrations

    class Bump(getattr(data_migrations, kind)):  # type: ignore[misc]
        async def transform_batch(self, rows, adapter):  # type: ignore[no-untyped-def]
            for row in rows:
                row["n"] += 1
            return rows

    return Bump


async def numbered(adapter: Any, table: str, rows: int) -> None:
    """``table`` made afresh with ``rows`` rows ``(id, n = 0)``."""
    await adapter.execute(f"DROP TABLE IF EXISTS {table}")
    await adapter.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, n int NOT NULL)")
    values = ", ".join(f"({i}, 0)" for i in range(1, rows + 1))
    await adapter.execute(f"INSERT INTO {table} VALUES {values}")


class Stalled:
    """A progress callback noting the rows processed once the migration has waited 0.5 s
    for replicas, and again at 1.5 s: equal counts mean no batch ran in between."""

    def __init__(self) -> None:
        self.waited, self.still = asyncio.Event(), asyncio.Event()
        self.seen: list[int] = []

    def __call__(self, progress: Any) -> None:
        if progress.throttled_seconds > 0.5 and not self.waited.is_set():
            self.seen.append(progress.processed_rows)
            self.waited.set()
        elif progress.throttled_seconds > 1.5 and self.waited.is_set() and not self.still.is_set():
            self.seen.append(progress.processed_rows)
            self.still.set()


async def read_schema(url: str, base: Path) -> Any:
    """The PostgreSQL schema at ``url`` as covet's reader sees it, over a connection of its
    own."""
    from covet_core.plugins import Plugins
    from covet_core.schema.reader import SchemaReader

    dialect = Plugins.load().dialect("postgresql")
    adapter = dialect.adapter_from_url(url, base)
    await adapter.connect()
    try:
        return await SchemaReader(adapter, dialect).read_schema()
    finally:
        await adapter.disconnect()
