"""PostgreSQLAdapter over asyncpg.

Statements without parameters go through the simple query protocol, exactly as psql sends them
(several statements in one string work); with parameters, through the extended protocol with
``$1``-style placeholders. Transactions are asyncpg's, so nesting becomes savepoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from covet_core.driver import DriverAdapter
from covet_core.errors import ConfigError, ConnectionFailedError, DatabaseError, IntegrityError
from covet_core.urls import split_url, url_options, url_seconds

Row = dict[str, Any]

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
POOLERS = ("none", "session", "transaction")
_URL_OPTIONS = {
    "pooler",
    "connect_timeout",
    "sslmode",
    "lock_timeout",
    "statement_timeout",
    "application_name",
}


def _timeout_setting(value: str | float | int | None) -> str | None:
    """``5`` (seconds), ``"5s"``, ``"500ms"``: PostgreSQL's own units pass through."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return f"{int(value * 1000)}ms"
    return str(value)


class PostgreSQLAdapter(DriverAdapter):
    """One asyncpg connection to a PostgreSQL database.

    Build it from keywords (``host``, ``port``, ``database``, ``user``, ``password``, ``ssl``,
    ``connect_timeout``), from a URL (``PostgreSQLAdapter.from_url``), or around what the caller
    already has: ``connection=`` (left open by ``disconnect``) or ``pool=`` (a connection is
    acquired on ``connect`` and released on ``disconnect``). ``lock_timeout`` and
    ``statement_timeout`` are set on the session so a migration stuck behind a long query fails
    instead of stalling production.
    """

    dialect_name = "postgresql"
    # asyncpg's errors: server errors, client-side ones (bad argument types) and a lost link.
    driver_errors = (Exception,)

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
        pooler: str = "none",
        connection: Any = None,
        pool: Any = None,
    ) -> None:
        if pooler not in POOLERS:
            raise ConfigError(f"pooler must be one of {', '.join(POOLERS)}, not {pooler!r}")
        self.pooler = pooler
        """``transaction`` / ``session``: the server is reached through a pooler such as
        PgBouncer (see docs/topologies.md)."""
        super().__init__(
            connection=connection,
            pool=pool,
            connect_timeout=url_seconds(str(connect_timeout), "connect_timeout", 10.0),
        )
        self._set_server(host, port, database, user, password, ssl)
        settings = dict(server_settings or {})
        for name, value in (
            ("lock_timeout", lock_timeout),
            ("statement_timeout", statement_timeout),
        ):
            if (setting := _timeout_setting(value)) is not None:
                settings[name] = setting
        self.server_settings = settings
        self._session_settings: dict[str, str] = {}

    @classmethod
    def from_url(cls, url: str, base_dir: Path | None = None) -> PostgreSQLAdapter:
        """``postgresql://user:password@host:5432/db?sslmode=require&lock_timeout=5s``."""
        parts = split_url(url, "postgresql://user@host:5432/database")
        if parts.scheme not in ("postgresql", "postgres"):
            raise ConfigError("PostgreSQL URLs look like postgresql://user@host:5432/database")
        options = url_options(parts.query, _URL_OPTIONS, "PostgreSQL")
        sslmode = options.get("sslmode")
        if sslmode is not None and sslmode not in SSLMODES:
            raise ConfigError(
                f"URL option sslmode must be one of {', '.join(SSLMODES)}, not {sslmode!r}"
            )
        settings = {k: options[k] for k in ("application_name",) if k in options}
        return cls(
            host=unquote(parts.hostname or "localhost"),
            port=parts.port or 5432,
            database=unquote(parts.path.lstrip("/")) or None,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            ssl=sslmode,
            connect_timeout=url_seconds(options.get("connect_timeout"), "connect_timeout", 10.0),
            lock_timeout=options.get("lock_timeout"),
            statement_timeout=options.get("statement_timeout"),
            server_settings=settings,
            pooler=options.get("pooler", "none"),
        )

    def translate(self, exc: BaseException) -> DatabaseError:
        import asyncpg

        if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
            return IntegrityError(str(exc), sqlstate=exc.sqlstate)
        if isinstance(exc, asyncpg.DuplicatePreparedStatementError) and self.pooler == "none":
            # Named statements of another process's session, met on a pooled server
            # connection: only a transaction pooler hands one session's statements to another.
            return DatabaseError(
                "the server connection is shared through a transaction pooler (PgBouncer?): "
                "add ?pooler=transaction to the database URL",
                sqlstate=exc.sqlstate,
            )
        sqlstate = getattr(exc, "sqlstate", None)
        return DatabaseError(" ".join(str(exc).split()) or type(exc).__name__, sqlstate=sqlstate)

    # -- connection ----------------------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.host}:{self.port}" + (f"/{self.database}" if self.database else "")

    async def _acquire(self) -> Any:
        try:
            return await self._pool.acquire(timeout=self.connect_timeout)
        except TimeoutError:
            raise ConnectionFailedError(
                f"no free connection in the pool after {self.connect_timeout:g}s; "
                "give the pool one more connection than the application uses"
            ) from None

    async def _open(self) -> Any:
        import asyncpg

        # A pooler refuses most parameters in the startup packet: they are sent with SET
        # (session pooling) or SET LOCAL in each transaction (transaction pooling) instead.
        startup, self._session_settings = self.server_settings, {}
        if self.pooler != "none":
            keep = {"application_name"}
            startup = {k: v for k, v in self.server_settings.items() if k in keep}
            self._session_settings = {
                k: v for k, v in self.server_settings.items() if k not in keep
            }
        try:
            conn = await asyncpg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self._password,
                database=self.database,
                ssl=self.ssl,
                timeout=self.connect_timeout,
                server_settings=startup or None,
                # Named prepared statements live on a server connection that a transaction
                # pooler hands to other clients; asyncpg's cache would clash with theirs.
                statement_cache_size=0 if self.pooler == "transaction" else 100,
                # The schema reader's carried-objects query is ~31 KB, past asyncpg's 15 KB
                # default: it was prepared afresh on every read, a round trip that also kept
                # it off the wire while the reader mapped the rows before it.
                max_cacheable_statement_size=64 * 1024,
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
            hint = ""
            if "unsupported startup parameter" in str(exc):
                hint = "; behind a pooler (PgBouncer), add ?pooler=transaction or ?pooler=session"
            raise ConnectionFailedError(
                f"PostgreSQL at {self._where()} refused: {exc}{hint}"
            ) from None
        if self.pooler == "session":
            for name, value in self._session_settings.items():
                await conn.execute("SELECT set_config($1, $2, false)", name, value)
        if self.pooler != "none":
            return conn  # a session setting would outlive us on a pooled server connection
        # If covet dies mid-statement, PostgreSQL would keep running that statement (and hold
        # its locks) until it next writes to the client. From 14 on it can poll the socket
        # instead, so a killed migration rolls back within a second and the retry is not stuck.
        if (
            conn.get_server_version().major >= 14
            and "client_connection_check_interval" not in self.server_settings
        ):
            await conn.execute("SET client_connection_check_interval = 1000")
        return conn

    async def _close(self, conn: Any) -> None:
        if not conn.is_closed():
            await conn.close()

    async def _discard(self, conn: Any) -> None:
        conn.terminate()

    def _sibling(self, application_name: str | None) -> PostgreSQLAdapter | None:
        if self.pooler != "none":
            # One server connection per process: in session pooling a second one per
            # process let six concurrent runs exhaust the pool and wait on each other.
            return None
        settings = dict(self.server_settings)
        if application_name:
            settings["application_name"] = application_name[:63]
        # Timeouts meant for migration statements must not cut the lock session's polling.
        settings.pop("statement_timeout", None)
        return PostgreSQLAdapter(
            self.host, self.port, self.database, self.user, self._password, ssl=self.ssl,
            connect_timeout=self.connect_timeout, server_settings=settings,
        )  # fmt: skip

    # -- statements ----------------------------------------------------------------------------

    async def _execute(self, sql: str, params: Sequence[Any] | None) -> int:
        status = await self.connection.execute(sql, *(params or ()))
        last = str(status).rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else -1

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.connection.executemany(sql, rows)

    async def _fetch_all(self, sql: str, params: Sequence[Any] | None) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.connection.fetch(sql, *(params or ()))]

    async def fetch_rows(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> Sequence[Mapping[str, Any]]:
        # asyncpg's records are read by name as they are: no dict per row.
        rows: list[Any] = await self._guard(self.connection.fetch(sql, *(params or ())))
        return rows

    async def _fetch_one(self, sql: str, params: Sequence[Any] | None) -> dict[str, Any] | None:
        record = await self.connection.fetchrow(sql, *(params or ()))
        return None if record is None else dict(record)

    async def fetch_value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return await self._guard(self.connection.fetchval(sql, *(params or ())))

    # -- transactions --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn is not None and bool(self._conn.is_in_transaction())

    async def _begin(self) -> None:
        await self.execute("BEGIN")
        if self.pooler == "transaction":
            # The one place a setting holds through a transaction pooler: this transaction.
            for name, value in self._session_settings.items():
                await self.execute("SELECT set_config($1, $2, true)", (name, value))

    async def _end(self, command: str) -> None:
        status = await self._guard(self.connection.execute(command))
        if command == "COMMIT" and status == "ROLLBACK":
            # PostgreSQL answers COMMIT of a transaction that an error aborted (and the block
            # caught) with ROLLBACK and no error: nothing of it was kept, and that is news.
            raise DatabaseError(
                "the transaction was rolled back, not committed: a statement in it failed "
                "and the error was caught inside the transaction block",
                sqlstate="25P02",
            )

    def __repr__(self) -> str:
        return f"PostgreSQLAdapter({self.user or ''}@{self._where()})"
