"""SessionLock: the shared half of a native lock that a database session holds.

PostgreSQL's advisory locks and MySQL's ``GET_LOCK`` work alike: the server ties the lock to one
session and frees it when that session ends, however it ends, so a killed holder never blocks
the next run. What every such lock needs besides the two or three statements that differ is
here: a dedicated sibling session (so a failing migration statement cannot take the lock with
it), falling back to the migration connection when no sibling can be had; trying with backoff
until the timeout; remembering which server session holds it so ``still_held`` can tell when
``unlock --force`` took it away; an optional holder note for servers that cannot name the
client; and terminating the holder's session for ``unlock --force``, waiting until the server
agrees it is gone. A dialect subclasses it and writes the ``_``-prefixed statements.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from covet_core.adapter import Adapter
from covet_core.errors import DatabaseError, LockError
from covet_core.locking import LockHolder, busy_error, poll_until
from covet_core.log import get_logger

log = get_logger()


def session_label() -> str:
    """``covet <host>/<pid>``: how a lock session names its process to other sessions."""
    return f"covet {socket.gethostname()}/{os.getpid()}"


class SessionLock:
    """Base class of a lock held by a server session (``LockStrategy``)."""

    kind: ClassVar[str] = "session"
    """The strategy's registered name, for logs and messages."""
    session_word: ClassVar[str] = "session"
    """What the server calls a session ("backend", "connection"), for messages."""

    def __init__(
        self,
        adapter: Adapter,
        options: Mapping[str, Any],
        dialect: Any = None,
        plugins: Any = None,
    ) -> None:
        self.adapter = adapter
        self.options = options
        self.dialect = dialect
        self.plugins = plugins
        self.history_table = str(options.get("history_table") or "_covet_migrations")
        self._session: Any = None  # the adapter holding the lock while we hold it
        self._owns_session = False  # a sibling we opened and must close
        self._session_id: int | None = None  # the server's id of that session

    # -- what a dialect writes ----------------------------------------------------------------

    async def _try(self, session: Any, remaining: float) -> bool:
        """One attempt on ``session``. A server that can wait by itself may wait up to
        ``remaining`` seconds here; one that cannot returns at once and is polled with
        backoff until the timeout."""
        raise NotImplementedError

    async def _unlock(self, session: Any) -> None:
        raise NotImplementedError

    async def _current_id(self, session: Any) -> int:
        """The server's id of ``session`` (backend pid, connection id)."""
        raise NotImplementedError

    async def _holder_ids(self, conn: Any) -> list[int]:
        """The server sessions holding the lock now, as seen from ``conn``."""
        raise NotImplementedError

    async def _describe(self, conn: Any, session_id: int) -> LockHolder:
        """Who holds it: host and pid where the server can tell, its session otherwise."""
        raise NotImplementedError

    async def _terminate(self, conn: Any, session_id: int) -> None:
        """Ask the server to end that session (which frees the lock)."""
        raise NotImplementedError

    def _note(self, conn: Any) -> Any:
        """A ``TableLock`` row that records the holder's host and pid by session id, for a
        server that cannot name a session's client; ``None`` when the server can."""
        return None

    # -- the strategy --------------------------------------------------------------------------

    async def _open(self) -> tuple[Any, bool]:
        opener = getattr(self.adapter, "open_sibling", None)
        sibling = await opener(session_label()) if opener is not None else None
        if sibling is None:
            return self.adapter, False
        await sibling.connect()
        return sibling, True

    async def _close(self, session: Any, owned: bool, abort: bool = False) -> None:
        if not owned:
            return
        # After a failed or cancelled attempt the session may still hold the lock or be
        # mid-reply: dropping it is the one way to be sure it lets go.
        aborter = getattr(session, "abort", None) if abort else None
        await (aborter() if aborter is not None else session.disconnect())

    async def acquire(self, timeout: float) -> None:
        if self._session is not None:
            return
        session, owned = await self._open()
        deadline = time.monotonic() + timeout

        async def attempt() -> bool:
            return await self._try(session, max(deadline - time.monotonic(), 0.0))

        async def timed_out(waited: float) -> Exception:
            return busy_error(await self.holder(), waited)

        try:
            await poll_until(attempt, timeout, timed_out)
            self._session_id = await self._current_id(session)
            if self._session_id not in await self._holder_ids(session):
                # The server session that took the lock is not the one answering now: a
                # transaction pooler hands each statement to whichever session is free, so
                # a session-held lock excludes nobody. Stop rather than migrate unguarded.
                raise LockError(
                    f"the {self.kind} lock was taken by another server session than the one "
                    f"answering now: a transaction pooler (PgBouncer?) sits in between; add "
                    f'?pooler=transaction to the database URL, or use lock = "table"'
                )
            note = self._note(session)
            if note is not None:
                await note.record_holder(str(self._session_id))
        except BaseException as exc:
            self._session_id = None
            await self._close(session, owned, abort=not isinstance(exc, LockError))
            raise
        self._session, self._owns_session = session, owned

    async def still_held(self, adapter: Any) -> bool:
        """Whether our session still holds the lock (``unlock --force`` ends that session)."""
        if self._session_id is None:
            return False
        return self._session_id in await self._holder_ids(adapter)

    async def release(self) -> None:
        session, owned, held = self._session, self._owns_session, self._session_id
        self._session, self._session_id = None, None
        if session is None:
            return
        abort = False
        try:
            note = self._note(session)
            if note is not None and held is not None:
                await note.clear_holder(str(held))
            await self._unlock(session)
        except DatabaseError as exc:
            # The session is gone (``unlock --force``, a server restart): the server dropped
            # the lock with it, and nobody should believe it was held.
            log.warning("lock.lost", lock=self.kind, error=str(exc))
            abort = True
        finally:
            await self._close(session, owned, abort=abort)

    async def holder(self) -> LockHolder | None:
        conn = self._session or self.adapter
        ids = await self._holder_ids(conn)
        if not ids:
            return None
        note = self._note(conn)
        if note is not None and (noted := await note.noted_holder(str(ids[0]))):
            return LockHolder(noted.host, noted.pid, noted.since, f"{self.session_word} {ids[0]}")
        return await self._describe(conn, ids[0])

    async def force_release(self, force: bool = False) -> LockHolder | None:
        holder = await self.holder()
        if holder is None:
            return None
        if not force:
            owner = f" ({holder.owner})" if holder.owner else ""
            raise LockError(
                f"the migration lock ({self.kind}) is held by live server session "
                f"{holder.describe()}{owner}; the server releases it when that session ends, "
                f"or `covet migrate unlock --force` ends that session"
            )
        conn = self._session or self.adapter
        ids = await self._holder_ids(conn)
        if self._session_id is not None and self._session_id in ids:
            await self.release()  # we hold it ourselves: ending our own session helps nobody
            return holder
        for session_id in ids:
            await self._terminate(conn, session_id)

        # Termination only signals: wait until the server has dropped the lock, so that
        # "released" is true when we say it (and the old holder's check sees it gone).
        async def gone() -> bool:
            return not set(await self._holder_ids(conn)) & set(ids)

        async def still_there(waited: float) -> Exception:
            return LockError(
                f"ended the session holding the migration lock, but the server still shows "
                f"it after {waited:.0f}s; run `covet migrate unlock --force` again"
            )

        await poll_until(gone, 10.0, still_there)
        return holder
