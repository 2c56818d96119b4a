"""DriverAdapter: the part of an adapter that does not depend on the driver.

Every adapter owns, wraps or borrows a connection (``connection=`` a caller's, left open on
``disconnect``; ``pool=`` one taken on ``connect`` and given back; otherwise its own), turns
driver exceptions into covet's errors in one place, and nests transactions as savepoints. A
dialect subclasses this and writes only what talks to its driver: ``_open``, ``_close``, the four
``_``-prefixed statement methods, and ``_parameters`` / ``_sibling`` if it can open a second
connection. The built-in adapters are written this way; so is a third party's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Self

from covet_core.errors import ConfigError, ConnectionFailedError, CovetError, DatabaseError

Row = dict[str, Any]


class DriverAdapter:
    """Base class for a dialect's adapter. Subclasses set ``dialect_name`` and
    ``driver_errors`` (the exception types their driver raises for a failed statement)."""

    dialect_name: ClassVar[str]
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    """Exceptions of the driver that mean "this statement failed": translated by
    ``translate``. Anything else (a bug, a cancellation) passes through unchanged."""
    savepoints: ClassVar[bool] = True
    """Nested ``transaction()`` blocks are savepoints. ``False`` (a database without
    SAVEPOINT): a nested block joins the outer transaction; declare the same in the dialect's
    ``Capabilities(savepoints=False)``, which the core reads."""

    def __init__(
        self, *, connection: Any = None, pool: Any = None, connect_timeout: float = 10.0
    ) -> None:
        if connection is not None and pool is not None:
            raise ConfigError(f"pass {type(self).__name__} a connection= or a pool=, not both")
        self._conn = connection
        self._pool = pool
        self.mode = "wrapped" if connection is not None else "pool" if pool is not None else "own"
        """``own`` (opened and closed here), ``wrapped`` (the caller's) or ``pool``."""
        self.connect_timeout = connect_timeout
        self._depth = 0
        self._adopted = False

    # -- what a dialect writes ----------------------------------------------------------------

    async def _open(self) -> Any:
        """Open and return a new driver connection (``own`` mode); raise
        ``ConnectionFailedError`` with what to do when it cannot."""
        raise NotImplementedError

    async def _close(self, conn: Any) -> None:
        """Close a connection this adapter opened."""
        raise NotImplementedError

    async def _execute(self, sql: str, params: Sequence[Any] | None) -> int:
        raise NotImplementedError

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    async def _fetch_all(self, sql: str, params: Sequence[Any] | None) -> list[Row]:
        raise NotImplementedError

    async def _fetch_one(self, sql: str, params: Sequence[Any] | None) -> Row | None:
        rows = await self._fetch_all(sql, params)
        return rows[0] if rows else None

    def translate(self, exc: BaseException) -> DatabaseError:
        """A driver error as covet's (``IntegrityError`` for a constraint violation), one line."""
        return DatabaseError(" ".join(str(exc).split()) or type(exc).__name__)

    def _set_server(
        self, host: str, port: int, database: str | None, user: str | None,
        password: str | None, ssl: Any,
    ) -> None:  # fmt: skip
        """Remember where a server database is: ``_parameters`` hands it to client tools
        (``pg_dump``, ``mysqldump``) and siblings connect with it."""
        self.host, self.port, self.database, self.user = host, int(port), database, user
        self._password, self.ssl = password, ssl

    def _parameters(self) -> dict[str, Any] | None:
        """Connection parameters for client tools (``own`` mode only); ``None``: unknown."""
        if not hasattr(self, "host"):
            return None
        keys = ("host", "port", "user", "database", "ssl")
        return {"password": self._password, **{k: getattr(self, k) for k in keys}}

    def _sibling(self, application_name: str | None) -> Self | None:
        """A new, unconnected adapter with this one's parameters (``own`` mode only)."""
        return None

    async def _adopt(self, conn: Any) -> None:
        """Prepare a caller's or a pool's connection for covet's use (e.g. autocommit)."""

    async def _unadopt(self, conn: Any) -> None:
        """Undo ``_adopt`` before the connection goes back to its owner."""

    def _pool_full(self) -> bool:
        """Whether asking the pool for another connection could wait forever."""
        return False

    # -- connections ---------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._conn is None and self.mode == "pool":
            self._conn = await self._acquire()
        if self._conn is not None:
            if self.mode != "own" and not self._adopted:
                await self._guard(self._adopt(self._conn))
                self._adopted = True
            return
        self._conn = await self._open()

    async def _acquire(self) -> Any:
        # A pool with every connection in use would make acquire() wait forever (a lock
        # session or a data step's second connection asked of a pool of one).
        failures: tuple[type[BaseException], ...] = (*self.driver_errors, OSError)
        try:
            return await asyncio.wait_for(self._pool.acquire(), self.connect_timeout)
        except TimeoutError:
            raise ConnectionFailedError(
                f"no free connection in the pool after {self.connect_timeout:g}s; give the "
                f"pool one more connection than the application uses"
            ) from None
        except failures as exc:
            raise ConnectionFailedError(
                f"the pool could not connect: {self.translate(exc)}"
            ) from None

    async def disconnect(self) -> None:
        conn = self._conn
        if conn is None:
            return
        if self._adopted:
            self._adopted = False
            try:
                await self._unadopt(conn)
            except DatabaseError:
                if self.mode == "wrapped":
                    raise
                await self._discard(conn)  # broken: a pool must not hand it out again
        if self.mode == "wrapped":
            return  # the caller's connection stays theirs, open and wrapped
        self._conn, self._depth = None, 0
        if self.mode == "pool":
            await self._pool.release(conn)
        else:
            await self._close(conn)

    async def _discard(self, conn: Any) -> None:
        """Drop a connection without a goodbye (the server ends the session)."""
        close = getattr(conn, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                result = close()
                if asyncio.iscoroutine(result):
                    await result

    async def abort(self) -> None:
        """Drop the connection at once, then disconnect as usual: the server ends the session,
        rolling back its transaction and freeing its locks. A caller's connection is left."""
        if self._conn is not None and self.mode != "wrapped":
            await self._discard(self._conn)
        await self.disconnect()

    @property
    def connection(self) -> Any:
        """The driver connection (for a dialect's own fast paths: bulk writes, backups)."""
        if self._conn is None:
            raise ConnectionFailedError(
                f"{type(self).__name__} is not connected; await adapter.connect()"
            )
        return self._conn

    def connection_parameters(self) -> dict[str, Any] | None:
        """Host, port, user, password, database ... for client tools (``pg_dump``), or ``None``
        for a wrapped connection or a pool. Holds the password: never log it."""
        return self._parameters() if self.mode == "own" else None

    async def open_sibling(self, application_name: str | None = None) -> Self | None:
        """A second, unconnected adapter to the same database (a lock's own session, a
        parallel worker), or ``None`` when none can be had without risk: a bare wrapped
        connection, or a pool with no free slot (waiting for it could deadlock)."""
        if self.mode == "wrapped":
            return None
        if self.mode == "pool":
            if self._pool_full():
                return None
            return type(self)(pool=self._pool, connect_timeout=self.connect_timeout)
        return self._sibling(application_name)

    def for_database(self, name: str) -> Self | None:
        """A new, unconnected adapter to database ``name`` on the same server, with this
        one's parameters (``own`` mode only; ``None`` otherwise): a scratch database's
        session (``up --dry-run --verify=scratch``)."""
        if self.mode != "own" or not hasattr(self, "host"):
            return None  # a caller's connection, or a database that is a file
        sibling = self._sibling(None)
        if sibling is None:
            return None
        sibling.database = name
        return sibling

    # -- statements ----------------------------------------------------------------------------

    async def _guard(self, call: Any) -> Any:
        try:
            return await call
        except CovetError:
            raise  # already ours (not connected, a translated nested call)
        except self.driver_errors as exc:
            raise self.translate(exc) from exc

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run one statement; the number of rows it changed (``-1`` when unknown)."""
        return int(await self._guard(self._execute(sql, params)))

    async def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(p) for p in seq_of_params]
        if rows:
            await self._guard(self._executemany(sql, rows))

    async def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        return list(await self._guard(self._fetch_all(sql, params)))

    async def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> Row | None:
        row: Row | None = await self._guard(self._fetch_one(sql, params))
        return row

    async def fetch_rows(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> Sequence[Mapping[str, Any]]:
        """``fetch_all``'s rows, read-only, in the driver's own form where that spares a copy
        per row (a schema read fetches tens of thousands): read them by column name only."""
        return await self.fetch_all(sql, params)

    async def fetch_value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = await self.fetch_one(sql, params)
        return next(iter(row.values())) if row else None

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open; dialects ask their driver (DDL may end one)."""
        return self._depth > 0

    async def _begin(self) -> None:
        await self.execute("BEGIN")

    async def _end(self, command: str) -> None:
        """``COMMIT`` or ``ROLLBACK`` of the outermost transaction."""
        await self.execute(command)

    def _savepoint_alive(self) -> bool:
        """Whether the block's savepoint still exists (DDL may have committed it away)."""
        return True

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """Commits on success, rolls back on error; nested use is a savepoint (or joins the
        outer transaction where the database has none)."""
        if self._depth == 0 and not self.in_transaction:
            await self._begin()
            self._depth = 1
            try:
                yield self
            except BaseException:
                # A lost connection is rolled back by the server, and a failed ROLLBACK is
                # not news: the block's own error is.
                with contextlib.suppress(DatabaseError):
                    await self._end("ROLLBACK")
                raise
            else:
                await self._end("COMMIT")
            finally:
                self._depth = 0
            return
        self._depth += 1
        try:
            if not self.savepoints:
                yield self
                return
            savepoint = f"covet_sp_{self._depth}"
            await self.execute(f"SAVEPOINT {savepoint}")
            try:
                yield self
            except BaseException:
                if self._savepoint_alive():
                    with contextlib.suppress(DatabaseError):
                        await self.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                        await self.execute(f"RELEASE SAVEPOINT {savepoint}")
                raise
            else:
                if self._savepoint_alive():
                    await self.execute(f"RELEASE SAVEPOINT {savepoint}")
        finally:
            self._depth -= 1
