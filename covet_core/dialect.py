"""What a dialect plugin hands the core: a name, capabilities as data, and its workers.

The core asks ``dialect.capabilities.transactional_ddl``; it never compares dialect names.
Identifiers become SQL text only through ``dialect.quote``; values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from covet_core.adapter import Adapter


@dataclass(frozen=True)
class Capabilities:
    """What a database can do, as data the core branches on."""

    transactional_ddl: bool
    """DDL runs inside a transaction and rolls back with it (PostgreSQL, SQLite; not MySQL)."""
    native_lock: bool = False
    """The server offers a session lock (advisory lock, GET_LOCK) that dies with the session."""
    alter_column: bool = True
    drop_column: bool = True
    rename_column: bool = True
    savepoints: bool = True
    skip_locked: bool = False
    """``SELECT ... FOR UPDATE SKIP LOCKED`` is available."""
    alter_constraint: bool = True
    """Constraints can be added to and dropped from an existing table (not SQLite: it
    rebuilds the table, see ``RebuildTable``)."""
    enum_types: bool = False
    """Named enum types (``CREATE TYPE ... AS ENUM``, PostgreSQL)."""
    partial_indexes: bool = False
    """``CREATE INDEX ... WHERE`` (PostgreSQL, SQLite)."""


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


@dataclass(frozen=True)
class Dialect:
    """A database dialect, registered by a plugin through ``covet_register_dialects``.

    ``adapter_factory(**kwargs)`` and ``adapter_from_url(url, base_dir)`` import the driver
    lazily, so listing or configuring dialects never loads asyncpg or aiomysql.
    """

    name: str
    url_schemes: tuple[str, ...]
    capabilities: Capabilities
    adapter_factory: Callable[..., Adapter]
    adapter_from_url: Callable[[str, Path | None], Adapter]
    quote: Callable[[str], str]
    placeholder: Callable[[int], str]
    """``placeholder(n)`` is the n-th (1-based) bound parameter marker: ``?``, ``$1``, ``%s``."""
    table_exists_sql: Callable[[str], Statement]
    """A query returning at least one row when the named table exists, none otherwise."""
    default_lock: str = "table"
    default_backup: str | None = None
    split_statements: Callable[[str], list[str]] | None = None
    primary_key_sql: Callable[[str], Statement] | None = None
    """A query returning the table's primary-key columns in key order, column ``name``."""
    needs_no_transaction: Callable[[str], bool] | None = None
    """True for a statement the server refuses inside a transaction (``CREATE INDEX
    CONCURRENTLY``): a migration holding one runs outside a transaction unless it set
    ``atomic`` itself."""
    row_estimate_sql: Callable[[str], Statement] | None = None
    """A query returning the catalog's estimate of the table's row count (or NULL when the
    catalog has none): data migrations use it instead of a slow exact ``COUNT(*)``."""
    schema_reader: Callable[..., Any] | None = None
    """``schema_reader(adapter)`` returns an object with ``async read(schemas) -> Schema``
    that reads the live schema in a constant number of catalog queries."""
    schema_normaliser: Callable[..., Any] | None = None
    """``schema_normaliser(schema) -> Schema``: the canonical form of a schema on this
    dialect (types, defaults, actions the server cannot tell apart), applied by the
    comparator to both sides. Idempotent; its output renders and reads back unchanged."""
    bulk_writer: Callable[..., Any] | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def params(self, count: int, start: int = 1) -> list[str]:
        return [self.placeholder(i) for i in range(start, start + count)]

    def qualified(self, *parts: str) -> str:
        return ".".join(self.quote(p) for p in parts)
