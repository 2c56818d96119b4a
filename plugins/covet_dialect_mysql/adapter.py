"""MySQLAdapter over aiomysql: autocommit, as in the ``mysql`` client, with explicit ``BEGIN``.

Connections the adapter opens itself use ``time_zone = '+00:00'`` so ``NOW()`` and TIMESTAMP
columns agree with the naive-UTC datetimes covet binds.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import ssl as _ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pymysql

from covet_core.driver import DriverAdapter
from covet_core.errors import (
    LOCK_TIMEOUT,
    ConfigError,
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
)
from covet_core.urls import url_seconds
from covet_dialect_mysql import connect_error, error_parts, parse_url

Row = dict[str, Any]


_SQLSTATES = {1213: "40001", 1205: LOCK_TIMEOUT}
"""MySQL errors the core acts on, as SQLSTATEs it knows: a deadlock or Galera certification
conflict (retry the transaction), a lock wait timeout (retry the migration)."""


def translate(exc: pymysql.err.MySQLError) -> DatabaseError:
    """A driver error as a one-line covet error that keeps the MySQL error number."""
    code, message = error_parts(exc)
    if not message and isinstance(exc, pymysql.err.InterfaceError):
        message = "the connection to the MySQL server is closed"
    text = f"{message or type(exc).__name__} (MySQL error {code})" if code else message
    cls = IntegrityError if isinstance(exc, pymysql.err.IntegrityError) else DatabaseError
    # 1213: a deadlock, or on Galera a certification conflict with another node's commit;
    # both mean "retry the transaction", which SQLSTATE 40001 says to the core.
    return cls(text or type(exc).__name__, sqlstate=_SQLSTATES.get(code or 0))


def _param(value: Any) -> Any:
    # DATETIME has no zone and PyMySQL would format an aware value's local wall time.
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value


def _params(params: Sequence[Any] | None) -> tuple[Any, ...] | None:
    # None, not (): PyMySQL only %-formats the SQL when args are given, so a literal % survives.
    return tuple(_param(v) for v in params) if params else None


class MySQLAdapter(DriverAdapter):
    """``MySQLAdapter(host=, port=, database=, user=, password=)`` opens its own connection;
    ``connection=`` wraps an open ``aiomysql.Connection`` the caller owns (``disconnect`` leaves
    it open); ``pool=`` takes a connection from an ``aiomysql.Pool`` and gives it back."""

    dialect_name = "mysql"
    # PyMySQL binds client-side with str % args: a miscount surfaces as TypeError/ValueError.
    driver_errors = (pymysql.err.MySQLError, TypeError, ValueError)

    def __init__(
        self,
        *,
        host: str = "localhost",
        port: int = 3306,
        database: str | None = None,
        user: str = "root",
        password: str | None = None,
        ssl: _ssl.SSLContext | bool | None = None,
        connect_timeout: float = 10.0,
        charset: str = "utf8mb4",
        connection: Any = None,
        pool: Any = None,
    ) -> None:
        super().__init__(
            connection=connection,
            pool=pool,
            connect_timeout=url_seconds(str(connect_timeout), "connect_timeout", 10.0),
        )
        self._set_server(host, port, database, user, password, ssl)
        self.charset = charset
        self._restore_autocommit: bool | None = None

    @classmethod
    def from_url(cls, url: str, base_dir: Path | None = None) -> MySQLAdapter:
        """``mysql://user:password@host:port/database?connect_timeout=5&ssl=true``.

        The format is ``covet_dialect_mysql.parse_url``'s; ``base_dir`` is unused."""
        return cls(**parse_url(url))

    def translate(self, exc: BaseException) -> DatabaseError:
        if isinstance(exc, TypeError | ValueError):
            return DatabaseError(
                f"cannot bind parameters to the SQL ({exc}); use %s placeholders, one per "
                f"parameter, and write a literal % as %% when passing parameters"
            )
        return translate(cast(pymysql.err.MySQLError, exc))

    # -- connection ----------------------------------------------------------------------------

    async def _open(self) -> Any:
        import aiomysql
        from pymysql.charset import charset_by_name

        if charset_by_name(self.charset) is None:
            # PyMySQL would fail later with an AttributeError deep in its handshake.
            raise ConfigError(f"unknown MySQL charset {self.charset!r}; use e.g. utf8mb4")
        conn = aiomysql.Connection(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self._password or "",
            db=self.database,
            charset=self.charset,
            ssl=_ssl.create_default_context() if self.ssl is True else self.ssl or None,
            connect_timeout=self.connect_timeout,
            autocommit=True,
            init_command="SET time_zone = '+00:00'",
        )
        try:
            # aiomysql's connect_timeout covers the TCP connect only; a server that accepts and
            # then says nothing would hang the handshake. aiomysql.connect() is this same pair,
            # but here the half-open connection stays reachable so it can be closed.
            await asyncio.wait_for(conn._connect(), self.connect_timeout)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, pymysql.err.MySQLError | OSError):  # TimeoutError is an OSError
                raise connect_error(self, exc) from None
            raise
        if self.ssl and not conn._secure:  # aiomysql goes on in plain text when SSL is missing
            conn.close()
            raise ConnectionFailedError(
                f"MySQL at {self.host}:{self.port} does not offer SSL, which the ssl option "
                f"requires; enable SSL on the server or drop the option"
            )
        return conn

    async def _close(self, conn: Any) -> None:
        try:
            await conn.ensure_closed()  # a polite COM_QUIT
        except (OSError, pymysql.err.MySQLError):
            conn.close()  # the server is gone already: just drop the socket

    async def _acquire(self) -> Any:
        try:
            return await asyncio.wait_for(self._pool.acquire(), self.connect_timeout)
        except TimeoutError:
            raise ConnectionFailedError(
                f"no free connection in the aiomysql pool within {self.connect_timeout:g}s; "
                f"raise the pool's maxsize or release connections sooner"
            ) from None
        except (pymysql.err.MySQLError, OSError) as exc:
            # The pool opened a new connection with its own settings: report the server's words.
            message = error_parts(exc)[1]
            raise ConnectionFailedError(f"the aiomysql pool could not connect: {message}") from None

    async def _adopt(self, conn: Any) -> None:
        # A caller's or a pool's connection may be in manual-commit mode: switch it for our
        # use, and back on disconnect.
        if not conn.get_autocommit():
            await conn.autocommit(True)
            self._restore_autocommit = False

    async def _unadopt(self, conn: Any) -> None:
        restore, self._restore_autocommit = self._restore_autocommit, None
        if restore is not None and not conn.closed:
            await self._guard(conn.autocommit(restore))

    def _pool_full(self) -> bool:
        pool = self._pool
        return bool(pool.freesize == 0 and pool.size >= pool.maxsize)

    def _sibling(self, application_name: str | None) -> MySQLAdapter:
        keep = ("host", "port", "database", "user", "ssl", "connect_timeout", "charset")
        return MySQLAdapter(password=self._password, **{k: getattr(self, k) for k in keep})

    # -- statements ----------------------------------------------------------------------------

    async def _run(self, mode: str, sql: str, params: Any) -> Any:
        import aiomysql

        async with self.connection.cursor(aiomysql.DictCursor) as cursor:
            if mode == "many":
                # aiomysql folds INSERT ... VALUES into multi-row inserts: one round trip.
                return await cursor.executemany(sql, params)
            rowcount = await cursor.execute(sql, _params(params))
            if mode == "all":
                return list(await cursor.fetchall())
            return await cursor.fetchone() if mode == "one" else rowcount

    async def _execute(self, sql: str, params: Sequence[Any] | None) -> int:
        return int(await self._run("count", sql, params))

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._run("many", sql, [_params(p) or () for p in rows])

    async def _fetch_all(self, sql: str, params: Sequence[Any] | None) -> list[Row]:
        return cast(list[Row], await self._run("all", sql, params))

    async def _fetch_one(self, sql: str, params: Sequence[Any] | None) -> Row | None:
        return cast(Row | None, await self._run("one", sql, params))

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        # The server's in-transaction flag: false again once DDL committed implicitly.
        return self._conn is not None and bool(self._conn.get_transaction_status())

    def _savepoint_alive(self) -> bool:
        # DDL inside the block may have committed (and so dropped) the savepoint, and a
        # deadlock rolls back the whole transaction.
        return self.in_transaction

    def __repr__(self) -> str:
        if self.mode != "own":
            return f"MySQLAdapter({self.mode}={(self._pool or self._conn)!r})"
        where = f"host={self.host!r}, port={self.port}, database={self.database!r}"
        return f"MySQLAdapter({where}, user={self.user!r})"  # never the password
