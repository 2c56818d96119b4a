"""``mysql_get_lock``: a named server lock (``GET_LOCK``) held by a dedicated connection.

The server releases a named lock when the session holding it ends, however it ends (process
killed, network gone), so a dead holder never blocks the next run and nothing needs cleaning.
The lock lives on its own connection from ``adapter.open_sibling()``: the migrations' connection
may be closed or killed by a failing statement without silently dropping the lock, and an idle
lock session makes PROCESSLIST's ``TIME`` the time since the lock was taken. When the adapter
cannot open a sibling (it wraps a bare connection whose credentials it does not know, or a
full pool), the lock is taken on the adapter's own connection instead; it then lasts as long as
that connection does.

MySQL can only tell another session *which server connection* holds a named lock. So, while
holding it, the lock writes a note (host, pid, time; row 2 of ``_covet_migration_lock``) keyed
by that connection id; a waiter believes the note only if ``IS_USED_LOCK`` still names that
connection, and otherwise falls back to what PROCESSLIST shows (client host, connection id).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from covet_core.errors import DatabaseError, LockError
from covet_core.locking import LockHolder, TableLock
from covet_core.session_lock import SessionLock

MAX_LOCK_NAME = 64  # MySQL 5.7+ rejects longer user-lock names


def lock_name(database: str, history_table: str) -> str:
    """``covet:<database>:<history table>``; over 64 characters, a stable shortened form."""
    name = f"covet:{database}:{history_table}"
    if len(name) <= MAX_LOCK_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[: MAX_LOCK_NAME - len(digest) - 1]}:{digest}"


def _client_host(host: str | None) -> str:
    # PROCESSLIST shows "host:port" for TCP clients and "localhost" for a Unix socket.
    if not host:
        return "unknown host"
    head, sep, port = host.rpartition(":")
    return head if sep and port.isdigit() else host


class MySQLGetLock(SessionLock):
    kind = "mysql_get_lock"
    session_word = "connection"
    _name: str | None = None

    async def _lock_name(self) -> str:
        if self._name is None:
            database = await self.adapter.fetch_value("SELECT DATABASE()")
            self._name = lock_name(database or "", self.history_table)
        return self._name

    async def _try(self, session: Any, remaining: float) -> bool:
        # The server waits for us (fractional seconds work on MariaDB and MySQL 5.7+); a
        # negative timeout would mean "forever" to MySQL.
        name = await self._lock_name()
        got = await session.fetch_value("SELECT GET_LOCK(%s, %s)", (name, remaining))
        if got is None:
            raise LockError(f"the MySQL server could not take the migration lock {name!r}")
        return int(got) == 1

    async def _unlock(self, session: Any) -> None:
        await session.execute("DO RELEASE_LOCK(%s)", (await self._lock_name(),))

    async def _current_id(self, session: Any) -> int:
        return int(await session.fetch_value("SELECT CONNECTION_ID()"))

    async def _holder_ids(self, conn: Any) -> list[int]:
        held = await conn.fetch_value("SELECT IS_USED_LOCK(%s)", (await self._lock_name(),))
        return [] if held is None else [int(held)]

    def _note(self, conn: Any) -> Any:
        if self.dialect is None or self.plugins is None:
            return None
        return TableLock(conn, self.dialect, self.plugins, row_id=2)

    async def _describe(self, conn: Any, session_id: int) -> LockHolder:
        row = await conn.fetch_one(
            "SELECT HOST AS host, TIME AS time FROM information_schema.PROCESSLIST WHERE ID = %s",
            (session_id,),
        )
        if row is None:
            # Without the PROCESS privilege only one's own sessions are listed.
            return LockHolder("unknown host", session_id, None)
        since = datetime.now(UTC) - timedelta(seconds=int(row["time"] or 0))
        return LockHolder(
            _client_host(row["host"]),
            session_id,
            since.replace(microsecond=0),
            f"connection {session_id}",
        )

    async def _terminate(self, conn: Any, session_id: int) -> None:
        try:
            await conn.execute("KILL CONNECTION %s", (session_id,))
        except DatabaseError as exc:
            # 1094, "Unknown thread id": the session ended on its own meanwhile, as wanted.
            if "MySQL error 1094" not in str(exc):
                raise LockError(
                    f"cannot kill MySQL connection {session_id} holding the migration lock "
                    f"({exc}); ask an administrator to run KILL CONNECTION {session_id}"
                ) from exc
