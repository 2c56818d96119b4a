"""Each declared capability, checked against the installed DuckDB: a flag that says "no" is
backed by DuckDB refusing the statement (or, for the ALTER flags, refusing it on a table with
an index), and ``transactional_ddl`` by DDL rolling back."""

from __future__ import annotations

import duckdb
import pytest

from covet_core.dialect import Dialect

pytest_plugins = ["duckdb_support"]

INDEXED = [
    "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, m INTEGER)",
    "CREATE INDEX ix_t_m ON t (m)",
    "INSERT INTO t VALUES (1, 1, 1)",
]

REFUSED = {
    # flag: (statements that set up, the statement DuckDB refuses)
    "savepoints": ([], "SAVEPOINT sp"),
    "skip_locked": ([], "SELECT 1 FOR UPDATE SKIP LOCKED"),
    "partial_indexes": (INDEXED, "CREATE INDEX ix_p ON t (n) WHERE n > 0"),
    "alter_constraint": (INDEXED[:1], "ALTER TABLE t ADD CONSTRAINT ck CHECK (n > 0)"),
    "alter_column": (INDEXED, "ALTER TABLE t ALTER COLUMN n TYPE BIGINT"),
    "drop_column": (INDEXED, "ALTER TABLE t DROP COLUMN n"),
    "rename_column": (INDEXED, "ALTER TABLE t RENAME COLUMN n TO k"),
    "add_column_not_null": (INDEXED, "ALTER TABLE t ADD COLUMN z INTEGER NOT NULL DEFAULT 5"),
}


@pytest.mark.parametrize("flag", sorted(REFUSED))
def test_a_capability_declared_missing_is_refused_by_duckdb(dialect: Dialect, flag: str) -> None:
    assert getattr(dialect.capabilities, flag) is False
    setup, refused = REFUSED[flag]
    conn = duckdb.connect()
    for statement in setup:
        conn.execute(statement)
    with pytest.raises(duckdb.Error):
        conn.execute(refused)


def test_add_column_takes_any_default_even_on_an_indexed_table(dialect: Dialect) -> None:
    assert dialect.capabilities.add_column_any_default
    conn = duckdb.connect()
    conn.execute("CREATE SEQUENCE s")
    for statement in INDEXED:
        conn.execute(statement)
    conn.execute("ALTER TABLE t ADD COLUMN seen TIMESTAMP DEFAULT now()")
    conn.execute("ALTER TABLE t ADD COLUMN n2 BIGINT DEFAULT nextval('s')")
    assert conn.execute("SELECT n2 FROM t").fetchall() == [(1,)]


def test_ddl_is_transactional(dialect: Dialect) -> None:
    assert dialect.capabilities.transactional_ddl
    conn = duckdb.connect()
    conn.execute("CREATE TABLE kept (i INTEGER)")
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE gone (i INTEGER)")
    conn.execute("DROP TABLE kept")
    conn.execute("ROLLBACK")
    names = conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    assert names == [("kept",)]


def test_named_enum_types_read_back_as_anonymous_enums(dialect: Dialect) -> None:
    # Why enum_types is False although CREATE TYPE ... AS ENUM exists: the column forgets it.
    assert dialect.capabilities.enum_types is False
    conn = duckdb.connect()
    conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
    conn.execute("CREATE TABLE t (m mood)")
    found = conn.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = 't'")
    assert found.fetchall() == [("ENUM('sad', 'ok')",)]
