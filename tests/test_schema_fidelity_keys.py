"""PostgreSQL foreign keys keep DEFERRABLE / MATCH FULL and columns keep their collation
(issue 14). Before, a copy had plain keys and default collations, and the comparator saw no
change. Judged with ``pg_dump -s``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import Target, database_target
from schema_oracle import copying, pg_dump_objects

from covet_core.errors import ConfigError
from covet_core.manager import MigrationManager
from covet_core.models import Column, ForeignKey, Integer, Model, ModelSchemaReader, Text
from covet_core.schema import AlterColumn
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader

SOURCE = [
    "CREATE TABLE parent (id integer PRIMARY KEY, a integer, b integer, UNIQUE (a, b))",
    "CREATE TABLE child (id integer PRIMARY KEY, p integer, a integer, b integer, "
    'name text COLLATE "C", code varchar(5) COLLATE "POSIX", '
    "CONSTRAINT child_p FOREIGN KEY (p) REFERENCES parent DEFERRABLE INITIALLY DEFERRED, "
    "CONSTRAINT child_ab FOREIGN KEY (a, b) REFERENCES parent (a, b) MATCH FULL "
    "ON DELETE CASCADE DEFERRABLE)",
]


def test_postgresql_deferrable_keys_and_collations_round_trip(pg: Target, tmp_path: Path) -> None:
    async def go(other: Target) -> None:
        async with copying(pg, SOURCE, other) as made:
            copy, original, diff = made.copy, made.original, made.diff
            assert diff.unmanaged == []
            path = MigrationGenerator(other.dialect, tmp_path / "m").generate_from_diff(
                diff, "copy"
            )
            result = await MigrationManager(copy, other.dialect, path.parent).migrate_up()
            assert result["success"], f"{result['error']}\n{path.read_text()}"
            expected = await asyncio.to_thread(pg_dump_objects, pg.url)
            dumped = await asyncio.to_thread(pg_dump_objects, other.url)
            assert {k: v for k, v in dumped.items() if "_covet_" not in k[1] + v} == expected
            reproduced = await SchemaReader(copy, other.dialect).read_schema()
            assert SchemaComparator(pg.dialect).compare(reproduced, original).operations == []

    with database_target("postgresql", tmp_path / "copy") as other:
        asyncio.run(go(other))


class Parent(Model):
    __tablename__ = "parent"
    id = Column(Integer, primary_key=True)


class Child(Model):
    __tablename__ = "child"
    id = Column(Integer, primary_key=True)
    p = Column(Integer, ForeignKey("parent.id", deferrable="DEFERRABLE INITIALLY DEFERRED"))
    name = Column(Text, collation="C")


class ChildDefault(Model):
    __tablename__ = "child"
    id = Column(Integer, primary_key=True)
    p = Column(Integer, ForeignKey("parent.id", deferrable="DEFERRABLE INITIALLY DEFERRED"))
    name = Column(Text)


def test_models_declare_deferrable_keys_and_collations(pg: Target, tmp_path: Path) -> None:
    async def step(adapter: object, models: object, name: str) -> list[object]:
        live = await SchemaReader(adapter, pg.dialect).read_schema()  # type: ignore[arg-type]
        diff = SchemaComparator(pg.dialect).compare(live, models)  # type: ignore[arg-type]
        MigrationGenerator(pg.dialect, tmp_path).generate_from_diff(diff, name)
        result = await MigrationManager(adapter, pg.dialect, tmp_path).migrate_up()  # type: ignore[arg-type]
        assert result["success"], result["error"]
        live = await SchemaReader(adapter, pg.dialect).read_schema()  # type: ignore[arg-type]
        assert SchemaComparator(pg.dialect).compare(live, models).operations == []  # type: ignore[arg-type]
        return list(diff.operations)

    async def go() -> None:
        adapter = pg.new_adapter()
        await adapter.connect()
        try:
            await step(adapter, ModelSchemaReader([Parent, Child]).read_schema(), "v1")
            dumped = await asyncio.to_thread(pg_dump_objects, pg.url)
            assert 'name text COLLATE pg_catalog."C"' in dumped[("TABLE", "public.child")]
            fk = dumped[("FK CONSTRAINT", "public.child fk_child_p_parent")]
            assert fk.endswith("DEFERRABLE INITIALLY DEFERRED;")
            ops = await step(adapter, ModelSchemaReader([Parent, ChildDefault]).read_schema(), "v2")
            assert [type(op) for op in ops] == [AlterColumn]
            dumped = await asyncio.to_thread(pg_dump_objects, pg.url)
            assert "COLLATE" not in dumped[("TABLE", "public.child")]
        finally:
            await adapter.disconnect()

    asyncio.run(go())


def test_a_dotted_table_name_and_a_schema_qualified_one_are_refused_not_merged(
    pg: Target, tmp_path: Path
) -> None:
    """A table named "a.b" and table b of schema a are both "a.b" to covet: reading both kept
    one and lost the other without a word (issue 12). Now the read stops and names both."""

    async def go() -> None:
        adapter = pg.new_adapter()
        await adapter.connect()
        try:
            await adapter.execute("CREATE SCHEMA a")
            await adapter.execute("CREATE TABLE a.b (id integer PRIMARY KEY)")
            await adapter.execute('CREATE TABLE "a.b" (id integer PRIMARY KEY)')
            with pytest.raises(ConfigError) as refused:
                await SchemaReader(adapter, pg.dialect, schemas=["public", "a"]).read_schema()
            message = str(refused.value)
            assert "table 'b' of schema 'a'" in message and "in the current schema" in message
            assert "'a.b' to covet" in message and "\n" not in message
            one = await SchemaReader(adapter, pg.dialect, schemas=["a"]).read_schema()
            assert [(t.schema, t.name) for t in one.tables.values()] == [("a", "b")]
        finally:
            await adapter.disconnect()

    asyncio.run(go())


def test_sqlite_refuses_the_same_key_from_an_attached_database(tmp_path: Path) -> None:
    async def go(target: Target) -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            await adapter.execute(f"ATTACH DATABASE '{tmp_path / 'other.db'}' AS a")
            await adapter.execute("CREATE TABLE a.b (id INTEGER PRIMARY KEY)")
            await adapter.execute('CREATE TABLE "a.b" (id INTEGER PRIMARY KEY)')
            with pytest.raises(ConfigError, match=r"are both 'a\.b' to covet"):
                await SchemaReader(adapter, target.dialect, schemas=["main", "a"]).read_schema()
        finally:
            await adapter.disconnect()

    with database_target("sqlite", tmp_path / "s") as target:
        asyncio.run(go(target))
