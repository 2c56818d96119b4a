"""MySQLAdapter over aiomysql: autocommit, as in the ``mysql`` client, with explicit ``BEGIN``.

Connections the adapter opens itself use ``time_zone = '+00:00'`` so ``NOW()`` and TIMESTAMP
columns agree with the naive-UTC datetimes covet binds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import ssl as _ssl
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pymysql

from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError
from covet_core.urls import url_seconds
from covet_dialect_mysql import connect_error, error_parts, parse_url

Row = dict[str, Any]


def translate(exc: pymysql.err.MySQLError) -> DatabaseError:
    """A driver error as a one-line covet error that keeps the MySQL error number."""
    code, message = error_parts(exc)
    if not message and isinstance(exc, pymysql.err.InterfaceError):
        message = "the connection to the MySQL server is closed"
    text = f"{message or type(exc).__name__} (MySQL error {code})" if code else message
    cls = IntegrityError if isinstance(exc, pymysql.err.IntegrityError) else DatabaseError
    return cls(text or type(exc).__name__)


def _param(value: Any) -> Any:
    # DATETIME has no zone and PyMySQL would format an aware value's local wall time.
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.UTC).replace(tzinfo=None)
    return value


def _params(params: Sequence[Any] | None) -> tuple[Any, ...] | None:
    # None, not (): PyMySQL only %-formats the SQL when args are given, so a literal % survives.
    return tuple(_param(v) for v in params) if params else None


class MySQLAdapter:
    """``MySQLAdapter(host=, port=, database=, user=, password=)`` opens its own connection;
    ``connection=`` wraps an open ``aiomysql.Connection`` the caller owns (``disconnect`` leaves
    it open); ``pool=`` takes a connection from an ``aiomysql.Pool`` and gives it back."""

    dialect_name = "mysql"

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
        if connection is not None and pool is not None:
            raise ConfigError("pass MySQLAdapter a connection= or a pool=, not both")
        self.host = host
        self.port = int(port)
        self.database = database
        self.user = user
        self._password = password
        self.ssl = ssl
        self.connect_timeout = url_seconds(str(connect_timeout), "connect_timeout", 10.0)
        self.charset = charset
        self._pool = pool
        self._conn = connection
        self._owns_connection = connection is None and pool is None
        self._restore_autocommit: bool | None = None
        self._depth = 0

    @classmethod
    def from_url(cls, url: str, base_dir: Path | None = None) -> MySQLAdapter:
        """``mysql://user:password@host:port/database?connect_timeout=5&ssl=true``.

        The format is ``covet_dialect_mysql.parse_url``'s; ``base_dir`` is unused."""
        return cls(**parse_url(url))

    # -- connection ----------------------------------------------------------------------------

    async def connect(self) -> None:
        if self._conn is None and self._pool is not None:
            self._conn = await self._acquire_from_pool()
        if self._conn is not None:
            # A caller's or a pool's connection may be in manual-commit mode: switch it for our
            # use, and back on disconnect.
            if self._restore_autocommit is None and not self._conn.get_autocommit():
                await self._set_autocommit(self._conn, True)
                self._restore_autocommit = False
            return
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
        self._conn = conn

    async def _acquire_from_pool(self) -> Any:
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

    @staticmethod
    async def _set_autocommit(conn: Any, value: bool) -> None:
        try:
            await conn.autocommit(value)
        except pymysql.err.MySQLError as exc:
            raise translate(exc) from exc

    async def disconnect(self) -> None:
        conn, restore = self._conn, self._restore_autocommit
        self._restore_autocommit = None
        if conn is None:
            return
        if not (self._owns_connection or self._pool is not None):
            if restore is not None and not conn.closed:
                await self._set_autocommit(conn, restore)  # the caller's mode back
            return  # a caller's connection stays open and wrapped
        self._conn = None
        if restore is not None and not conn.closed:
            try:
                await self._set_autocommit(conn, restore)
            except DatabaseError:
                conn.close()  # broken: a pool must not hand it out again
        if self._pool is not None:
            await self._pool.release(conn)
            return
        try:
            await conn.ensure_closed()  # a polite COM_QUIT
        except (OSError, pymysql.err.MySQLError):
            conn.close()  # the server is gone already: just drop the socket

    async def abort(self) -> None:
        """Drop the connection without a goodbye, then disconnect as usual.

        The server ends the session, which rolls back its transaction and frees its named
        locks; a connection in an unknown protocol state never goes back to a pool. A caller's
        wrapped connection is left alone.
        """
        if self._conn is not None and (self._owns_connection or self._pool is not None):
            self._conn.close()
        await self.disconnect()

    @property
    def connection(self) -> Any:
        if self._conn is None:
            raise ConnectionFailedError("MySQL adapter is not connected; await adapter.connect()")
        return self._conn

    async def open_sibling(self) -> MySQLAdapter | None:
        """A new, not yet connected adapter to the same database with the same credentials.

        From a pool: another connection of that pool, or ``None`` when the pool is full (waiting
        for a slot this adapter itself may be holding would deadlock). ``None`` too for a bare
        wrapped connection, whose credentials the adapter does not know.
        """
        if self._pool is not None:
            pool = self._pool
            if pool.freesize == 0 and pool.size >= pool.maxsize:
                return None
            return MySQLAdapter(pool=pool, connect_timeout=self.connect_timeout)
        if not self._owns_connection:
            return None
        keep = ("host", "port", "database", "user", "ssl", "connect_timeout", "charset")
        return MySQLAdapter(password=self._password, **{k: getattr(self, k) for k in keep})

    def connection_parameters(self) -> dict[str, Any] | None:
        """``host``, ``port``, ``user``, ``password``, ``database`` and ``ssl`` of an adapter
        built from keywords or a URL, for external tools such as ``mysqldump``.

        ``None`` when the adapter wraps a connection or a pool, whose parameters it does not
        know. The password is in the result: never log it or put it on a command line.
        """
        if not self._owns_connection:
            return None
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self._password,
            "database": self.database,
            "ssl": self.ssl,
        }

    # -- statements ----------------------------------------------------------------------------

    async def _run(self, mode: str, sql: str, params: Any) -> Any:
        import aiomysql

        async with self.connection.cursor(aiomysql.DictCursor) as cursor:
            try:
                if mode == "many":
                    # aiomysql folds INSERT ... VALUES into multi-row inserts: one round trip.
                    return await cursor.executemany(sql, params)
                rowcount = await cursor.execute(sql, _params(params))
                if mode == "all":
                    return list(await cursor.fetchall())
                return await cursor.fetchone() if mode == "one" else rowcount
            except pymysql.err.MySQLError as exc:
                raise translate(exc) from exc
            except (TypeError, ValueError) as exc:
                # PyMySQL binds client-side with str % args: a miscount surfaces as TypeError.
                raise DatabaseError(
                    f"cannot bind parameters to the SQL ({exc}); use %s placeholders, one per "
                    f"parameter, and write a literal % as %% when passing parameters"
                ) from exc

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        return int(await self._run("count", sql, params))

    async def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]]) -> None:
        rows = [_params(p) or () for p in seq_of_params]
        if rows:
            await self._run("many", sql, rows)

    async def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        return cast(list[Row], await self._run("all", sql, params))

    async def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> Row | None:
        return cast(Row | None, await self._run("one", sql, params))

    async def fetch_value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = await self.fetch_one(sql, params)
        return next(iter(row.values())) if row else None

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and bool(self._conn.get_transaction_status())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MySQLAdapter]:
        # The server's in-transaction flag: false again once DDL committed implicitly.
        if self._depth == 0 and not self.connection.get_transaction_status():
            await self.execute("BEGIN")
            self._depth = 1
            try:
                yield self
            except BaseException:
                # ROLLBACK is a no-op once DDL committed implicitly, and a lost connection is
                # rolled back by the server: either way the block's own error is the news.
                with contextlib.suppress(DatabaseError):
                    await self.execute("ROLLBACK")
                raise
            else:
                await self.execute("COMMIT")  # sent even after an implicit commit: a no-op then
            finally:
                self._depth = 0
            return
        self._depth += 1
        savepoint = f"covet_sp_{self._depth}"
        await self.execute(f"SAVEPOINT {savepoint}")
        try:
            yield self
        except BaseException:
            # DDL inside the block may have committed (and so dropped) the savepoint, and a
            # deadlock rolls back the whole transaction: then the block's own error is the news.
            if self.connection.get_transaction_status():
                with contextlib.suppress(DatabaseError):
                    await self.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                    await self.execute(f"RELEASE SAVEPOINT {savepoint}")
            raise
        else:
            if self.connection.get_transaction_status():
                await self.execute(f"RELEASE SAVEPOINT {savepoint}")
        finally:
            self._depth -= 1

    def __repr__(self) -> str:
        if self._pool is not None or not self._owns_connection:
            source = "pool" if self._pool is not None else "connection"
            return f"MySQLAdapter({source}={(self._pool or self._conn)!r})"
        where = f"host={self.host!r}, port={self.port}, database={self.database!r}"
        return f"MySQLAdapter({where}, user={self.user!r})"  # never the password
