"""What a dialect plugin hands the core: a name, capabilities as data, and its workers.

The core asks ``dialect.capabilities.transactional_ddl``; it never compares dialect names.
Identifiers become SQL text only through ``dialect.quote``; values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from covet_core.adapter import Adapter
    from covet_core.data.bulk import BulkWriter
    from covet_core.data.throttle import ReplicaLag
    from covet_core.schema.model import CarriedObject, Schema
    from covet_core.schema.operations import Operation
    from covet_core.schema.reader import DialectSchemaReader


@dataclass(frozen=True)
class Capabilities:
    """What a database can do, as data the core branches on. Every flag is read by the core
    (``tests/test_contract.py`` fails when one is read or tested by nothing)."""

    transactional_ddl: bool
    """DDL runs inside a transaction and rolls back with it (PostgreSQL, SQLite; not MySQL):
    a migration runs in one transaction; otherwise statement by statement, recorded
    ``partial`` as it goes."""
    alter_column: bool = True
    """``ALTER TABLE ... ALTER/MODIFY COLUMN`` exists; without it the comparator rebuilds."""
    drop_column: bool = True
    """``ALTER TABLE ... DROP COLUMN`` exists; without it the comparator rebuilds."""
    rename_column: bool = True
    """``ALTER TABLE ... RENAME COLUMN`` exists; without it a rename rebuilds the table."""
    savepoints: bool = True
    """Nested ``adapter.transaction()`` blocks are savepoints. Without them a data batch
    inside a caller's transaction cannot be retried alone, so ``DataMigration`` refuses to
    run inside one."""
    skip_locked: bool = False
    """``SELECT ... FOR UPDATE SKIP LOCKED`` is available."""
    alter_constraint: bool = True
    """Constraints can be added to and dropped from an existing table (not SQLite: it
    rebuilds the table, see ``RebuildTable``)."""
    add_column_any_default: bool = True
    """``ADD COLUMN`` takes any default, NOT NULL with a default, and auto-increment
    columns. SQLite's takes constant defaults only: other additions rebuild the table."""
    add_column_not_null: bool = True
    """``ADD COLUMN ... NOT NULL`` works on any table. DuckDB refuses it on a table that has
    an index: without the flag, adding a NOT NULL column rebuilds the table."""
    enum_types: bool = False
    """Named enum types (``CREATE TYPE ... AS ENUM``, PostgreSQL)."""
    partial_indexes: bool = False
    """``CREATE INDEX ... WHERE``; without it a partial index in the models is an error
    naming the index, not an index quietly made total."""
    max_identifier_bytes: int | None = None
    """Longest identifier the server keeps, in UTF-8 bytes (PostgreSQL: 63, which it would
    silently truncate to); ``None``: no limit covet needs to know. Names covet generates
    (``ix_table_column``) are shortened with a stable hash to fit."""


@dataclass(frozen=True)
class Statement:
    """One SQL statement with its bound parameters, in the dialect's parameter style."""

    text: str
    params: tuple[Any, ...] = ()


def quote_ansi(name: str) -> str:
    """ANSI double-quoted identifier with embedded quotes doubled (PostgreSQL, SQLite)."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL character")
    return '"' + name.replace('"', '""') + '"'


class Renderer(Protocol):
    """Renders schema operations as SQL: ``covet_core.schema.render.DdlRenderer`` and its
    subclasses (a PostgreSQL-compatible dialect subclasses ``PostgreSQLRenderer``)."""

    def render(self, operation: Operation) -> list[str] | None:
        """The statements for ``operation``; ``None`` when this renderer does not know it."""
        ...


class Provisioner(Protocol):
    """Creates and drops scratch databases, for the conformance suite and users' tests."""

    async def create(self, base_url: str, name: str, workdir: Path) -> str:
        """A new, empty database called ``name`` next to the one ``base_url`` names (same
        server and credentials; for file databases, a file in ``workdir``); its URL."""
        ...

    async def drop(self, base_url: str, url: str) -> None:
        """Drop the database ``create`` returned, with everything in it."""
        ...


@dataclass(frozen=True)
class Dialect:
    """A database dialect, registered by a plugin through ``covet_register_dialects``.

    Every worker is a callable the core calls when it needs it, so a plugin's import stays
    cheap: ``adapter_factory(**kwargs)`` and ``adapter_from_url(url, base_dir)`` import the
    driver, ``renderer()`` the DDL renderer, only when used. The optional ones (``None``)
    switch features off with a clear error; docs/writing-a-dialect.md lists what each needs.
    """

    name: str
    url_schemes: tuple[str, ...]
    capabilities: Capabilities
    adapter_factory: Callable[..., Adapter]
    adapter_from_url: Callable[[str, Path | None], Adapter]
    quote: Callable[[str], str]
    """The identifier quoting function: the one place identifiers become SQL text. Raises
    ``ValueError`` for a name the server cannot hold exactly."""
    placeholder: Callable[[int], str]
    """``placeholder(n)`` is the n-th (1-based) bound parameter marker: ``?``, ``$1``, ``%s``."""
    table_exists_sql: Callable[[str], Statement]
    """A query returning at least one row when the named table exists, none otherwise."""
    default_lock: str = "table"
    default_backup: str | None = None
    renderer: Callable[[], Renderer] | None = None
    """Returns the DDL renderer (called once, on first use). ``covet_render_operation``
    hooks run first and may override any operation; ``None``: schema diffs unavailable."""
    split_statements: Callable[[str], list[str]] | None = None
    """Splits a ``.sql`` file's text into statements (``covet_core.sqlsplit.splitter``)."""
    primary_key_sql: Callable[[str], Statement] | None = None
    """A query returning the table's primary-key columns in key order, column ``name``."""
    needs_no_transaction: Callable[[str], bool] | None = None
    """True for a statement the server refuses inside a transaction (``CREATE INDEX
    CONCURRENTLY``): a migration holding one runs outside a transaction unless it set
    ``atomic`` itself."""
    row_estimate_sql: Callable[[str], Statement] | None = None
    """A query returning the catalog's estimate of the table's row count (or NULL when the
    catalog has none): data migrations use it instead of a slow exact ``COUNT(*)``."""
    schema_reader: Callable[[Adapter], DialectSchemaReader] | None = None
    """``schema_reader(adapter)`` returns an object with ``async read(schemas) -> Schema``
    that reads the live schema in a constant number of catalog queries."""
    schema_normaliser: Callable[[Schema], Schema] | None = None
    """``schema_normaliser(schema) -> Schema``: the canonical form of a schema on this
    dialect (types, defaults, actions the server cannot tell apart), applied by the
    comparator to both sides. Idempotent; its output renders and reads back unchanged."""
    bulk_writer: Callable[[Adapter, str], BulkWriter] | None = None
    """``bulk_writer(adapter, table)`` for ``BulkDataMigration`` (``covet_core.data.bulk``);
    ``None``: batches are written with ``executemany``."""
    lock_timeout: Callable[[Adapter, float], AbstractAsyncContextManager[None]] | None = None
    """``async with lock_timeout(adapter, seconds):`` the migration's statements give up after
    waiting ``seconds`` for a lock (raising ``DatabaseError`` with sqlstate
    ``errors.LOCK_TIMEOUT``) instead of queueing behind a long transaction while every query
    on the table queues behind them. Inside a transaction it lasts for that transaction; outside,
    the session's previous value is restored on exit. ``None``: covet cannot bound lock waits."""
    held_locks_sql: Statement | None = None
    """A query listing the table locks this session holds, columns ``mode`` and
    ``relation``: a verified dry run (``up --dry-run --verify``) reports what each migration
    locked. ``None``: not reported."""
    read_only_sql: Statement | None = None
    """A query returning NULL when the server accepts writes, or a short reason when it does
    not (``"a hot standby (pg_is_in_recovery() is true)"``): every command that writes checks
    it first and stops, so a deploy aimed at a replica fails even with nothing pending."""
    replica_lag: Callable[[Adapter, Sequence[str]], ReplicaLag] | None = None
    """``replica_lag(adapter, replicas)``: the primary's write position and each replica's
    applied one (``covet_core.data.throttle.ReplicaLag``), for data migrations'
    ``max_replica_lag``; ``replicas`` are the URLs of ``replicas = [...]`` in covet.toml, to
    watch where the primary cannot see them itself. The source may have an async ``close()``."""
    alter_carried: Callable[[CarriedObject, CarriedObject], list[str] | None] | None = None
    """``alter_carried(old, new)``: the statements that make an existing carried object
    created before the tables (``old``: a sequence, a domain) into ``new`` in place, or
    ``None`` when they cannot (a domain's base type changed). Such an object cannot be
    dropped and made again without what uses it, so without this a changed one is only a
    warning."""
    lint_syntax: str | None = None
    """The SQL parser ``covet migrate lint`` reads this dialect's statements with:
    ``"postgres"`` (pglast, the server's own parser), ``"mysql"`` or ``"sqlite"`` (sqlglot).
    ``None`` or another value: migrations are not linted, and the lint output says so."""
    table_stats_sql: Callable[[Sequence[str]], Statement] | None = None
    """``table_stats_sql(names)``: one query returning, for each of those tables that exists,
    its name, the catalog's row estimate (or NULL) and its size in bytes (or NULL), in that
    column order. The linter makes it once per run, for every table its findings name."""
    server_version_sql: Statement | None = None
    """A query returning the server's version string (the linter knows what is instant
    from which version)."""
    provisioner: Provisioner | None = None
    """Creates and drops scratch databases (the conformance suite, users' migration tests)."""
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def params(self, count: int, start: int = 1) -> list[str]:
        return [self.placeholder(i) for i in range(start, start + count)]

    def qualified(self, *parts: str) -> str:
        return ".".join(self.quote(p) for p in parts)

    @cached_property
    def ddl_renderer(self) -> Renderer | None:
        """The renderer ``renderer()`` returns, made once."""
        return self.renderer() if self.renderer is not None else None
