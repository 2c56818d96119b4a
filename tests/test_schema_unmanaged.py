"""Nothing is lost silently (issue 14): every object and attribute a database holds either
reaches the copy a generated migration makes, or is named in the diff's report.

The rule is tested on its own, not case by case: a database holding an object of every kind
its catalog has is copied into a fresh one through ``compare(empty, live)`` and a generated
migration, and the database's own tools (``pg_dump -s``, ``SHOW CREATE``, ``sqlite_master``
and the pragmas; see ``schema_oracle``) list what the copy lacks or holds differently. Each
such object must be named in ``diff.unmanaged``, which stops generation unless allowed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from conftest import Target, database_target
from schema_oracle import covered, lost, mysql_objects, pg_dump_objects, sqlite_objects

from covet_core.errors import UnmanagedObjectsError
from covet_core.manager import MigrationManager
from covet_core.models import Column, Integer, Model, ModelSchemaReader, String
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader

KITCHEN_SINK = {
    "postgresql": [
        "CREATE EXTENSION pg_trgm",
        "CREATE SCHEMA unread",
        "CREATE TABLE unread.elsewhere (id integer)",
        "CREATE TYPE mood AS ENUM ('sad', 'ok')",
        "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, m mood)",
        "COMMENT ON TABLE items IS 'things'",
        "CREATE TABLE tagged (id integer PRIMARY KEY, tags text[], code text, n integer)",
        "CREATE INDEX tagged_gin ON tagged USING gin (tags)",
        "CREATE UNIQUE INDEX tagged_code ON tagged (code DESC) INCLUDE (n) NULLS NOT DISTINCT",
        "CREATE INDEX tagged_tuned ON tagged (n) WITH (fillfactor = 50)",
        "CREATE TABLE keyed (a integer, b integer, "
        "CONSTRAINT keyed_a UNIQUE NULLS NOT DISTINCT (a), "
        "CONSTRAINT keyed_b UNIQUE (b) DEFERRABLE)",
        "CREATE TABLE gen (id integer PRIMARY KEY, price numeric, "
        "twice numeric GENERATED ALWAYS AS (price * 2) STORED)",
        "CREATE TABLE ident (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY)",
        'CREATE TABLE coll (id integer PRIMARY KEY, name text COLLATE "C")',
        "CREATE TABLE parted (id integer, at date) PARTITION BY RANGE (at)",
        "CREATE TABLE parted_2020 PARTITION OF parted "
        "FOR VALUES FROM ('2020-01-01') TO ('2021-01-01')",
        "CREATE TABLE base (id integer)",
        "CREATE TABLE heir (extra integer) INHERITS (base)",
        "CREATE UNLOGGED TABLE scratch (id integer)",
        "CREATE TABLE tuned (id integer) WITH (fillfactor = 70)",
        "CREATE TABLE guarded (id integer)",
        "ALTER TABLE guarded ENABLE ROW LEVEL SECURITY",
        "CREATE POLICY pol_guarded ON guarded USING (true)",
        "CREATE TABLE booking (id integer, during tsrange, "
        "CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&))",
        "CREATE TABLE later (id integer, "
        "CONSTRAINT later_fk FOREIGN KEY (id) REFERENCES items DEFERRABLE INITIALLY DEFERRED)",
        "CREATE VIEW v_items AS SELECT id, name FROM items",
        "CREATE MATERIALIZED VIEW mv_items AS SELECT id FROM items",
        "CREATE FUNCTION f_double(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x * 2'",
        "CREATE PROCEDURE p_noop() LANGUAGE sql AS 'SELECT 1'",
        "CREATE FUNCTION f_trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
        "CREATE TRIGGER trg_items BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION f_trg()",
        "CREATE AGGREGATE agg_sum(integer) (SFUNC = int4pl, STYPE = integer)",
        "CREATE SEQUENCE counter_seq START 5",
        "CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0)",
        "CREATE TABLE uses (id integer PRIMARY KEY DEFAULT nextval('counter_seq'), "
        "amount positive_int NOT NULL, title text)",
        "CREATE INDEX uses_title_trgm ON uses USING gin (title gin_trgm_ops)",
        "CREATE TYPE pair_t AS (a integer, b integer)",
        "CREATE TYPE floatrange AS RANGE (subtype = float8)",
        "CREATE RULE r_items AS ON UPDATE TO items DO ALSO NOTIFY items",
        'CREATE COLLATION c_copy FROM "C"',
        "CREATE STATISTICS st_items ON id, name FROM items",
        "CREATE TEXT SEARCH CONFIGURATION ts_copy (COPY = english)",
        "CREATE OPERATOR === (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int4eq)",
        "CREATE FOREIGN DATA WRAPPER fdw_dummy",
        "CREATE SERVER srv_dummy FOREIGN DATA WRAPPER fdw_dummy",
        "CREATE FOREIGN TABLE ft_remote (a integer) SERVER srv_dummy",
        "CREATE FUNCTION f_evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END'",
        "CREATE EVENT TRIGGER evt_ddl ON ddl_command_start EXECUTE FUNCTION f_evt()",
        "CREATE PUBLICATION pub_items FOR TABLE items",
    ],
    "mysql": [
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)",
        "CREATE TABLE gen (id INT PRIMARY KEY, price INT, twice INT AS (price * 2) STORED)",
        "CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, FULLTEXT KEY ft_body (body))",
        "CREATE TABLE parted (id INT PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 2",
        "CREATE TABLE stamped (id INT PRIMARY KEY, b INT, a INT, "
        "seen TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, "
        "code VARCHAR(5) CHARACTER SET ascii, FOREIGN KEY (b) REFERENCES items (id), "
        "FOREIGN KEY (a) REFERENCES items (id)) DEFAULT CHARSET=latin1",
        "CREATE TABLE compact (id INT PRIMARY KEY) ROW_FORMAT=COMPACT",
        "CREATE TABLE heap (id INT PRIMARY KEY) ENGINE=MEMORY",
        "CREATE VIEW v_items AS SELECT id FROM items",
        "CREATE TRIGGER trg_items BEFORE INSERT ON items FOR EACH ROW SET NEW.name = TRIM(NEW.name)",
        "CREATE PROCEDURE p_noop() SELECT 1",
        "CREATE FUNCTION f_double(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
        "CREATE EVENT ev_tick ON SCHEDULE EVERY 1 DAY DO SELECT 1",
        "CREATE SEQUENCE s_counter",
    ],
    "sqlite": [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE gen (id INTEGER PRIMARY KEY, price INTEGER, "
        "twice INTEGER GENERATED ALWAYS AS (price * 2) STORED)",
        "CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n INTEGER) STRICT",
        "CREATE TABLE no_rowid (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID",
        "CREATE TABLE nocase (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE)",
        "CREATE TABLE checked (id INTEGER PRIMARY KEY AUTOINCREMENT, n INT CHECK (n > 0), "
        "item INTEGER CONSTRAINT item_fk REFERENCES items DEFERRABLE INITIALLY DEFERRED, "
        "CONSTRAINT n_small CHECK (n < 100))",
        "CREATE VIEW v_items AS SELECT id FROM items",
        "CREATE TRIGGER trg_items AFTER INSERT ON items BEGIN SELECT 1; END",
        "CREATE VIRTUAL TABLE docs USING fts5(body)",
    ],
}


# A table with what models cannot describe hanging off it, for the models' direction.
FUNCTION = {
    "postgresql": "CREATE FUNCTION f_double(x integer) RETURNS integer LANGUAGE sql "
    "AS 'SELECT x * 2'",
    "mysql": "CREATE FUNCTION f_double(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
    "sqlite": "CREATE VIEW f_double AS SELECT 2 AS two",  # SQLite has no stored functions
}
TRIGGER = {
    "postgresql": [
        "CREATE FUNCTION f_trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
        "CREATE TRIGGER trg_items BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION f_trg()",
    ],
    "mysql": ["CREATE TRIGGER trg_items BEFORE INSERT ON items FOR EACH ROW SET NEW.id = NEW.id"],
    "sqlite": ["CREATE TRIGGER trg_items AFTER INSERT ON items BEGIN SELECT 1; END"],
}


def small_sink(dialect: str) -> list[str]:
    return [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))",
        "CREATE TABLE gone (id INTEGER PRIMARY KEY)",
        "CREATE VIEW v_items AS SELECT id FROM items",
        FUNCTION[dialect],
        *TRIGGER[dialect],
    ]


async def oracle(target: Target, adapter: Any) -> dict[tuple[str, str], str]:
    if target.name == "postgresql":
        return await asyncio.to_thread(pg_dump_objects, target.url)
    if target.name == "mysql":
        return await mysql_objects(adapter)
    return await sqlite_objects(adapter)


async def connected(target: Target) -> Any:
    adapter = target.new_adapter()
    await adapter.connect()
    return adapter


def test_every_object_is_copied_or_named(target: Target, tmp_path: Path) -> None:
    """An object of every kind the catalog has: the copy holds it as the original does, or
    the diff names it (and generation refuses until allowed)."""

    async def go(other: Target) -> None:
        source = await connected(target)
        copy = await connected(other)
        try:
            for statement in KITCHEN_SINK[target.name]:
                await source.execute(statement)
            original = await SchemaReader(source, target.dialect).read_schema()
            empty = await SchemaReader(copy, other.dialect).read_schema()
            diff = SchemaComparator(other.dialect).compare(empty, original)
            assert diff.ignored == []  # the copy has nothing of its own
            generator = MigrationGenerator(other.dialect, tmp_path / "migrations")
            with pytest.raises(UnmanagedObjectsError) as refused:
                generator.generate_from_diff(diff, "copy")
            assert "v_items" in str(refused.value) and "trg_items" in str(refused.value)
            path = generator.generate_from_diff(diff, "copy", allow_unmanaged=True)
            text = path.read_text()
            for obj in diff.unmanaged:
                assert f"#   {obj}" in text  # a comment line next to forward_sql
            result = await MigrationManager(copy, other.dialect, path.parent).migrate_up()
            assert result["success"], f"{result['error']}\n{text}"

            before, after = await oracle(target, source), await oracle(other, copy)
            missing = lost(before, after)
            assert missing  # the sink holds things covet does not create
            silent = {k: v for k, v in missing.items() if not covered(k, diff.unmanaged)}
            assert silent == {}, f"lost without a word: {silent}\nreported: {diff.unmanaged}"
        finally:
            await source.disconnect()
            await copy.disconnect()

    with database_target(target.name, tmp_path / "copy") as other:
        asyncio.run(go(other))


class Item(Model):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String(50))


def test_objects_the_models_cannot_express_are_left_alone_and_listed(
    target: Target, tmp_path: Path
) -> None:
    """Models never describe views or triggers: a migration towards them keeps every one,
    and says so in its summary and as comments in the file."""

    async def go() -> None:
        adapter = await connected(target)
        try:
            for statement in small_sink(target.name):
                await adapter.execute(statement)
            before = await oracle(target, adapter)
            live = await SchemaReader(adapter, target.dialect).read_schema()
            models = ModelSchemaReader([Item]).read_schema()
            diff = SchemaComparator(target.dialect).compare(live, models)
            assert diff.unmanaged == []
            assert [op.describe() for op in diff.destructive] == ["drop table gone"]
            named = {str(obj) for obj in diff.ignored}
            assert any("v_items" in n for n in named) and any("trg_items" in n for n in named)
            path = MigrationGenerator(target.dialect, tmp_path / "m").generate_from_diff(
                diff, "to_models"
            )
            text = path.read_text()
            assert "Left alone" in text
            assert all(f"#   {obj}" in text for obj in diff.ignored)
            result = await MigrationManager(adapter, target.dialect, path.parent).migrate_up()
            assert result["success"], f"{result['error']}\n{text}"
            after = await oracle(target, adapter)
            for kind, name in before:
                if "v_items" in name or "trg_items" in name or "f_double" in name:
                    assert (kind, name) in after, f"{kind} {name} was dropped"
        finally:
            await adapter.disconnect()

    asyncio.run(go())


def test_cli_generate_from_a_database_refuses_unless_allowed(
    target: Target, tmp_path: Path, run: Any
) -> None:
    """``--target-database``: the copy's migration stops, exit 2, naming what it cannot
    create; ``--allow-unmanaged`` writes it with those objects listed as comments."""

    async def setup() -> None:
        adapter = await connected(target)
        try:
            for statement in small_sink(target.name)[:3]:
                await adapter.execute(statement)
        finally:
            await adapter.disconnect()

    asyncio.run(setup())
    with database_target(target.name, tmp_path / "copy") as other:
        refused = run("migrate", "generate", "copy", "--target-database", target.url, env=other.env)
        assert refused.exit_code == 2, refused.output
        assert "v_items" in refused.output and "--allow-unmanaged" in refused.output
        assert not list((tmp_path / "migrations").glob("*.py"))
        allowed = run(
            "migrate", "generate", "copy", "--target-database", target.url,
            "--allow-unmanaged", env=other.env,
        )  # fmt: skip
        assert allowed.exit_code == 0, allowed.output
        [path] = (tmp_path / "migrations").glob("*.py")
        assert "#   view v_items" in path.read_text()
