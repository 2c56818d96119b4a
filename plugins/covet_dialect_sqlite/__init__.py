"""covet's SQLite dialect plugin (entry point ``sqlite`` in group ``covet.plugins``).

Importing this module is cheap: aiosqlite is imported only when an adapter connects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from covet_core import hookimpl
from covet_core.dialect import Capabilities, Dialect, Statement, quote_ansi
from covet_core.sqlsplit import SQLITE_RULES, splitter
from covet_dialect_sqlite.provision import PROVISIONER

NAME = "sqlite"


def _adapter(*args: Any, **kwargs: Any) -> Any:
    from covet_dialect_sqlite.adapter import SQLiteAdapter

    return SQLiteAdapter(*args, **kwargs)


def _adapter_from_url(url: str, base_dir: Path | None) -> Any:
    from covet_dialect_sqlite.adapter import SQLiteAdapter

    return SQLiteAdapter.from_url(url, base_dir)


def _schema_reader(adapter: Any) -> Any:
    from covet_dialect_sqlite.schema_reader import SQLiteSchemaReader

    return SQLiteSchemaReader(adapter)


def _normalise(schema: Any) -> Any:
    from covet_dialect_sqlite.normalise import normalise

    return normalise(schema)


def _primary_key(table: str) -> Statement:
    return Statement("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,))


def _table_exists(name: str) -> Statement:
    return Statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))


def _renderer() -> Any:
    from covet_dialect_sqlite.render import RENDERER

    return RENDERER


def _table_stats(tables: Sequence[str]) -> Statement:
    # SQLite keeps no row estimate and COUNT(*) reads the whole table: the dbstat virtual
    # table gives each table's size in pages without reading rows. Builds without dbstat make
    # this query fail, and the linter then says the sizes are unavailable.
    marks = ", ".join(["?"] * len(tables))
    return Statement(
        f"SELECT name, NULL, SUM(pgsize) FROM dbstat WHERE name IN ({marks}) GROUP BY name",
        tuple(tables),
    )


DIALECT = Dialect(
    name=NAME,
    url_schemes=("sqlite",),
    capabilities=Capabilities(
        transactional_ddl=True,
        alter_column=False,  # needs the table rebuild
        # SQLite >= 3.35, and not for key, indexed, unique, FK or CHECK columns: those rebuild.
        drop_column=True,
        rename_column=True,  # SQLite >= 3.25
        savepoints=True,
        skip_locked=False,
        alter_constraint=False,  # constraints live in CREATE TABLE: adding one rebuilds
        add_column_any_default=False,  # ADD COLUMN takes constant defaults only
        enum_types=False,
        partial_indexes=True,
    ),
    adapter_factory=_adapter,
    adapter_from_url=_adapter_from_url,
    quote=quote_ansi,
    placeholder=lambda n: "?",
    table_exists_sql=_table_exists,
    primary_key_sql=_primary_key,
    split_statements=splitter(SQLITE_RULES),
    default_lock="sqlite_file",
    default_backup="sqlite_backup",
    renderer=_renderer,
    schema_reader=_schema_reader,
    schema_normaliser=_normalise,
    bulk_writer=lambda a, t: __import__("covet_dialect_sqlite.bulk").bulk.writer(a, t),
    provisioner=PROVISIONER,
    lint_syntax="sqlite",
    table_stats_sql=_table_stats,
    server_version_sql=Statement("SELECT sqlite_version()"),
    description="SQLite 3 through aiosqlite",
)


def _file_lock(*, adapter: Any, options: Mapping[str, Any], **_: Any) -> Any:
    from covet_dialect_sqlite.lock import SQLiteFileLock

    return SQLiteFileLock(adapter, options)


@hookimpl
def covet_register_dialects(register: Callable[[Dialect], None]) -> None:
    register(DIALECT)


@hookimpl
def covet_register_lock_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("sqlite_file", _file_lock)


def _online_backup(*, adapter: Any, **_: Any) -> Any:
    from covet_dialect_sqlite.backup import SQLiteBackup

    return SQLiteBackup(adapter)


@hookimpl
def covet_register_backup_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("sqlite_backup", _online_backup)
