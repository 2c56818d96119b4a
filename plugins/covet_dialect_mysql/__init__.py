"""covet's MySQL / MariaDB dialect plugin (entry point ``mysql`` in group ``covet.plugins``).

Importing this module is cheap: aiomysql is imported only when an adapter is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from covet_core import hookimpl
from covet_core.dialect import Capabilities, Dialect, Statement
from covet_core.errors import ConfigError, ConnectionFailedError
from covet_core.sqlsplit import MYSQL_RULES, splitter
from covet_core.urls import split_url, url_seconds
from covet_dialect_mysql.provision import PROVISIONER

NAME = "mysql"
LOCK_NAME = "mysql_get_lock"
URL_OPTIONS = ("charset", "connect_timeout", "ssl")
_SSL_FLAGS = {"true": True, "1": True, "false": None, "0": None}


def quote(name: str) -> str:
    """Backtick-quoted identifier with embedded backticks doubled (works in every sql_mode).

    ANSI double quotes would only be identifiers under ``sql_mode=ANSI_QUOTES``.
    """
    if "\x00" in name:
        raise ValueError("identifier contains a NUL character")
    return "`" + name.replace("`", "``") + "`"


def parse_url(url: str) -> dict[str, Any]:
    """``MySQLAdapter`` keywords from ``mysql://user:password@host:port/database?options``.

    Pure (no driver import), so configuration can be checked without aiomysql. The scheme may
    be ``mariadb``; user and password are percent-decoded. Options: ``connect_timeout``
    (seconds), ``ssl`` (``true``: the default SSL context), ``charset``.
    """
    parts = split_url(url, "mysql://user@host:3306/database")
    if parts.scheme not in ("mysql", "mariadb"):
        raise ConfigError("MySQL URLs look like mysql://user:password@host:3306/database")
    port = parts.port or 3306
    database = unquote(parts.path.lstrip("/")) or None
    if database is not None and "/" in database:
        raise ConfigError("MySQL URL path must be one database name: mysql://host/database")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - set(URL_OPTIONS))
    if unknown:
        raise ConfigError(
            f"unknown MySQL URL option(s): {', '.join(unknown)}; known: {', '.join(URL_OPTIONS)}"
        )
    timeout = url_seconds(options.get("connect_timeout"), "connect_timeout", 10.0)
    ssl_flag = options.get("ssl", "false").lower()
    if ssl_flag not in _SSL_FLAGS:
        raise ConfigError("MySQL URL option ssl must be true or false")
    return {
        "host": parts.hostname or "localhost",
        "port": port,
        "database": database,
        "user": unquote(parts.username) if parts.username else "root",
        "password": unquote(parts.password) if parts.password is not None else None,
        "ssl": _SSL_FLAGS[ssl_flag],
        "connect_timeout": timeout,
        "charset": options.get("charset", "utf8mb4"),
    }


def error_parts(exc: BaseException) -> tuple[int | None, str]:
    """``(MySQL error number or None, one-line message)`` of a PyMySQL error.

    PyMySQL errors carry ``(errno, message)``; a few (InterfaceError) carry less.
    """
    args = exc.args
    if len(args) >= 2 and isinstance(args[0], int):
        return args[0] or None, " ".join(str(args[1]).split())
    return None, " ".join(str(exc).split())


# What a user does about each server answer to a login (``{user}``: never the password).
_DENIED = (
    "MySQL at {where} refused user {user!r} (access denied); check the user name and password "
    "in the database URL"
)
_LOGIN_ADVICE = {
    1045: _DENIED,
    1698: _DENIED,  # MariaDB's answer for a user without a password entry (e.g. unix_socket auth)
    1044: "MySQL user {user!r} may not use database {db!r} on {where}; GRANT it privileges there "
    "or connect to another database",
    1049: "MySQL database {db!r} does not exist on {where}; create it with CREATE DATABASE or fix "
    "the database name",
}


def connect_error(adapter: Any, exc: BaseException) -> ConnectionFailedError:
    """Why ``adapter`` could not connect and what to do, never with the password in it.

    Here, not in the adapter module, because it needs no driver: only ``exc.args``.
    """
    import ssl  # here: loading OpenSSL is not free, and importing the plugin must be

    code, message = error_parts(exc)
    if adapter._password:
        message = message.replace(adapter._password, "***")  # the only untrusted text
    where, cause = f"{adapter.host}:{adapter.port}", exc.__cause__ or exc
    if code in _LOGIN_ADVICE:
        text = _LOGIN_ADVICE[code].format(where=where, user=adapter.user, db=adapter.database)
    elif isinstance(exc, TimeoutError) or isinstance(cause, TimeoutError):  # ours, aiomysql's
        text = (
            f"timed out after {adapter.connect_timeout:g}s connecting to MySQL at {where}; "
            f"check the host, port and firewall, or raise connect_timeout"
        )
    elif isinstance(cause, ssl.SSLError):
        text = (
            f"SSL with MySQL at {where} failed ({cause.reason or cause}); check the server's "
            f"SSL setup and the ssl option"
        )
    elif code in (2003, 2006, 2013) or isinstance(exc, OSError):
        # asyncio words a refusal as "Connect call failed"; name it plainly.
        if isinstance(cause, ConnectionRefusedError):
            reason = "connection refused"
        elif isinstance(cause, OSError) and cause is not exc:
            reason = cause.strerror or str(cause)
        else:
            reason = message
        text = (
            f"cannot connect to MySQL at {where} ({reason}); check that the server is running "
            f"and that the host and port are right"
        )
    else:
        text = f"cannot connect to MySQL at {where}: {message} (MySQL error {code})"
    return ConnectionFailedError(text)


def _adapter(*args: Any, **kwargs: Any) -> Any:
    from covet_dialect_mysql.adapter import MySQLAdapter

    return MySQLAdapter(*args, **kwargs)


def _adapter_from_url(url: str, base_dir: Path | None) -> Any:
    from covet_dialect_mysql.adapter import MySQLAdapter

    return MySQLAdapter.from_url(url, base_dir)


def _primary_key(table: str) -> Statement:
    return Statement(
        "SELECT column_name AS name FROM information_schema.key_column_usage "
        "WHERE table_schema = DATABASE() AND table_name = %s AND constraint_name = 'PRIMARY' "
        "ORDER BY ordinal_position",
        (table,),
    )


def _row_estimate(table: str) -> Statement:
    # InnoDB's TABLE_ROWS is a sampled estimate (often 10-40% off); COUNT(*) reads the index.
    return Statement(
        "SELECT table_rows FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name = %s",
        (table,),
    )


def _table_exists(name: str) -> Statement:
    # DATABASE(): the adapter's current database, so the check never looks at another schema.
    return Statement(
        "SELECT 1 FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name = %s",
        (name,),
    )


def _schema_reader(adapter: Any) -> Any:
    from covet_dialect_mysql.schema_reader import MySQLSchemaReader

    return MySQLSchemaReader(adapter)


def _normalise(schema: Any) -> Any:
    from covet_dialect_mysql.normalise import normalise

    return normalise(schema)


def _bulk_writer(adapter: Any, table: str) -> Any:
    from covet_dialect_mysql.bulk import writer

    return writer(adapter, table)


def _replica_lag(adapter: Any, replicas: Sequence[str] = ()) -> Any:
    from covet_dialect_mysql.replicas import MySQLReplicaLag

    return MySQLReplicaLag(adapter, replicas, lambda url: _adapter_from_url(url, None))


def _renderer() -> Any:
    from covet_dialect_mysql.render import RENDERER

    return RENDERER


def _lock_timeout(adapter: Any, seconds: float) -> Any:
    from covet_dialect_mysql.timeouts import lock_timeout

    return lock_timeout(adapter, seconds)


def _table_stats(tables: Sequence[str]) -> Statement:
    # TABLE_ROWS is InnoDB's sampled estimate: good enough to tell 200 rows from 50 million.
    marks = ", ".join(["%s"] * len(tables))
    return Statement(
        "SELECT table_name, table_rows, data_length + index_length FROM information_schema.tables "
        f"WHERE table_schema = DATABASE() AND table_name IN ({marks})",
        tuple(tables),
    )


DIALECT = Dialect(
    name=NAME,
    url_schemes=("mysql", "mariadb"),
    capabilities=Capabilities(
        transactional_ddl=False,  # every DDL statement commits implicitly
        alter_column=True,
        drop_column=True,
        rename_column=True,  # RENAME COLUMN: MySQL >= 8.0, MariaDB >= 10.5.2
        savepoints=True,
        skip_locked=True,  # MySQL >= 8.0, MariaDB >= 10.6
        alter_constraint=True,
        enum_types=False,  # ENUM('a', 'b') is inline in each column, never a named type
        partial_indexes=False,  # no CREATE INDEX ... WHERE
        max_identifier_bytes=None,  # 64 characters: the server refuses longer names itself
    ),
    adapter_factory=_adapter,
    adapter_from_url=_adapter_from_url,
    quote=quote,
    placeholder=lambda n: "%s",
    table_exists_sql=_table_exists,
    primary_key_sql=_primary_key,
    row_estimate_sql=_row_estimate,
    replica_lag=_replica_lag,
    lock_timeout=_lock_timeout,
    # super_read_only (MySQL 8) sets read_only too; MariaDB has only read_only.
    read_only_sql=Statement(
        "SELECT CASE WHEN @@global.read_only THEN 'a read-only server (read_only is ON)' END"
    ),
    bulk_writer=_bulk_writer,
    renderer=_renderer,
    schema_reader=_schema_reader,
    schema_normaliser=_normalise,
    split_statements=splitter(MYSQL_RULES),
    default_lock=LOCK_NAME,
    default_backup="mysqldump",
    provisioner=PROVISIONER,
    lint_syntax="mysql",
    table_stats_sql=_table_stats,
    server_version_sql=Statement("SELECT VERSION()"),
    description="MySQL 8 / MariaDB 10.6+ through aiomysql",
)


def _get_lock(
    *, adapter: Any, options: Mapping[str, Any], dialect: Any = None, plugins: Any = None, **_: Any
) -> Any:
    from covet_dialect_mysql.galera import ClusterAwareLock

    return ClusterAwareLock(adapter, options, dialect=dialect, plugins=plugins)


@hookimpl
def covet_register_dialects(register: Callable[[Dialect], None]) -> None:
    register(DIALECT)


@hookimpl
def covet_register_lock_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register(LOCK_NAME, _get_lock)
