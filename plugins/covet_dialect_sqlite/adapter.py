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
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from covet_core.driver import DriverAdapter
from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError
from covet_core.urls import split_url, url_options, url_seconds

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


class SQLiteAdapter(DriverAdapter):
    """An aiosqlite connection to one database file (or ``":memory:"``).

    ``SQLiteAdapter("app.db")`` opens its own connection; ``SQLiteAdapter(connection=conn)``
    wraps an open ``aiosqlite.Connection`` the caller owns (``disconnect`` leaves it open).
    """

    dialect_name = "sqlite"
    driver_errors = (sqlite3.Error,)

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
        super().__init__(connection=connection)
        self.timeout = timeout
        self.foreign_keys = foreign_keys

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
        options = url_options(parts.query, ("timeout", "foreign_keys"), "SQLite")
        timeout = url_seconds(options.get("timeout"), "timeout", 30.0)
        return cls(path, timeout=timeout, foreign_keys=options.get("foreign_keys") in ("1", "true"))

    def translate(self, exc: BaseException) -> DatabaseError:
        cls = IntegrityError if isinstance(exc, sqlite3.IntegrityError) else DatabaseError
        return cls(f"{exc}", sqlstate=getattr(exc, "sqlite_errorname", None))

    # -- connection ----------------------------------------------------------------------------

    def missing_database(self) -> str | None:
        """The file ``connect()`` would create, if it does not exist yet (else ``None``)."""
        if self._conn is not None or self.path is None or self.path == ":memory:":
            return None
        return None if os.path.lexists(self.path) else self.path

    async def _open(self) -> Any:
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
        return conn

    async def _close(self, conn: Any) -> None:
        await conn.close()

    _discard = _close  # no server session to drop: closing the file is all there is

    def _sibling(self, application_name: str | None) -> SQLiteAdapter | None:
        # In-memory databases are private to their connection: no second one sees them.
        if self.path is None or self.path == ":memory:":
            return None
        return SQLiteAdapter(self.path, timeout=self.timeout, foreign_keys=self.foreign_keys)

    # -- statements ----------------------------------------------------------------------------

    async def _execute(self, sql: str, params: Sequence[Any] | None) -> int:
        # Every aiosqlite call is a hop to its thread; an unclosed cursor costs nothing (sqlite3
        # finalises it when it is dropped), a close() would cost one more hop per statement.
        cursor = await self.connection.execute(sql, _params(params))
        return int(cursor.rowcount)

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.connection.executemany(sql, [_params(p) for p in rows])

    async def _fetch_all(self, sql: str, params: Sequence[Any] | None) -> list[dict[str, Any]]:
        cursor = await self.connection.execute(sql, _params(params))
        return [_as_dict(cursor, r) for r in await cursor.fetchall()]

    async def _fetch_one(self, sql: str, params: Sequence[Any] | None) -> dict[str, Any] | None:
        cursor = await self.connection.execute(sql, _params(params))
        row = await cursor.fetchone()
        return None if row is None else _as_dict(cursor, row)

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and bool(self._conn.in_transaction)

    async def _begin(self) -> None:
        await self.execute("BEGIN IMMEDIATE")

    async def _end(self, command: str) -> None:
        # SQLite itself rolls back on some errors (a full disk, an interrupt): there is then
        # nothing left to end.
        if self.connection.in_transaction:
            await self.execute(command)

    def __repr__(self) -> str:
        return f"SQLiteAdapter({self.path!r})"
