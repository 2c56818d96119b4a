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
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from covet_core.errors import DatabaseError, LockError
from covet_core.locking import LockHolder, busy_error, poll_until

DEFAULT_HISTORY_TABLE = "_covet_migrations"
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


class MySQLGetLock:
    def __init__(
        self, adapter: Any, options: Mapping[str, Any], dialect: Any = None, plugins: Any = None
    ) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.plugins = plugins
        self.history_table = str(options.get("history_table", DEFAULT_HISTORY_TABLE))
        self._name: str | None = None
        self._lock_conn: Any = None  # the adapter holding the lock while we hold it
        self._own_conn = False  # whether _lock_conn is a sibling we must close
        self._session: int | None = None  # the server connection id holding the lock

    async def _lock_name(self) -> str:
        if self._name is None:
            database = await self.adapter.fetch_value("SELECT DATABASE()")
            self._name = lock_name(database or "", self.history_table)
        return self._name

    async def _open(self) -> Any:
        opener = getattr(self.adapter, "open_sibling", None)
        sibling = await opener() if opener is not None else None
        if sibling is None:
            self._lock_conn, self._own_conn = self.adapter, False
        else:
            await sibling.connect()
            self._lock_conn, self._own_conn = sibling, True
        return self._lock_conn

    async def _close(self, abort: bool = False) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None and self._own_conn:
            # After a failed or cancelled GET_LOCK / RELEASE_LOCK the session may still hold the
            # lock or be mid-reply: dropping it is the one way to be sure it lets go.
            await (conn.abort() if abort else conn.disconnect())

    async def acquire(self, timeout: float) -> None:
        if self._lock_conn is not None:
            return
        name = await self._lock_name()
        conn = await self._open()
        start = time.monotonic()
        try:
            # The server waits for us (no polling; fractional seconds work on MariaDB and
            # MySQL 5.7+); a negative timeout would mean "forever" to MySQL.
            got = await conn.fetch_value("SELECT GET_LOCK(%s, %s)", (name, max(timeout, 0.0)))
            if got is None:
                raise LockError(f"the MySQL server could not take the migration lock {name!r}")
            if int(got) != 1:
                raise busy_error(await self.holder(), time.monotonic() - start)
            self._session = int(await conn.fetch_value("SELECT CONNECTION_ID()"))
            note = self._note(conn)
            if note is not None:
                await note.record_holder(str(self._session))
        except BaseException as exc:
            await self._close(abort=not isinstance(exc, LockError))
            raise

    def _note(self, conn: Any) -> Any:
        if self.dialect is None or self.plugins is None:
            return None
        from covet_core.locking import TableLock

        return TableLock(conn, self.dialect, self.plugins, row_id=2)

    async def still_held(self, adapter: Any) -> bool:
        """Whether our lock session still holds it (``unlock --force`` kills that session)."""
        if self._session is None:
            return False
        holder = await adapter.fetch_value("SELECT IS_USED_LOCK(%s)", (await self._lock_name(),))
        return holder is not None and int(holder) == self._session

    async def release(self) -> None:
        self._session = None
        if self._lock_conn is None:
            return
        try:
            note = self._note(self._lock_conn)
            if note is not None:
                session = await self._lock_conn.fetch_value("SELECT CONNECTION_ID()")
                await note.clear_holder(str(session))
            await self._lock_conn.execute("DO RELEASE_LOCK(%s)", (await self._lock_name(),))
        except DatabaseError:
            await self._close(abort=True)  # the session is gone, or going: the lock with it
        finally:
            await self._close()

    async def holder(self) -> LockHolder | None:
        name = await self._lock_name()
        conn = self._lock_conn or self.adapter
        connection_id = await conn.fetch_value("SELECT IS_USED_LOCK(%s)", (name,))
        if connection_id is None:
            return None
        note = self._note(conn)
        if note is not None and (noted := await note.noted_holder(str(connection_id))):
            return LockHolder(noted.host, noted.pid, noted.since, f"connection {connection_id}")
        row = await conn.fetch_one(
            "SELECT HOST AS host, TIME AS time FROM information_schema.PROCESSLIST WHERE ID = %s",
            (connection_id,),
        )
        if row is None:
            # Without the PROCESS privilege only one's own sessions are listed.
            return LockHolder("unknown host", int(connection_id), None)
        since = datetime.now(UTC) - timedelta(seconds=int(row["time"] or 0))
        return LockHolder(
            _client_host(row["host"]),
            int(connection_id),
            since.replace(microsecond=0),
            f"connection {connection_id}",
        )

    async def force_release(self, force: bool = False) -> LockHolder | None:
        holder = await self.holder()
        if holder is None:
            return None
        if not force:
            raise LockError(
                f"the MySQL migration lock is held by live server session {holder.describe()} "
                f"({holder.owner}); the server releases it when that session ends; "
                f"`covet migrate unlock --force` kills that connection"
            )
        conn = self._lock_conn or self.adapter
        session = await conn.fetch_value("SELECT IS_USED_LOCK(%s)", (await self._lock_name(),))
        if session is None:
            return holder  # released meanwhile
        if session == await conn.fetch_value("SELECT CONNECTION_ID()"):
            await self.release()  # we hold it ourselves: killing our own session helps nobody
            return holder
        try:
            await conn.execute("KILL CONNECTION %s", (session,))
        except DatabaseError as exc:
            # 1094, "Unknown thread id": the session ended on its own meanwhile, as wanted.
            if "MySQL error 1094" not in str(exc):
                raise LockError(
                    f"cannot kill MySQL connection {session} holding the migration lock "
                    f"({exc}); ask an administrator to run KILL CONNECTION {session}"
                ) from exc
        name = await self._lock_name()

        # KILL only marks the session: wait until the server has let the lock go, so that
        # "released" is true when we say it (and the old holder's check sees it gone).
        async def gone() -> bool:
            return await conn.fetch_value("SELECT IS_USED_LOCK(%s)", (name,)) != session

        async def still_there(waited: float) -> Exception:
            return LockError(
                f"killed MySQL connection {session}, but it still holds the migration lock "
                f"after {waited:.0f}s; run `covet migrate unlock --force` again"
            )

        await poll_until(gone, 10.0, still_there)
        return holder
