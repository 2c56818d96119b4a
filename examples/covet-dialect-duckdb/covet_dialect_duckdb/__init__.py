"""covet-dialect-duckdb: DuckDB as a covet dialect (entry point ``duckdb`` in ``covet.plugins``).

A third-party plugin: it imports only covet's public contract. Importing it is cheap: the
``duckdb`` driver is imported when an adapter connects, the renderer and reader when used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from covet_core import hookimpl
from covet_core.dialect import Capabilities, Dialect, Statement, quote_ansi
from covet_core.sqlsplit import POSTGRESQL_RULES, splitter

NAME = "duckdb"

# DuckDB's lexer follows PostgreSQL's ($$ / $tag$ strings, E'...' escape strings), so
# PostgreSQL's rules split its scripts; the two rules DuckDB has no use for (BEGIN ... END
# routine bodies, COPY FROM stdin data) never match a DuckDB statement.


def _adapter(*args: Any, **kwargs: Any) -> Any:
    from covet_dialect_duckdb.adapter import DuckDBAdapter

    return DuckDBAdapter(*args, **kwargs)


def _adapter_from_url(url: str, base_dir: Path | None) -> Any:
    from covet_dialect_duckdb.adapter import DuckDBAdapter

    return DuckDBAdapter.from_url(url, base_dir)


def _table_exists(name: str) -> Statement:
    return Statement(
        "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = current_schema() AND table_name = ?",
        (name,),
    )


def _primary_key(table: str) -> Statement:
    # constraint_column_names lists the key's columns in key order.
    return Statement(
        "SELECT unnest(constraint_column_names) AS name FROM duckdb_constraints() "
        "WHERE database_name = current_database() AND schema_name = current_schema() "
        "AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
        (table,),
    )


# A caller's connection opened with read_only=True accepts no writes: say so before the lock.
READ_ONLY = Statement(
    "SELECT CASE WHEN readonly THEN 'a DuckDB connection opened with read_only=True; "
    "open the file read-write' END AS reason FROM duckdb_databases() "
    "WHERE database_name = current_database()"
)


def _renderer() -> Any:
    from covet_dialect_duckdb.render import RENDERER

    return RENDERER


def _schema_reader(adapter: Any) -> Any:
    from covet_dialect_duckdb.schema_reader import DuckDBSchemaReader

    return DuckDBSchemaReader(adapter)


def _bulk_writer(adapter: Any, table: str) -> Any:
    from covet_dialect_duckdb.bulk import writer

    return writer(adapter, table)


def _normalise(schema: Any) -> Any:
    from covet_dialect_duckdb.normalise import normalise

    return normalise(schema)


class FileProvisioner:
    """Scratch databases are files in the test's work folder. Their URLs wait 10 s, not 30,
    for another process to close the file: tests of two processes finish sooner."""

    async def create(self, base_url: str, name: str, workdir: Path) -> str:
        return f"duckdb:///{workdir / name}.duckdb?timeout=10"

    async def drop(self, base_url: str, url: str) -> None:
        path = Path(url.removeprefix("duckdb:///").partition("?")[0])
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)


DIALECT = Dialect(
    name=NAME,
    url_schemes=("duckdb",),
    # Each flag was checked against DuckDB 2.0 (tests/test_duckdb_capabilities.py keeps them
    # honest). ALTER TABLE exists, but DuckDB refuses most of it ("Cannot alter entry ...
    # because there are entries that depend on it") once the table has an index or another
    # table references it, so covet rebuilds the table for those changes instead.
    capabilities=Capabilities(
        transactional_ddl=True,
        alter_column=False,
        drop_column=False,
        rename_column=False,
        savepoints=False,  # no SAVEPOINT: nested transaction() blocks join the outer one
        skip_locked=False,  # no SELECT ... FOR UPDATE at all
        alter_constraint=False,  # no ADD CHECK / ADD FOREIGN KEY, no DROP CONSTRAINT
        # ADD COLUMN takes any default (now(), nextval) but no NOT NULL on an indexed table.
        add_column_any_default=True,
        add_column_not_null=False,
        enum_types=False,  # CREATE TYPE exists, but columns read back as anonymous ENUM(...)
        partial_indexes=False,  # "Creating partial indexes is not supported currently"
    ),
    adapter_factory=_adapter,
    adapter_from_url=_adapter_from_url,
    quote=quote_ansi,
    placeholder=lambda n: "?",
    table_exists_sql=_table_exists,
    primary_key_sql=_primary_key,
    split_statements=splitter(POSTGRESQL_RULES),
    default_lock="table",
    default_backup="duckdb_copy",
    read_only_sql=READ_ONLY,
    renderer=_renderer,
    schema_reader=_schema_reader,
    schema_normaliser=_normalise,
    bulk_writer=_bulk_writer,
    provisioner=FileProvisioner(),
    description="DuckDB through the duckdb package (run on a worker thread)",
)


@hookimpl
def covet_register_dialects(register: Callable[[Dialect], None]) -> None:
    register(DIALECT)


def _copy_backup(*, adapter: Any, **_: Any) -> Any:
    from covet_dialect_duckdb.backup import DuckDBCopyBackup

    return DuckDBCopyBackup(adapter)


@hookimpl
def covet_register_backup_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register("duckdb_copy", _copy_backup)
