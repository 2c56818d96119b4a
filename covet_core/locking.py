"""The migration lock: a protocol every strategy satisfies, and the portable table lock.

This module is itself a plugin (entry point ``table-lock``): it registers the ``table``
strategy, which works on any database through one row in ``_covet_migration_lock``. Dialects
register native strategies (advisory locks, ``GET_LOCK``, file locks) under their own names.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from covet_core.errors import (
    DatabaseError,
    IntegrityError,
    LockError,
    LockLostError,
    LockTimeoutError,
)
from covet_core.hookspecs import hookimpl
from covet_core.log import get_logger
from covet_core.schema import Column, ColumnType, CreateTable, Table

if TYPE_CHECKING:
    from covet_core.adapter import Adapter
    from covet_core.dialect import Dialect
    from covet_core.plugins import Plugins

log = get_logger()

LOCK_TABLE = "_covet_migration_lock"
RETRY_SQLSTATES = ("40001", "40P01")
"""Serialization failure and deadlock (MySQL 1213, a Galera certification conflict): the
transaction lost a race and may simply be tried again."""
DEFAULT_LOCK_TIMEOUT = 60.0


@dataclass(frozen=True)
class LockHolder:
    host: str
    pid: int
    since: datetime | None
    owner: str | None = None

    def describe(self) -> str:
        since = self.since.strftime("%Y-%m-%d %H:%M:%S UTC") if self.since else "an unknown time"
        return f"{self.host}/{self.pid} since {since}"


class LockStrategy(Protocol):
    """What ``factory(adapter=, dialect=, options=, plugins=)`` of a lock strategy returns."""

    async def acquire(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds; raise ``LockTimeoutError`` naming the holder."""

    async def release(self) -> None:
        """Release the lock if this object holds it. Safe to call twice."""

    async def holder(self) -> LockHolder | None:
        """Who holds the lock now, or ``None`` when it is free (or the holder is unknown)."""

    async def force_release(self, force: bool = False) -> LockHolder | None:
        """Break the lock (``covet migrate unlock``); return the old holder, ``None`` if free.

        Raise ``LockError`` for a holder known to be alive unless ``force``."""

    # Optional: ``async def still_held(self, adapter) -> bool``, one cheap query on
    # ``adapter`` (a connection to the same database) telling whether this object still
    # holds the lock. The runner asks before each commit and stops if it was taken away.


def lost_error() -> LockLostError:
    return LockLostError(
        "the migration lock was taken away during the run (by `covet migrate unlock --force`?); "
        "covet stopped before committing more: see `covet migrate status`, and wait for the "
        "process that holds the lock now before running anything"
    )


def guard_for(lock: object) -> Callable[[Adapter], Awaitable[None]] | None:
    """A check to run before each commit: raises ``LockLostError`` once ``lock`` is not held
    any more. ``None`` for a strategy that cannot tell cheaply."""
    still_held = getattr(lock, "still_held", None)
    if still_held is None:
        return None

    async def guard(adapter: Adapter) -> None:
        if not await still_held(adapter):
            raise lost_error()

    return guard


def busy_error(holder: LockHolder | None, waited: float) -> LockTimeoutError:
    who = f"held by {holder.describe()}" if holder else "held by another process"
    return LockTimeoutError(
        f"Cannot acquire migration lock: {who} (waited {waited:.0f}s). Wait for that migration "
        f"to finish; if that process is gone, run `covet migrate unlock`."
    )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True


def holder_is_dead(holder: LockHolder) -> bool:
    """Only a holder on this host can be proven dead; a remote one needs `covet migrate unlock`."""
    return holder.host == socket.gethostname() and not pid_alive(holder.pid)


async def poll_until(
    attempt: Callable[[], Awaitable[bool]],
    timeout: float,
    on_timeout: Callable[[float], Awaitable[Exception]],
) -> None:
    """Call ``attempt`` until it returns True, backing off (10 ms doubling to 500 ms, jittered)."""
    start = time.monotonic()
    delay = 0.01
    while True:
        if await attempt():
            return
        waited = time.monotonic() - start
        if waited >= timeout:
            raise await on_timeout(waited)
        await asyncio.sleep(min(delay * (0.5 + random.random()), max(0.0, timeout - waited)))
        delay = min(delay * 2, 0.5)


class TableLock:
    """One row with id 1 in ``_covet_migration_lock``; the primary key makes the insert atomic.

    A holder that died on this host (its pid is gone) is taken over automatically. A holder on
    another host cannot be proven dead, so it stays until ``covet migrate unlock``.
    """

    def __init__(
        self,
        adapter: Adapter,
        dialect: Dialect,
        plugins: Plugins,
        table: str = LOCK_TABLE,
        row_id: int = 1,
    ) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.plugins = plugins
        self.table = table
        # Row 1 is this lock itself. Native locks that can name only a server session keep a
        # note of their holder's host and pid in row 2 (see ``record_holder``).
        self.row_id = row_id
        self._token: str | None = None
        self._q = dialect.quote
        self._t = dialect.quote(table)

    def definition(self) -> Table:
        t = ColumnType
        return Table(
            self.table,
            (
                Column("id", t("integer"), nullable=False),
                Column("host", t("string", 255), nullable=False),
                Column("pid", t("integer"), nullable=False),
                Column("owner", t("string", 255)),
                Column("token", t("string", 64), nullable=False),
                Column("acquired_at", t("timestamptz"), nullable=False),
            ),
            primary_key=("id",),
        )

    async def _exists(self) -> bool:
        stmt = self.dialect.table_exists_sql(self.table)
        return await self.adapter.fetch_one(stmt.text, stmt.params) is not None

    async def _ensure_table(self) -> None:
        if await self._exists():
            return
        try:
            for sql in self.plugins.render_operation(
                CreateTable(self.definition(), if_not_exists=True), self.dialect
            ):
                await self.adapter.execute(sql)
        except DatabaseError:
            # Two processes creating it at once: PostgreSQL can fail the loser even with
            # IF NOT EXISTS (a catalog unique violation). Losing that race is fine.
            if not await self._exists():
                raise

    async def _try_insert(self, token: str | None = None) -> bool:
        from covet_core.history import applied_by

        token = token or uuid.uuid4().hex
        values = (
            self.row_id,
            socket.gethostname(),
            os.getpid(),
            applied_by(),
            token,
            datetime.now(UTC),
        )
        cols = ", ".join(self._q(c) for c in ("id", "host", "pid", "owner", "token", "acquired_at"))
        marks = ", ".join(self.dialect.params(len(values)))
        try:
            async with self.adapter.transaction():
                await self.adapter.execute(
                    f"INSERT INTO {self._t} ({cols}) VALUES ({marks})", values
                )
        except IntegrityError:
            return False
        except DatabaseError as exc:
            if exc.sqlstate in RETRY_SQLSTATES:
                return False  # lost a race with another writer of the row: contention
            raise
        self._token = token
        return True

    async def acquire(self, timeout: float) -> None:
        await self._ensure_table()

        async def attempt() -> bool:
            if await self._try_insert():
                return True
            holder = await self._read()
            if holder is not None and holder_is_dead(holder[0]):
                # Every waiter sees the dead holder; only the one whose insert wins took over.
                await self._delete(token=holder[1])
                if not await self._try_insert():
                    return False
                log.warning("lock.taken_over", holder=holder[0].describe(), reason="holder died")
                return True
            return False

        async def timed_out(waited: float) -> Exception:
            return busy_error(await self.holder(), waited)

        await poll_until(attempt, timeout, timed_out)

    async def _read(self) -> tuple[LockHolder, str] | None:
        if not await self._exists():
            return None
        cols = ", ".join(self._q(c) for c in ("host", "pid", "owner", "token", "acquired_at"))
        row = await self.adapter.fetch_one(
            f"SELECT {cols} FROM {self._t} WHERE {self._q('id')} = {self.dialect.placeholder(1)}",
            (self.row_id,),
        )
        if row is None:
            return None
        since = row["acquired_at"]
        if since is not None and not isinstance(since, datetime):
            since = datetime.fromisoformat(str(since))
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)  # stored as UTC where the column has no zone
        return LockHolder(row["host"], int(row["pid"]), since, row["owner"]), row["token"]

    async def _delete(self, token: str | None) -> None:
        p = self.dialect.placeholder
        where = f" WHERE {self._q('id')} = {p(1)}"
        params: tuple[Any, ...] = (self.row_id,)
        if token is not None:
            where, params = f"{where} AND {self._q('token')} = {p(2)}", (self.row_id, token)
        for attempt in range(5):
            try:
                async with self.adapter.transaction():
                    await self.adapter.execute(f"DELETE FROM {self._t}{where}", params)
                return
            except DatabaseError as exc:
                # A waiter's insert on another cluster node can conflict with this delete.
                if exc.sqlstate not in RETRY_SQLSTATES or attempt == 4:
                    raise

    async def release(self) -> None:
        if self._token is not None:
            token, self._token = self._token, None
            await self._delete(token)

    async def holder(self) -> LockHolder | None:
        found = await self._read()
        return found[0] if found else None

    async def still_held(self, adapter: Adapter) -> bool:
        if self._token is None:
            return False
        row = await adapter.fetch_one(
            f"SELECT {self._q('token')} FROM {self._t} "
            f"WHERE {self._q('id')} = {self.dialect.placeholder(1)}",
            (self.row_id,),
        )
        return row is not None and row["token"] == self._token

    async def force_release(self, force: bool = False) -> LockHolder | None:
        found = await self._read()
        if found is None:
            return None
        holder = found[0]
        alive_here = holder.host == socket.gethostname() and pid_alive(holder.pid)
        if alive_here and not force:
            raise LockError(
                f"the migration lock is held by running process {holder.describe()}; stop it, "
                f"or break the lock anyway with `covet migrate unlock --force`"
            )
        await self._delete(token=None)
        return holder

    # -- holder notes for native locks -----------------------------------------------------------

    async def record_holder(self, session: str) -> None:
        """Note this process as holder of a native lock held by server ``session``.

        Call only while holding that lock: the note is trusted only while ``session`` still
        holds it, so a note left behind by a dead process is ignored, never believed.
        """
        await self._ensure_table()
        await self._delete(token=None)
        await self._try_insert(token=session)

    async def noted_holder(self, session: str) -> LockHolder | None:
        found = await self._read()
        return found[0] if found and found[1] == session else None

    async def clear_holder(self, session: str) -> None:
        if await self._exists():
            await self._delete(token=session)


class NoLock:
    """Used when ``enable_locking=False``: the caller promises nobody else migrates."""

    async def acquire(self, timeout: float) -> None:
        return None

    async def release(self) -> None:
        return None

    async def holder(self) -> LockHolder | None:
        return None

    async def force_release(self, force: bool = False) -> LockHolder | None:
        return None


def _table_lock(
    *, adapter: Adapter, dialect: Dialect, options: Mapping[str, Any], plugins: Plugins
) -> TableLock:
    return TableLock(adapter, dialect, plugins, table=options.get("lock_table", LOCK_TABLE))


@hookimpl
def covet_register_lock_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("table", _table_lock)
