"""Schema fidelity: what the catalog says is read exactly, never changed on the way (issue 14).

Each test reproduces something a real schema lost, judged with the database's own view of
itself (information_schema, pg_get_expr), not only covet's reader.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from conftest import Target

from covet_core.manager import MigrationManager
from covet_core.models import (
    Column,
    DateTime,
    Enum,
    Integer,
    Model,
    ModelSchemaReader,
    String,
)
from covet_core.schema import AlterColumn
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader


class Film(Model):
    __tablename__ = "film"
    id = Column(Integer, primary_key=True)
    rating = Column(Enum("G", "PG", "NC-17"))


class FilmLower(Model):
    __tablename__ = "film"
    id = Column(Integer, primary_key=True)
    rating = Column(Enum("g", "pg", "nc-17"))


def test_mysql_enum_and_set_labels_keep_their_case(mysql: Target, tmp_path: Path) -> None:
    """ENUM('G','PG','NC-17') was read as ENUM('g','pg','nc-17'): a generated copy stored other
    values, and a model with the right labels showed a change that never went away."""

    async def go() -> None:
        adapter = mysql.new_adapter()
        await adapter.connect()
        try:
            await adapter.execute(
                "CREATE TABLE labels (r ENUM('G','PG','NC-17'), s SET('Ab','cD'))"
            )
            live = await SchemaReader(adapter, mysql.dialect).read_schema()
            columns = {c.name: c.type for c in live.tables["labels"].columns}
            assert columns["r"].values == ("G", "PG", "NC-17")
            assert columns["s"].values == ("Ab", "cD")
            await adapter.execute("DROP TABLE labels")

            models = ModelSchemaReader([Film]).read_schema()
            live = await SchemaReader(adapter, mysql.dialect).read_schema()
            diff = SchemaComparator(mysql.dialect).compare(live, models)
            MigrationGenerator(mysql.dialect, tmp_path).generate_from_diff(diff, "film")
            result = await MigrationManager(adapter, mysql.dialect, tmp_path).migrate_up()
            assert result["success"], result["error"]
            declared = await adapter.fetch_value(
                "SELECT COLUMN_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'film' AND COLUMN_NAME = 'rating'"
            )
            assert declared == "enum('G','PG','NC-17')"
            live = await SchemaReader(adapter, mysql.dialect).read_schema()
            assert not SchemaComparator(mysql.dialect).compare(live, models).has_changes()
            lower = ModelSchemaReader([FilmLower]).read_schema()
            ops = SchemaComparator(mysql.dialect).compare(live, lower).operations
            assert [type(op) for op in ops] == [AlterColumn]
        finally:
            await adapter.disconnect()

    asyncio.run(go())


def test_postgresql_per_row_date_defaults_are_not_frozen(pg: Target, tmp_path: Path) -> None:
    """DEFAULT ('now'::text)::date was read as 'now', which PostgreSQL folds into today's date
    once, at CREATE TABLE: every later row got the day the migration ran."""

    async def go() -> None:
        adapter = pg.new_adapter()
        await adapter.connect()
        try:
            await adapter.execute(
                "CREATE TABLE visits (id integer PRIMARY KEY, "
                "day date DEFAULT ('now'::text)::date, fixed date DEFAULT '2020-01-02')"
            )
            original = await SchemaReader(adapter, pg.dialect).read_schema()
            await adapter.execute("DROP TABLE visits")
            empty = await SchemaReader(adapter, pg.dialect).read_schema()
            diff = SchemaComparator(pg.dialect).compare(empty, original)
            MigrationGenerator(pg.dialect, tmp_path).generate_from_diff(diff, "visits")
            result = await MigrationManager(adapter, pg.dialect, tmp_path).migrate_up()
            assert result["success"], result["error"]
            rows = await adapter.fetch_all(
                "SELECT a.attname AS name, pg_get_expr(d.adbin, d.adrelid) AS expr "
                "FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid "
                "AND a.attnum = d.adnum WHERE d.adrelid = 'visits'::regclass"
            )
            assert {r["name"]: r["expr"] for r in rows} == {
                "day": "('now'::text)::date",
                "fixed": "'2020-01-02'::date",
            }
        finally:
            await adapter.disconnect()

    asyncio.run(go())


SQLITE_SOURCE = [
    "CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME NOT NULL, n INT, "
    "price NUMERIC(10,2), name VARCHAR(40), flag BOOL, body CLOB, big UNSIGNED BIG INT, "
    "ratio DOUBLE, stamp TIMESTAMP)",
    "CREATE INDEX ev_at_desc ON events (at DESC)",
    "CREATE INDEX ev_name_nocase ON events (name COLLATE NOCASE, n DESC)",
    "CREATE UNIQUE INDEX ev_n_asc ON events (n ASC) WHERE n > 0",
    "CREATE INDEX ev_plain ON events (n, name)",
    "CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "event INTEGER REFERENCES events DEFERRABLE INITIALLY DEFERRED, "
    "code TEXT COLLATE NOCASE CHECK (length(code) > 2))",
    "CREATE TABLE strict_kv (k TEXT PRIMARY KEY, v INTEGER, n INT) STRICT, WITHOUT ROWID",
]


def test_sqlite_declared_types_and_index_keys_are_kept(tmp_path: Path) -> None:
    """DATETIME came back TIMESTAMP and INT came back INTEGER (the docs said declared types are
    kept); DESC and COLLATE on index keys, column COLLATE and DEFERRABLE foreign keys were
    dropped. Judged by sqlite_master and pragmas."""
    from conftest import database_target
    from schema_oracle import sqlite_objects

    async def go(source_target: Target, copy_target: Target) -> None:
        source, copy = source_target.new_adapter(), copy_target.new_adapter()
        await source.connect()
        await copy.connect()
        try:
            for statement in SQLITE_SOURCE:
                await source.execute(statement)
            original = await SchemaReader(source, "sqlite").read_schema()
            empty = await SchemaReader(copy, "sqlite").read_schema()
            diff = SchemaComparator("sqlite").compare(empty, original)
            assert diff.unmanaged == []
            MigrationGenerator("sqlite", tmp_path / "m").generate_from_diff(diff, "copy")
            result = await MigrationManager(copy, "sqlite", tmp_path / "m").migrate_up()
            assert result["success"], result["error"]
            assert await sqlite_objects(copy) == await sqlite_objects(source)
            types = await copy.fetch_all("SELECT name, type FROM pragma_table_info('events')")
            assert [r["type"] for r in types][:3] == ["INTEGER", "DATETIME", "INT"]
            reproduced = await SchemaReader(copy, "sqlite").read_schema()
            assert SchemaComparator("sqlite").compare(reproduced, original).operations == []
            # A rebuild (here: n becomes NOT NULL) keeps STRICT and WITHOUT ROWID too.
            table = original.tables["strict_kv"]
            columns = tuple(replace(c, nullable=c.name != "n") for c in table.columns)
            tables = {**original.tables, "strict_kv": replace(table, columns=columns)}
            changed = replace(original, tables=tables)
            diff = SchemaComparator("sqlite").compare(reproduced, changed)
            assert [type(op).__name__ for op in diff.operations] == ["RebuildTable"]
            MigrationGenerator("sqlite", tmp_path / "m").generate_from_diff(diff, "rebuild")
            result = await MigrationManager(copy, "sqlite", tmp_path / "m").migrate_up()
            assert result["success"], result["error"]
            sql = await copy.fetch_value("SELECT sql FROM sqlite_master WHERE name = 'strict_kv'")
            assert sql.rstrip().endswith(") STRICT, WITHOUT ROWID")
        finally:
            await source.disconnect()
            await copy.disconnect()

    with (
        database_target("sqlite", tmp_path / "a") as source_target,
        database_target("sqlite", tmp_path / "b") as copy_target,
    ):
        asyncio.run(go(source_target, copy_target))


MYSQL_SOURCE = [
    "CREATE TABLE parent (id INT PRIMARY KEY)",
    "CREATE TABLE stamped (id INT PRIMARY KEY, "
    "seen TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, "
    "changed DATETIME(3) NULL ON UPDATE CURRENT_TIMESTAMP(3), a INT, b INT, "
    "FOREIGN KEY (b) REFERENCES parent (id), FOREIGN KEY (a) REFERENCES parent (id))",
    "CREATE TABLE latin (id INT PRIMARY KEY, name VARCHAR(20), "
    "code VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin, "
    "note TEXT COLLATE latin1_german1_ci) DEFAULT CHARSET=latin1",
    "CREATE TABLE binned (id INT PRIMARY KEY, tag VARCHAR(10) COLLATE utf8mb4_bin, "
    "CONSTRAINT named_fk FOREIGN KEY (id) REFERENCES parent (id))",
    "CREATE TABLE searched (id INT PRIMARY KEY, title VARCHAR(200), body TEXT, "
    "place POINT NOT NULL, FULLTEXT KEY ft_text (title, body), SPATIAL KEY sp_place (place))",
]


def test_mysql_on_update_charsets_and_fk_names_are_kept(mysql: Target, tmp_path: Path) -> None:
    """ON UPDATE CURRENT_TIMESTAMP, column and table CHARACTER SET / COLLATE and FULLTEXT /
    SPATIAL indexes were dropped, and
    unnamed foreign keys were created in another order, so the copy's t_ibfk_1 / t_ibfk_2 (and
    the indexes named after their columns) swapped. Judged with SHOW CREATE TABLE."""
    from conftest import database_target
    from schema_oracle import copying, mysql_objects

    async def go(other: Target) -> None:
        async with copying(mysql, MYSQL_SOURCE, other) as made:
            source, copy, original, diff = made.source, made.copy, made.original, made.diff
            assert diff.unmanaged == []
            path = MigrationGenerator(other.dialect, tmp_path / "m").generate_from_diff(
                diff, "copy"
            )
            result = await MigrationManager(copy, other.dialect, path.parent).migrate_up()
            assert result["success"], f"{result['error']}\n{path.read_text()}"
            assert await mysql_objects(copy) == await mysql_objects(source)
            reproduced = await SchemaReader(copy, other.dialect).read_schema()
            assert SchemaComparator(mysql.dialect).compare(reproduced, original).operations == []

    with database_target("mysql", tmp_path / "copy") as other:
        asyncio.run(go(other))


class Stamped(Model):
    __tablename__ = "stamped"
    id = Column(Integer, primary_key=True)
    seen = Column(DateTime, server_default="CURRENT_TIMESTAMP", on_update="CURRENT_TIMESTAMP")
    code = Column(String(10), collation="ascii_bin")


def test_mysql_models_declare_on_update_and_collation(mysql: Target, tmp_path: Path) -> None:
    async def go() -> None:
        adapter = mysql.new_adapter()
        await adapter.connect()
        try:
            models = ModelSchemaReader([Stamped]).read_schema()
            live = await SchemaReader(adapter, mysql.dialect).read_schema()
            diff = SchemaComparator(mysql.dialect).compare(live, models)
            MigrationGenerator(mysql.dialect, tmp_path).generate_from_diff(diff, "stamped")
            result = await MigrationManager(adapter, mysql.dialect, tmp_path).migrate_up()
            assert result["success"], result["error"]
            shown = await adapter.fetch_all("SHOW CREATE TABLE stamped")
            text = shown[0]["Create Table"]
            assert "ON UPDATE current_timestamp(6)" in text
            assert "CHARACTER SET ascii COLLATE ascii_bin" in text
            live = await SchemaReader(adapter, mysql.dialect).read_schema()
            assert SchemaComparator(mysql.dialect).compare(live, models).operations == []
        finally:
            await adapter.disconnect()

    asyncio.run(go())
