"""SQLiteAdapter over aiosqlite, in autocommit mode with explicit transactions.

The connection runs with ``isolation_level=None`` so Python's sqlite3 never opens or commits a
transaction behind covet's back (it otherwise commits implicitly around some DDL). Transactions
start with ``BEGIN IMMEDIATE``: taking the write lock up front lets SQLite's busy timeout wait
for another writer instead of failing on a read-to-write upgrade.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import math
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError
from covet_core.urls import split_url, url_seconds

Row = dict[str, Any]


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {desc[0]: value for desc, value in zip(cursor.description, row, strict=True)}


def _as_dict(cursor: Any, row: Any) -> Row:
    # A wrapped connection keeps its owner's row_factory (tuples, sqlite3.Row, ...).
    if isinstance(row, dict):
        return row
    return {desc[0]: value for desc, value in zip(cursor.description, row, strict=True)}


def _param(value: Any) -> Any:
    # sqlite3's implicit datetime adapters are deprecated (3.12); store ISO-8601 text ourselves.
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    return value


def _params(params: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(_param(v) for v in params) if params else ()


def _missing_folder(path: str) -> str | None:
    # One stat, before aiosqlite starts a thread for a connection that cannot succeed.
    folder = os.path.dirname(path)
    return folder if path != ":memory:" and folder and not os.path.isdir(folder) else None


def _translate(exc: sqlite3.Error) -> DatabaseError:
    cls = IntegrityError if isinstance(exc, sqlite3.IntegrityError) else DatabaseError
    return cls(f"{exc}", sqlstate=getattr(exc, "sqlite_errorname", None))


class SQLiteAdapter:
    """An aiosqlite connection to one database file (or ``":memory:"``).

    ``SQLiteAdapter("app.db")`` opens its own connection; ``SQLiteAdapter(connection=conn)``
    wraps an open ``aiosqlite.Connection`` the caller owns (``disconnect`` leaves it open).
    """

    dialect_name = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        database: str | os.PathLike[str] | None = None,
        connection: Any = None,
        timeout: float = 30.0,
        foreign_keys: bool = False,
    ) -> None:
        if path is not None and database is not None:
            raise ConfigError("pass the SQLite database as path or database=, not both")
        target = path if path is not None else database
        if target is None and connection is None:
            raise ConfigError('SQLiteAdapter needs a path (e.g. "app.db" or ":memory:")')
        self.path = str(target) if target is not None else None
        if self.path is not None and "\x00" in self.path:
            raise ConfigError("the SQLite database path contains a NUL character (%00 in a URL)")
        try:
            (self.path or "").encode()
        except UnicodeEncodeError:
            raise ConfigError(
                "the SQLite database path is not valid UTF-8; SQLite cannot open it: rename "
                "the file"
            ) from None
        if not 0 <= timeout < math.inf:
            raise ConfigError(
                f"SQLite timeout must be a finite number of seconds >= 0, not {timeout}"
            )
        self.timeout = timeout
        self.foreign_keys = foreign_keys
        self._conn = connection
        self._owns_connection = connection is None
        self._depth = 0

    @classmethod
    def from_url(cls, url: str, base_dir: Path | None = None) -> SQLiteAdapter:
        """``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``sqlite:///:memory:``.

        A relative path is resolved against ``base_dir`` (the config file's folder) when given.
        Query options: ``timeout`` (seconds), ``foreign_keys`` (``1``/``0``).
        """
        parts = split_url(url, "sqlite:///path/to.db")
        if parts.scheme != "sqlite" or parts.netloc not in ("", "localhost"):
            raise ConfigError("SQLite URLs look like sqlite:///path/to.db or sqlite:///:memory:")
        raw = unquote(parts.path)
        path = raw[1:] if raw.startswith("/") else raw
        if not path:
            raise ConfigError("SQLite URL has no path; use sqlite:///app.db or sqlite:///:memory:")
        if path != ":memory:" and not os.path.isabs(path) and base_dir is not None:
            path = str(base_dir / path)
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"timeout", "foreign_keys"}
        if unknown:
            raise ConfigError(f"unknown SQLite URL option(s): {', '.join(sorted(unknown))}")
        timeout = url_seconds(options.get("timeout"), "timeout", 30.0)
        return cls(path, timeout=timeout, foreign_keys=options.get("foreign_keys") in ("1", "true"))

    # -- connection ----------------------------------------------------------------------------

    def missing_database(self) -> str | None:
        """The file ``connect()`` would create, if it does not exist yet (else ``None``)."""
        if self._conn is not None or self.path is None or self.path == ":memory:":
            return None
        return None if os.path.lexists(self.path) else self.path

    async def connect(self) -> None:
        if self._conn is not None:
            return
        import aiosqlite

        assert self.path is not None
        if (folder := _missing_folder(self.path)) is not None:
            raise ConnectionFailedError(
                f"cannot open SQLite database {self.path}: folder {folder} does not exist"
            )
        pending = aiosqlite.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            conn = await pending
        except sqlite3.Error as exc:
            # aiosqlite stops its worker thread without waiting; wait here, while the event
            # loop is alive, or the thread reports into a closed loop later.
            worker = getattr(pending, "_thread", None)
            if worker is not None:
                await asyncio.get_running_loop().run_in_executor(None, worker.join, 5.0)
            raise ConnectionFailedError(f"cannot open SQLite database {self.path}: {exc}") from exc
        conn.row_factory = _dict_row  # type: ignore[assignment]
        if self.foreign_keys:
            await conn.execute("PRAGMA foreign_keys = ON")
        self._conn = conn

    async def disconnect(self) -> None:
        if self._conn is not None and self._owns_connection:
            conn, self._conn = self._conn, None
            await conn.close()

    async def open_sibling(self) -> SQLiteAdapter | None:
        """Another, unconnected adapter on the same file (``None`` for in-memory databases or a
        wrapped connection whose file covet does not know)."""
        if self.path is None or self.path == ":memory:":
            return None
        return SQLiteAdapter(self.path, timeout=self.timeout, foreign_keys=self.foreign_keys)

    @property
    def connection(self) -> Any:
        if self._conn is None:
            raise ConnectionFailedError("SQLite adapter is not connected; await adapter.connect()")
        return self._conn

    # -- statements ----------------------------------------------------------------------------

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        # Every aiosqlite call is a hop to its thread; an unclosed cursor costs nothing (sqlite3
        # finalises it when it is dropped), a close() would cost one more hop per statement.
        try:
            cursor = await self.connection.execute(sql, _params(params))
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        return int(cursor.rowcount)

    async def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]]) -> None:
        try:
            await self.connection.executemany(sql, [_params(p) for p in seq_of_params])
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    async def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        try:
            cursor = await self.connection.execute(sql, _params(params))
            rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        return [_as_dict(cursor, r) for r in rows]

    async def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> Row | None:
        try:
            cursor = await self.connection.execute(sql, _params(params))
            row = await cursor.fetchone()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        return None if row is None else _as_dict(cursor, row)

    async def fetch_value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = await self.fetch_one(sql, params)
        return next(iter(row.values())) if row else None

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and bool(self._conn.in_transaction)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLiteAdapter]:
        conn = self.connection
        if self._depth == 0 and not conn.in_transaction:
            await self.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                await self._finish("ROLLBACK")
                raise
            else:
                await self._finish("COMMIT")
            return
        self._depth += 1
        savepoint = f"covet_sp_{self._depth}"
        await self.execute(f"SAVEPOINT {savepoint}")
        try:
            yield self
        except BaseException:
            await self.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
            await self.execute(f"RELEASE SAVEPOINT {savepoint}")
            raise
        else:
            await self.execute(f"RELEASE SAVEPOINT {savepoint}")
        finally:
            self._depth -= 1

    async def _finish(self, command: str) -> None:
        try:
            if self.connection.in_transaction:
                await self.execute(command)
        finally:
            self._depth = 0

    def __repr__(self) -> str:
        return f"SQLiteAdapter({self.path!r})"
