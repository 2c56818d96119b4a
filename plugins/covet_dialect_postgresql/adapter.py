"""PostgreSQLAdapter over asyncpg.

Statements without parameters go through the simple query protocol, exactly as psql sends them
(several statements in one string work); with parameters, through the extended protocol with
``$1``-style placeholders. Transactions are asyncpg's, so nesting becomes savepoints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError
from covet_core.urls import split_url, url_seconds

Row = dict[str, Any]

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_URL_OPTIONS = {
    "connect_timeout",
    "sslmode",
    "lock_timeout",
    "statement_timeout",
    "application_name",
}


def _translate(exc: Exception) -> DatabaseError:
    import asyncpg

    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(str(exc), sqlstate=exc.sqlstate)
    sqlstate = getattr(exc, "sqlstate", None)
    return DatabaseError(" ".join(str(exc).split()) or type(exc).__name__, sqlstate=sqlstate)


def _timeout_setting(value: str | float | int | None) -> str | None:
    """``5`` (seconds), ``"5s"``, ``"500ms"``: PostgreSQL's own units pass through."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return f"{int(value * 1000)}ms"
    return str(value)


class PostgreSQLAdapter:
    """One asyncpg connection to a PostgreSQL database.

    Build it from keywords (``host``, ``port``, ``database``, ``user``, ``password``, ``ssl``,
    ``connect_timeout``), from a URL (``PostgreSQLAdapter.from_url``), or around what the caller
    already has: ``connection=`` (left open by ``disconnect``) or ``pool=`` (a connection is
    acquired on ``connect`` and released on ``disconnect``). ``lock_timeout`` and
    ``statement_timeout`` are set on the session so a migration stuck behind a long query fails
    instead of stalling production.
    """

    dialect_name = "postgresql"

    def __init__(
        self,
        host: str = "localhost",
        port: int = 5432,
        database: str | None = None,
        user: str | None = None,
        password: str | None = None,
        *,
        ssl: Any = None,
        connect_timeout: float = 10.0,
        lock_timeout: str | float | None = None,
        statement_timeout: str | float | None = None,
        server_settings: Mapping[str, str] | None = None,
        connection: Any = None,
        pool: Any = None,
    ) -> None:
        if connection is not None and pool is not None:
            raise ConfigError("pass either connection= or pool=, not both")
        self.host = host
        self.port = int(port)
        self.database = database
        self.user = user
        self._password = password
        self.ssl = ssl
        self.connect_timeout = url_seconds(str(connect_timeout), "connect_timeout", 10.0)
        settings = dict(server_settings or {})
        for name, value in (
            ("lock_timeout", lock_timeout),
            ("statement_timeout", statement_timeout),
        ):
            if (setting := _timeout_setting(value)) is not None:
                settings[name] = setting
        self.server_settings = settings
        self._conn = connection
        self._pool = pool
        self._mode = "wrapped" if connection is not None else "pool" if pool is not None else "own"

    @classmethod
    def from_url(cls, url: str, base_dir: Path | None = None) -> PostgreSQLAdapter:
        """``postgresql://user:password@host:5432/db?sslmode=require&lock_timeout=5s``."""
        parts = split_url(url, "postgresql://user@host:5432/database")
        if parts.scheme not in ("postgresql", "postgres"):
            raise ConfigError("PostgreSQL URLs look like postgresql://user@host:5432/database")
        port = parts.port or 5432
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - _URL_OPTIONS
        if unknown:
            raise ConfigError(
                f"unknown PostgreSQL URL option(s): {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(_URL_OPTIONS))}"
            )
        timeout = url_seconds(options.get("connect_timeout"), "connect_timeout", 10.0)
        sslmode = options.get("sslmode")
        if sslmode is not None and sslmode not in SSLMODES:
            raise ConfigError(
                f"URL option sslmode must be one of {', '.join(SSLMODES)}, not {sslmode!r}"
            )
        settings = (
            {"application_name": options["application_name"]}
            if "application_name" in options
            else {}
        )
        return cls(
            host=unquote(parts.hostname or "localhost"),
            port=port,
            database=unquote(parts.path.lstrip("/")) or None,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=sslmode,
            connect_timeout=timeout,
            lock_timeout=options.get("lock_timeout"),
            statement_timeout=options.get("statement_timeout"),
            server_settings=settings,
        )

    # -- connection ----------------------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.host}:{self.port}" + (f"/{self.database}" if self.database else "")

    async def connect(self) -> None:
        if self._conn is not None:
            return
        if self._mode == "pool":
            # A pool with every connection in use would make acquire() wait forever (a lock
            # session or a data step's second connection asked of a pool of one).
            try:
                self._conn = await self._pool.acquire(timeout=self.connect_timeout)
            except TimeoutError:
                raise ConnectionFailedError(
                    f"no free connection in the pool after {self.connect_timeout:g}s; "
                    "give the pool one more connection than the application uses"
                ) from None
            return
        import asyncpg

        try:
            self._conn = await asyncpg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self._password,
                database=self.database,
                ssl=self.ssl,
                timeout=self.connect_timeout,
                server_settings=self.server_settings or None,
            )
        except asyncpg.InvalidPasswordError:
            raise ConnectionFailedError(
                f"PostgreSQL at {self._where()} rejected the password for user {self.user!r}; "
                f"check the password in COVET_DATABASE_URL or your configuration"
            ) from None
        except asyncpg.InvalidCatalogNameError:
            raise ConnectionFailedError(
                f"database {self.database!r} does not exist on PostgreSQL at "
                f"{self.host}:{self.port}; create it or fix the database name"
            ) from None
        except asyncpg.InvalidAuthorizationSpecificationError as exc:
            raise ConnectionFailedError(
                f"PostgreSQL at {self._where()} refused user {self.user!r}: {exc}"
            ) from None
        except TimeoutError:
            raise ConnectionFailedError(
                f"timed out after {self.connect_timeout:g}s connecting to PostgreSQL at "
                f"{self._where()}; is the server reachable?"
            ) from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConnectionFailedError(
                f"cannot connect to PostgreSQL at {self.host}:{self.port} ({reason}); "
                f"is the server running and the host/port right?"
            ) from None
        except asyncpg.PostgresError as exc:
            raise ConnectionFailedError(f"PostgreSQL at {self._where()} refused: {exc}") from None
        await self._watch_client()

    async def _watch_client(self) -> None:
        # If covet dies mid-statement, PostgreSQL would keep running that statement (and hold
        # its locks) until it next writes to the client. From 14 on it can poll the socket
        # instead, so a killed migration rolls back within a second and the retry is not stuck.
        version = self._conn.get_server_version()
        if version.major >= 14 and "client_connection_check_interval" not in self.server_settings:
            await self.execute("SET client_connection_check_interval = 1000")

    async def disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._mode == "own":
            if not conn.is_closed():
                await conn.close()
        elif self._mode == "pool":
            await self._pool.release(conn)
        else:
            self._conn = conn  # the caller's connection stays theirs and open

    def connection_parameters(self) -> dict[str, Any] | None:
        """Host, port, user, password, database and ssl for client tools (pg_dump), or
        ``None`` for a wrapped connection or pool whose parameters covet does not know."""
        if self._mode != "own":
            return None
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self._password,
            "database": self.database,
            "ssl": self.ssl,
        }

    async def open_sibling(self, application_name: str | None = None) -> PostgreSQLAdapter | None:
        """A second, unconnected adapter to the same database (the lock's dedicated session).

        ``None`` when this adapter wraps a bare connection whose parameters it does not know.
        """
        if self._mode == "wrapped":
            return None
        if self._mode == "pool":
            return PostgreSQLAdapter(pool=self._pool)
        settings = dict(self.server_settings)
        if application_name:
            settings["application_name"] = application_name[:63]
        # Timeouts meant for migration statements must not cut the lock session's polling.
        settings.pop("statement_timeout", None)
        return PostgreSQLAdapter(
            self.host, self.port, self.database, self.user, self._password, ssl=self.ssl,
            connect_timeout=self.connect_timeout, server_settings=settings,
        )  # fmt: skip

    @property
    def connection(self) -> Any:
        if self._conn is None:
            raise ConnectionFailedError(
                "PostgreSQL adapter is not connected; await adapter.connect()"
            )
        return self._conn

    # -- statements ----------------------------------------------------------------------------

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        try:
            status = await self.connection.execute(sql, *(params or ()))
        except Exception as exc:
            raise _translate(exc) from exc
        last = str(status).rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else -1

    async def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]]) -> None:
        try:
            await self.connection.executemany(sql, [tuple(p) for p in seq_of_params])
        except Exception as exc:
            raise _translate(exc) from exc

    async def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
        try:
            records = await self.connection.fetch(sql, *(params or ()))
        except Exception as exc:
            raise _translate(exc) from exc
        return [dict(r) for r in records]

    async def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> Row | None:
        try:
            record = await self.connection.fetchrow(sql, *(params or ()))
        except Exception as exc:
            raise _translate(exc) from exc
        return None if record is None else dict(record)

    async def fetch_value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        try:
            return await self.connection.fetchval(sql, *(params or ()))
        except Exception as exc:
            raise _translate(exc) from exc

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and bool(self._conn.is_in_transaction())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgreSQLAdapter]:
        try:
            tx = self.connection.transaction()
            await tx.start()
        except Exception as exc:
            raise _translate(exc) from exc
        try:
            yield self
        except BaseException:
            await tx.rollback()
            raise
        else:
            try:
                await tx.commit()
            except Exception as exc:
                raise _translate(exc) from exc

    def __repr__(self) -> str:
        return f"PostgreSQLAdapter({self.user or ''}@{self._where()})"
