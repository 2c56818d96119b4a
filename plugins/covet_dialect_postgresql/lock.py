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
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from covet_core.adapter import Adapter
from covet_core.locking import LockHolder
from covet_core.session_lock import SessionLock

# pg_locks only: pg_stat_activity is a per-transaction snapshot, and still_held runs inside
# the migration's transaction.
_HOLDER_IDS = """
SELECT l.pid FROM pg_locks l
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY l.pid
"""
_SESSION = """
SELECT application_name, client_addr::text AS client_addr, backend_start
FROM pg_stat_activity WHERE pid = $1
"""
_APP = re.compile(r"^covet (?P<host>.+)/(?P<pid>\d+)$")


def lock_key(history_table: str) -> int:
    """A stable signed 64-bit key per history table (advisory locks are per database already)."""
    digest = hashlib.sha256(f"covet-migrations:{history_table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgAdvisoryLock(SessionLock):
    kind = "pg_advisory"
    session_word = "backend"

    def __init__(self, adapter: Adapter, options: Mapping[str, Any]) -> None:
        super().__init__(adapter, options)
        self.key = lock_key(self.history_table)
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        self._ids = (unsigned >> 32, unsigned & 0xFFFFFFFF)  # how pg_locks shows a bigint key

    async def _try(self, session: Any, remaining: float) -> bool:
        return bool(await session.fetch_value("SELECT pg_try_advisory_lock($1)", (self.key,)))

    async def _unlock(self, session: Any) -> None:
        await session.execute("SELECT pg_advisory_unlock($1)", (self.key,))

    async def _current_id(self, session: Any) -> int:
        return int(await session.fetch_value("SELECT pg_backend_pid()"))

    async def _holder_ids(self, conn: Any) -> list[int]:
        return [int(row["pid"]) for row in await conn.fetch_all(_HOLDER_IDS, self._ids)]

    async def _describe(self, conn: Any, session_id: int) -> LockHolder:
        row = await conn.fetch_one(_SESSION, (session_id,)) or {}
        since = row.get("backend_start")
        since = since if isinstance(since, datetime) else None
        match = _APP.match(row.get("application_name") or "")
        if match:
            return LockHolder(match["host"], int(match["pid"]), since, f"backend {session_id}")
        # Held by a session that is not covet's own naming: show the server's view of it.
        return LockHolder(row.get("client_addr") or "local socket", session_id, since)

    async def _terminate(self, conn: Any, session_id: int) -> None:
        await conn.execute("SELECT pg_terminate_backend($1)", (session_id,))
