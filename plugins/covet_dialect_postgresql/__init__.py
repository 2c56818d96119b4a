"""covet's PostgreSQL dialect plugin (entry point ``postgresql`` in group ``covet.plugins``).

Importing this module is cheap: asyncpg is imported only when an adapter connects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from covet_core import hookimpl
from covet_core.dialect import Capabilities, Dialect, Statement, quote_ansi
from covet_core.errors import ConfigError
from covet_core.sqlsplit import POSTGRESQL_RULES, splitter
from covet_dialect_postgresql.provision import PROVISIONER

NAME = "postgresql"
MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1


def quote(name: str) -> str:
    """A double-quoted identifier; refuses a name the server would silently cut short.

    PostgreSQL truncates identifiers past 63 bytes with only a NOTICE, so a longer name in a
    model would create an object under another name than the one asked for.
    """
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_IDENTIFIER_BYTES:
        raise ValueError(
            f"identifier {name[:20]!r}... is {size} bytes; PostgreSQL keeps only the first "
            f"{MAX_IDENTIFIER_BYTES}, so shorten it"
        )
    return quote_ansi(name)


def _adapter(*args: Any, **kwargs: Any) -> Any:
    from covet_dialect_postgresql.adapter import PostgreSQLAdapter

    return PostgreSQLAdapter(*args, **kwargs)


def _adapter_from_url(url: str, base_dir: Path | None) -> Any:
    from covet_dialect_postgresql.adapter import PostgreSQLAdapter

    return PostgreSQLAdapter.from_url(url, base_dir)


_NO_TRANSACTION = re.compile(
    r"(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY"
    r"|REINDEX\b[^;]*\bCONCURRENTLY|VACUUM\b|CREATE\s+DATABASE|DROP\s+DATABASE"
    r"|ALTER\s+SYSTEM|CREATE\s+TABLESPACE|DROP\s+TABLESPACE|ALTER\s+DATABASE\b[^;]*\bSET\s+TABLESPACE)\b",
    re.IGNORECASE,
)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*\n?|/\*.*?\*/)*", re.DOTALL)


def needs_no_transaction(statement: str) -> bool:
    """Statements PostgreSQL refuses with "cannot run inside a transaction block"."""
    body = _LEADING_COMMENTS.sub("", statement, count=1)
    return _NO_TRANSACTION.match(body) is not None


def _primary_key(table: str) -> Statement:
    return Statement(
        "SELECT a.attname AS name FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = to_regclass(quote_ident($1)) AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (table,),
    )


def _row_estimate(table: str) -> Statement:
    # reltuples is -1 until the table was first vacuumed or analysed: no estimate then.
    return Statement(
        "SELECT CASE WHEN reltuples < 0 THEN NULL ELSE reltuples::bigint END FROM pg_class "
        "WHERE oid = to_regclass(quote_ident($1))",
        (table,),
    )


def _table_exists(name: str) -> Statement:
    return Statement(
        "SELECT 1 FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name = $1",
        (name,),
    )


def _schema_reader(adapter: Any) -> Any:
    from covet_dialect_postgresql.schema_reader import PostgreSQLSchemaReader

    return PostgreSQLSchemaReader(adapter)


def _schema_normaliser(schema: Any) -> Any:
    from covet_dialect_postgresql.normalise import normalise

    return normalise(schema)


def _bulk_writer(adapter: Any, table: str) -> Any:
    from covet_dialect_postgresql.bulk import writer

    return writer(adapter, table)


def _renderer() -> Any:
    from covet_dialect_postgresql.render import RENDERER

    return RENDERER


def _replica_lag(adapter: Any, replicas: Sequence[str] = ()) -> Any:
    from covet_dialect_postgresql.replicas import PgReplicaLag

    return PgReplicaLag(adapter, replicas, lambda url: _adapter_from_url(url, None))


def _lock_timeout(adapter: Any, seconds: float) -> Any:
    from covet_dialect_postgresql.timeouts import lock_timeout

    return lock_timeout(adapter, seconds)


def _table_stats(tables: Sequence[str]) -> Statement:
    # reltuples is -1 until the table was first vacuumed or analysed: no row estimate then,
    # but its size still is one.
    return Statement(
        "SELECT c.relname, CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END, "
        "pg_total_relation_size(c.oid) FROM pg_class c "
        "WHERE c.relnamespace = to_regnamespace(current_schema()) AND c.relkind IN ('r', 'p') "
        "AND c.relname = ANY($1::text[])",
        (list(tables),),
    )


def _alter_carried(old: Any, new: Any) -> list[str] | None:
    from covet_dialect_postgresql.alter import alter_carried

    return alter_carried(old, new)


DIALECT = Dialect(
    name=NAME,
    url_schemes=("postgresql", "postgres"),
    capabilities=Capabilities(
        transactional_ddl=True,
        alter_column=True,
        drop_column=True,
        rename_column=True,
        savepoints=True,
        skip_locked=True,
        alter_constraint=True,
        enum_types=True,
        partial_indexes=True,
        max_identifier_bytes=MAX_IDENTIFIER_BYTES,
    ),
    adapter_factory=_adapter,
    adapter_from_url=_adapter_from_url,
    quote=quote,
    placeholder=lambda n: f"${n}",
    table_exists_sql=_table_exists,
    primary_key_sql=_primary_key,
    row_estimate_sql=_row_estimate,
    replica_lag=_replica_lag,
    lock_timeout=_lock_timeout,
    held_locks_sql=Statement(
        "SELECT l.mode, c.relname AS relation FROM pg_locks l "
        "JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted "
        "AND c.relnamespace <> 'pg_catalog'::regnamespace"
    ),
    read_only_sql=Statement(
        "SELECT CASE WHEN pg_is_in_recovery() THEN 'a hot standby (pg_is_in_recovery() is true)'"
        " WHEN current_setting('transaction_read_only') = 'on'"
        " THEN 'read-only (default_transaction_read_only is on)' END"
    ),
    bulk_writer=_bulk_writer,
    renderer=_renderer,
    schema_reader=_schema_reader,
    schema_normaliser=_schema_normaliser,
    split_statements=splitter(POSTGRESQL_RULES),
    needs_no_transaction=needs_no_transaction,
    default_lock="pg_advisory",
    default_backup="pg_dump",
    provisioner=PROVISIONER,
    lint_syntax="postgres",
    alter_carried=_alter_carried,
    table_stats_sql=_table_stats,
    server_version_sql=Statement("SELECT current_setting('server_version')"),
    description="PostgreSQL through asyncpg",
)


def _advisory_lock(*, adapter: Any, options: Mapping[str, Any], **_: Any) -> Any:
    from covet_dialect_postgresql.lock import PgAdvisoryLock

    if getattr(adapter, "pooler", "none") == "transaction":
        # Each statement may run on another server session, and a dead client's lock stays
        # on a pooled one: 5 of 6 concurrent runs migrated at once through PgBouncer.
        raise ConfigError(
            'lock "pg_advisory" does not hold through a transaction pooler; use lock = "table"'
        )
    return PgAdvisoryLock(adapter, options)


@hookimpl
def covet_register_dialects(register: Callable[[Dialect], None]) -> None:
    register(DIALECT)


@hookimpl
def covet_register_lock_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("pg_advisory", _advisory_lock)
