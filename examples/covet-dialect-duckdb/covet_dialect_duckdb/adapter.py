"""DuckDBAdapter: DuckDB's synchronous Python API, run off the event loop.

Every call on a connection goes to one worker thread owned by that adapter (a one-thread
executor), as aiosqlite does for sqlite3: the event loop never blocks on a query, and the
connection is only ever used by one thread at a time.

DuckDB has no SAVEPOINT, so nested ``transaction()`` blocks join the outer transaction (the
dialect declares ``savepoints=False``). A nested block that fails dooms the whole
transaction: DuckDB refuses every statement after an error until ROLLBACK, so the outer block
rolls back and raises even if the caller swallowed the inner error.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError
from covet_core.urls import split_url

Row = dict[str, Any]
T = TypeVar("T")

MEMORY = ":memory:"
# DuckDB's message when another process holds the file: "... Conflicting lock is held in
# /usr/bin/python3 (PID 1234) ..."; the pid is what a user needs to find that process.
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)", re.S)


def translate(exc: Exception) -> DatabaseError:
    """A covet error for a duckdb exception: constraint violations are ``IntegrityError``.

    A unique-key clash between two open transactions surfaces at COMMIT as a
    TransactionException ("Failed to commit: PRIMARY KEY or UNIQUE constraint violation"); it
    is a constraint violation all the same, and the portable table lock relies on that.
    """
    import duckdb

    message = " ".join(str(exc).split())
    if isinstance(exc, duckdb.ConstraintException) or (
        isinstance(exc, duckdb.TransactionException) and "constraint violation" in message
    ):
        return IntegrityError(message, sqlstate=type(exc).__name__)
    return DatabaseError(message, sqlstate=type(exc).__name__)


def _open_error(path: str, exc: Exception) -> ConnectionFailedError:
    held = _LOCK_HOLDER.search(str(exc))
    if held is not None:
        return ConnectionFailedError(
            f"DuckDB database file {path} is in use by another process (pid {held.group(1)}); "
            "DuckDB lets one process at a time open a file for writing: wait for that "
            "process to finish, then run this again"
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ConnectionFailedError(f"cannot open DuckDB database {path}: {first}")


class DuckDBAdapter:
    """One DuckDB connection. ``DuckDBAdapter("app.duckdb")`` opens (and closes) its own;
    ``DuckDBAdapter(connection=conn)`` wraps a ``duckdb.DuckDBPyConnection`` the caller owns
    and leaves it open on ``disconnect()``."""

    dialect_name = "duckdb"

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        database: str | os.PathLike[str] | None = None,
        connection: Any = None,
    ) -> None:
        if path is not None and database is not None:
            raise ConfigError("pass the DuckDB database as path or database=, not both")
        target = path if path is not None else database
        if target is None and connection is None:
            raise ConfigError('DuckDBAdapter needs a path (e.g. "app.duckdb" or ":memory:")')
        self.path = str(target) if target is not None else None
        if self.path is not None and "\x00" in self.path:
            raise ConfigError("the DuckDB database path contains a NUL character (%00 in a URL)")
        self._conn = connection
        self._owns_connection = connection is None
        self._executor: ThreadPoolExecutor | None = None
        self._depth = 0
        self._doomed = False

    @classmethod
    def from_url(cls, url: str, base_dir: Path | None = None) -> DuckDBAdapter:
        """``duckdb:///relative.duckdb``, ``duckdb:////absolute.duckdb``,
        ``duckdb:///:memory:``. A relative path is resolved against ``base_dir`` (the config
        file's folder) when given. No query options are accepted yet."""
        from urllib.parse import unquote

        parts = split_url(url, "duckdb:///path/to.duckdb")
        if parts.scheme != "duckdb" or parts.netloc not in ("", "localhost"):
            raise ConfigError(
                "DuckDB URLs look like duckdb:///path/to.duckdb or duckdb:///:memory:"
            )
        if parts.query:
            raise ConfigError("DuckDB URLs take no options (nothing after ?)")
        raw = unquote(parts.path)
        path = raw[1:] if raw.startswith("/") else raw
        if not path:
            raise ConfigError("DuckDB URL has no path; use duckdb:///app.duckdb")
        if path != MEMORY and not os.path.isabs(path) and base_dir is not None:
            path = str(base_dir / path)
        return cls(path)

    # -- the worker thread ---------------------------------------------------------------------

    async def _run(self, call: Callable[[], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="covet-duckdb")
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    # -- connection ----------------------------------------------------------------------------

    def missing_database(self) -> str | None:
        """The file ``connect()`` would create, if it does not exist yet (else ``None``)."""
        if self._conn is not None or self.path is None or self.path == MEMORY:
            return None
        return None if os.path.lexists(self.path) else self.path

    async def connect(self) -> None:
        if self._conn is not None:
            return
        path = self.path
        assert path is not None

        def open_() -> Any:
            # On the worker thread: the folder check is file system I/O too.
            folder = os.path.dirname(path)
            if path != MEMORY and folder and not os.path.isdir(folder):
                raise ConnectionFailedError(
                    f"cannot open DuckDB database {path}: folder {folder} does not exist"
                )
            import duckdb

            return duckdb.connect(path)

        try:
            self._conn = await self._run(open_)
        except ConnectionFailedError:
            await self._stop_worker()
            raise
        except Exception as exc:  # duckdb raises IOException, ConnectionException, ...
            await self._stop_worker()
            raise _open_error(path, exc) from exc

    async def disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._owns_connection:
            await self._run(conn.close)
        elif conn is not None:
            self._conn = conn  # a wrapped connection stays usable by its owner and by us
        await self._stop_worker()
        self._depth, self._doomed = 0, False

    async def _stop_worker(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            # Waits for the thread to end, off the loop, so none outlives the adapter.
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)

    async def open_sibling(self) -> DuckDBAdapter | None:
        """Always ``None``: covet gets no second connection for parallel data workers.

        One could be had within this process (DuckDB shares one database instance between
        connections to a file; another process cannot open the file at all). But DuckDB's
        concurrency is optimistic: a second transaction writing a row another open
        transaction wrote fails with "Conflict on update" instead of waiting for it, and
        covet's parallel workers claim their chunks by waiting on row locks (or SKIP LOCKED).
        With no sibling, ``ParallelDataMigration`` runs its chunks on this connection alone.
        """
        return None

    @property
    def connection(self) -> Any:
        if self._conn is None:
            raise ConnectionFailedError("DuckDB adapter is not connected; await adapter.connect()")
        return self._conn

    # -- statements ----------------------------------------------------------------------------

    async def _call(self, call: Callable[[Any], T]) -> T:
        conn = self.connection

        def guarded() -> T:
            import duckdb

            try:
                return call(conn)
            except duckdb.Error as exc:
                raise translate(exc) from exc

        try:
            return await self._run(guarded)
        except DatabaseError:
            if self._depth:
                self._doomed = True  # DuckDB refuses everything after an error until ROLLBACK
            raise

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        def run(conn: Any) -> int:
            cursor = conn.execute(sql, list(params) if params else None)
            # INSERT / UPDATE / DELETE return one row with one "Count" column.
            description = cursor.description or []
            if len(description) == 1 and description[0][0] == "Count":
                row = cursor.fetchone()
                return int(row[0]) if row and row[0] is not None else -1
            return -1

        return await self._call(run)

    async def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]]) -> None:
        batch = [list(p) for p in seq_of_params]
        if batch:
            await self._call(lambda conn: conn.executemany(sql, batch))

    async def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        def run(conn: Any) -> list[Row]:
            cursor = conn.execute(sql, list(params) if params else None)
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self._call(run)

    async def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> Row | None:
        def run(conn: Any) -> Row | None:
            cursor = conn.execute(sql, list(params) if params else None)
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([d[0] for d in cursor.description], row, strict=True))

        return await self._call(run)

    async def fetch_value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = await self.fetch_one(sql, params)
        return next(iter(row.values())) if row else None

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction opened through this adapter is open. DuckDB's Python API does
        not report a transaction a caller began with ``conn.begin()`` on a wrapped connection."""
        return self._conn is not None and self._depth > 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[DuckDBAdapter]:
        if self._depth > 0:
            # No savepoints: join the outer transaction; an error here dooms all of it.
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._doomed = True
                raise
            finally:
                self._depth -= 1
            return
        await self.execute("BEGIN TRANSACTION")
        self._depth, self._doomed = 1, False
        try:
            yield self
        except BaseException:
            await self._end("ROLLBACK")
            raise
        if self._doomed:
            await self._end("ROLLBACK")
            raise DatabaseError(
                "a statement or nested block inside the transaction failed and its error was "
                "caught, so the whole transaction was rolled back (DuckDB has no savepoints: "
                "after an error it accepts nothing but ROLLBACK)"
            )
        await self._end("COMMIT")

    async def _end(self, command: str) -> None:
        try:
            await self._call(lambda conn: conn.execute(command))
        except DatabaseError:
            if command == "COMMIT":
                # A failed COMMIT has already rolled the transaction back; say why it failed.
                raise
            # ROLLBACK after a failed COMMIT finds no transaction: nothing left to undo.
        finally:
            self._depth, self._doomed = 0, False

    def __repr__(self) -> str:
        return f"DuckDBAdapter({self.path!r})"
