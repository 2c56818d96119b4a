"""DuckDBAdapter: DuckDB's synchronous Python API, run off the event loop.

A ``covet_core.driver.DriverAdapter`` (own or wrapped connection, error translation, nested
transactions) whose driver calls go to one worker thread owned by the adapter (a one-thread
executor), as aiosqlite does for sqlite3: the event loop never blocks on a query, and the
connection is only ever used by one thread at a time.

DuckDB has no SAVEPOINT, so nested ``transaction()`` blocks join the outer transaction
(``savepoints = False`` here and in the dialect's capabilities). A failure inside the
transaction dooms all of it, even when the caller caught it: after an error DuckDB accepts
only ROLLBACK, and it answers COMMIT of such a transaction by rolling back *silently*, so the
adapter keeps count and turns that COMMIT into a ROLLBACK and an error.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from covet_core.driver import DriverAdapter
from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError
from covet_core.locking import poll_until
from covet_core.urls import split_url, url_options, url_seconds

Row = dict[str, Any]
T = TypeVar("T")

MEMORY = ":memory:"
DEFAULT_TIMEOUT = 30.0
"""Seconds ``connect()`` waits for another process to close the file (SQLite's busy timeout)."""
# DuckDB's message when another process holds the file: "... Conflicting lock is held in
# /usr/bin/python3 (PID 1234) ..."; the pid is what a user needs to find that process.
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)", re.S)


def translate(exc: BaseException) -> DatabaseError:
    """A covet error for a duckdb exception: constraint violations are ``IntegrityError``.

    A unique-key clash between two open transactions surfaces at COMMIT as a
    TransactionException ("Failed to commit: PRIMARY KEY or UNIQUE constraint violation"); it
    is a constraint violation all the same, and the portable table lock relies on that.
    """
    message = " ".join(str(exc).split())
    if isinstance(exc, duckdb.ConstraintException) or (
        isinstance(exc, duckdb.TransactionException) and "constraint violation" in message
    ):
        return IntegrityError(message, sqlstate=type(exc).__name__)
    return DatabaseError(message, sqlstate=type(exc).__name__)


def _held_by(exc: BaseException) -> str | None:
    held = _LOCK_HOLDER.search(str(exc))
    return held.group(1) if held is not None else None


def _open_error(path: str, exc: BaseException, waited: float = 0.0) -> ConnectionFailedError:
    pid = _held_by(exc)
    if pid is not None:
        return ConnectionFailedError(
            f"DuckDB database file {path} is locked: in use by another process (pid {pid}), "
            f"still after {waited:.0f}s. DuckDB lets one process at a time open a file: wait "
            "for that process to finish, or wait longer with ?timeout=SECONDS in the URL"
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConnectionFailedError(f"cannot open DuckDB database {path}: {first}")


class DuckDBAdapter(DriverAdapter):
    """One DuckDB connection. ``DuckDBAdapter("app.duckdb")`` opens (and closes) its own;
    ``DuckDBAdapter(connection=conn)`` wraps a ``duckdb.DuckDBPyConnection`` the caller owns
    and leaves it open on ``disconnect()``."""

    dialect_name = "duckdb"
    driver_errors = (duckdb.Error,)
    savepoints = False

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        database: str | os.PathLike[str] | None = None,
        connection: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not 0 <= timeout < math.inf:
            raise ConfigError(
                f"DuckDB timeout must be a finite number of seconds >= 0, not {timeout}"
            )
        if path is not None and database is not None:
            raise ConfigError("pass the DuckDB database as path or database=, not both")
        target = path if path is not None else database
        if target is None and connection is None:
            raise ConfigError('DuckDBAdapter needs a path (e.g. "app.duckdb" or ":memory:")')
        self.path = str(target) if target is not None else None
        if self.path is not None and "\x00" in self.path:
            raise ConfigError("the DuckDB database path contains a NUL character (%00 in a URL)")
        super().__init__(connection=connection)
        self.timeout = timeout
        self._executor: ThreadPoolExecutor | None = None
        self._doomed = False

    @classmethod
    def from_url(cls, url: str, base_dir: Path | None = None) -> DuckDBAdapter:
        """``duckdb:///relative.duckdb``, ``duckdb:////absolute.duckdb``,
        ``duckdb:///:memory:``. A relative path is resolved against ``base_dir`` (the config
        file's folder) when given. Query option: ``timeout``, seconds to wait while another
        process has the file open (default 30; ``0`` fails at once)."""
        from urllib.parse import unquote

        parts = split_url(url, "duckdb:///path/to.duckdb")
        if parts.scheme != "duckdb" or parts.netloc not in ("", "localhost"):
            raise ConfigError(
                "DuckDB URLs look like duckdb:///path/to.duckdb or duckdb:///:memory:"
            )
        options = url_options(parts.query, ("timeout",), "DuckDB")
        raw = unquote(parts.path)
        path = raw[1:] if raw.startswith("/") else raw
        if not path:
            raise ConfigError("DuckDB URL has no path; use duckdb:///app.duckdb")
        if path != MEMORY and not os.path.isabs(path) and base_dir is not None:
            path = str(base_dir / path)
        return cls(path, timeout=url_seconds(options.get("timeout"), "timeout", DEFAULT_TIMEOUT))

    def translate(self, exc: BaseException) -> DatabaseError:
        return translate(exc)

    # -- the worker thread ---------------------------------------------------------------------

    async def _run(self, call: Callable[[], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="covet-duckdb")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except duckdb.Error:
            if self._depth:
                self._doomed = True  # DuckDB refuses everything after an error until ROLLBACK
            raise

    async def _stop_worker(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            # Waits for the thread to end, off the loop, so none outlives the adapter.
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)

    # -- connection ----------------------------------------------------------------------------

    def missing_database(self) -> str | None:
        """The file ``connect()`` would create, if it does not exist yet (else ``None``)."""
        if self._conn is not None or self.path is None or self.path == MEMORY:
            return None
        return None if os.path.lexists(self.path) else self.path

    async def _open(self) -> Any:
        path = self.path
        assert path is not None

        def open_() -> Any:
            # On the worker thread: the folder check is file system I/O too.
            folder = os.path.dirname(path)
            if path != MEMORY and folder and not os.path.isdir(folder):
                raise ConnectionFailedError(
                    f"cannot open DuckDB database {path}: folder {folder} does not exist"
                )
            return duckdb.connect(path)

        # Another process holding the file is the one failure worth waiting out: DuckDB's
        # file lock is in effect the migration lock between processes.
        opened: list[Any] = []
        failure: list[BaseException] = []

        async def attempt() -> bool:
            try:
                opened.append(await self._run(open_))
                return True
            except duckdb.Error as exc:
                if _held_by(exc) is None:
                    raise
                failure[:] = [exc]
                return False

        async def timed_out(waited: float) -> Exception:
            return _open_error(path, failure[0], waited)

        try:
            await poll_until(attempt, self.timeout, timed_out)
        except ConnectionFailedError:
            await self._stop_worker()
            raise
        except Exception as exc:  # duckdb raises IOException, ConnectionException, ...
            await self._stop_worker()
            raise _open_error(path, exc) from exc
        return opened[0]

    async def _close(self, conn: Any) -> None:
        await self._run(conn.close)

    _discard = _close  # no server session to drop: closing the file is all there is

    async def disconnect(self) -> None:
        await super().disconnect()
        await self._stop_worker()  # a wrapped connection's next call starts a new one
        self._doomed = False

    async def open_sibling(self, application_name: str | None = None) -> DuckDBAdapter | None:
        """Always ``None``: covet gets no second connection for parallel data workers.

        One could be had within this process (DuckDB shares one database instance between
        connections to a file; another process cannot open the file at all). But DuckDB's
        concurrency is optimistic: a second transaction writing a row another open
        transaction wrote fails with "Conflict on update" instead of waiting for it, and
        covet's parallel workers claim their chunks by waiting on row locks (or SKIP LOCKED).
        With no sibling, ``ParallelDataMigration`` runs its chunks on this connection alone.
        """
        return None

    # -- statements ----------------------------------------------------------------------------

    async def _execute(self, sql: str, params: Sequence[Any] | None) -> int:
        conn = self.connection

        def run() -> int:
            cursor = conn.execute(sql, list(params) if params else None)
            # INSERT / UPDATE / DELETE return one row with one "Count" column.
            description = cursor.description or []
            if len(description) == 1 and description[0][0] == "Count":
                row = cursor.fetchone()
                return int(row[0]) if row and row[0] is not None else -1
            return -1

        return await self._run(run)

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        conn = self.connection
        batch = [list(r) for r in rows]
        await self._run(lambda: conn.executemany(sql, batch))

    async def _fetch_all(self, sql: str, params: Sequence[Any] | None) -> list[Row]:
        conn = self.connection

        def run() -> list[Row]:
            cursor = conn.execute(sql, list(params) if params else None)
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self._run(run)

    async def _fetch_one(self, sql: str, params: Sequence[Any] | None) -> Row | None:
        conn = self.connection

        def run() -> Row | None:
            cursor = conn.execute(sql, list(params) if params else None)
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([d[0] for d in cursor.description], row, strict=True))

        return await self._run(run)

    # -- transactions --------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[DuckDBAdapter]:
        nested = self._depth > 0
        async with super().transaction():
            try:
                yield self
            except BaseException:
                if nested:
                    self._doomed = True  # joined, so the outer transaction goes with it
                raise

    async def _begin(self) -> None:
        self._doomed = False
        await self.execute("BEGIN TRANSACTION")

    async def _end(self, command: str) -> None:
        doomed, self._doomed = self._doomed, False
        if command == "COMMIT" and doomed:
            # DuckDB would roll back silently and report success.
            await self._end("ROLLBACK")
            raise DatabaseError(
                "a statement or nested block inside the transaction failed and its error was "
                "caught, so the whole transaction was rolled back (DuckDB has no savepoints: "
                "after an error it accepts nothing but ROLLBACK)"
            )
        try:
            await self.execute(command)
        except DatabaseError:
            if command == "COMMIT":
                raise  # a failed COMMIT has rolled back already; say why it failed
            # ROLLBACK after a failed COMMIT finds no transaction: nothing left to undo.

    def __repr__(self) -> str:
        return f"DuckDBAdapter({self.path!r})"
