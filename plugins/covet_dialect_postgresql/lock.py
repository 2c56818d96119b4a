"""``pg_advisory``: a session-level advisory lock on a dedicated connection.

Acquired by polling ``pg_try_advisory_lock`` with backoff: a blocking ``pg_advisory_lock``
waits inside a statement, and ``CREATE INDEX CONCURRENTLY`` in the holder's migration then
waits for that statement's snapshot, a deadlock other tools have hit. The server releases the
lock when the holding session ends, so a process that dies (even by SIGKILL) frees it at once.

The dedicated session's ``application_name`` is ``covet <host>/<pid>``, which is how a waiting
process names the holder. An adapter that wraps a bare connection has no parameters to open a
second one; the lock is then taken on the migration connection itself (still session-level).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from covet_core.errors import DatabaseError, LockError
from covet_core.locking import LockHolder, busy_error, poll_until
from covet_core.log import get_logger

log = get_logger()

_HOLDERS = """
SELECT a.pid, a.application_name, a.client_addr::text AS client_addr, a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
_HELD_BY = """
SELECT EXISTS (SELECT 1 FROM pg_locks l
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.pid = $3
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
"""
_APP = re.compile(r"^covet (?P<host>.+)/(?P<pid>\d+)$")


def lock_key(history_table: str) -> int:
    """A stable signed 64-bit key per history table (advisory locks are per database already)."""
    digest = hashlib.sha256(f"covet-migrations:{history_table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgAdvisoryLock:
    def __init__(self, adapter: Any, options: Mapping[str, Any]) -> None:
        self.adapter = adapter
        self.key = lock_key(options.get("history_table") or "_covet_migrations")
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        self._ids = (unsigned >> 32, unsigned & 0xFFFFFFFF)  # how pg_locks shows a bigint key
        self._session: Any = None
        self._owns_session = False
        self._backend: int | None = None  # the server pid of the session holding the lock

    async def acquire(self, timeout: float) -> None:
        if self._session is not None:
            return
        sibling = await self.adapter.open_sibling(f"covet {socket.gethostname()}/{os.getpid()}")
        session = sibling if sibling is not None else self.adapter
        if sibling is not None:
            await sibling.connect()

        async def attempt() -> bool:
            return bool(await session.fetch_value("SELECT pg_try_advisory_lock($1)", (self.key,)))

        async def timed_out(waited: float) -> Exception:
            return busy_error(await self.holder(), waited)

        try:
            await poll_until(attempt, timeout, timed_out)
        except BaseException:
            if sibling is not None:
                await sibling.disconnect()
            raise
        self._session, self._owns_session = session, sibling is not None
        self._backend = int(await session.fetch_value("SELECT pg_backend_pid()"))

    async def still_held(self, adapter: Any) -> bool:
        """Whether our session still holds the lock (``unlock --force`` terminates it)."""
        if self._backend is None:
            return False
        # pg_locks only: pg_stat_activity is a per-transaction snapshot, and this runs inside
        # the migration's transaction.
        return bool(await adapter.fetch_value(_HELD_BY, (*self._ids, self._backend)))

    async def release(self) -> None:
        session, self._session = self._session, None
        self._backend = None
        if session is None:
            return
        try:
            await session.execute("SELECT pg_advisory_unlock($1)", (self.key,))
        except DatabaseError as exc:
            # The session is gone (terminated by `unlock --force`, or the server restarted):
            # the server dropped the lock with it, and nobody should believe it was held.
            log.warning("lock.lost", lock="pg_advisory", error=str(exc))
        finally:
            if self._owns_session:
                await session.disconnect()  # ending the session releases it in any case

    async def _holders(self) -> list[dict[str, Any]]:
        return await self.adapter.fetch_all(_HOLDERS, self._ids)

    async def holder(self) -> LockHolder | None:
        rows = await self._holders()
        if not rows:
            return None
        row = rows[0]
        since = row["backend_start"]
        since = since if isinstance(since, datetime) else None
        match = _APP.match(row["application_name"] or "")
        if match:
            return LockHolder(match["host"], int(match["pid"]), since, f"backend {row['pid']}")
        # Held by a session that is not covet's own naming: show the server's view of it.
        return LockHolder(row["client_addr"] or "local socket", int(row["pid"]), since)

    async def force_release(self, force: bool = False) -> LockHolder | None:
        holder = await self.holder()
        if holder is None:
            return None
        if not force:
            raise LockError(
                f"the migration lock is held by live session {holder.describe()}; the server "
                f"releases it when that session ends, or `covet migrate unlock --force` "
                f"terminates it"
            )
        pids = [row["pid"] for row in await self._holders()]
        for pid in pids:
            await self.adapter.execute("SELECT pg_terminate_backend($1)", (pid,))

        # pg_terminate_backend only signals: wait until the server has dropped the lock, so
        # that "released" is true when we say it (and the old holder's check sees it gone).
        async def gone() -> bool:
            return not {row["pid"] for row in await self._holders()} & set(pids)

        async def still_there(waited: float) -> Exception:
            return LockError(
                f"terminated the session holding the migration lock, but the server still "
                f"shows it after {waited:.0f}s; run `covet migrate unlock --force` again"
            )

        await poll_until(gone, 10.0, still_there)
        return holder
