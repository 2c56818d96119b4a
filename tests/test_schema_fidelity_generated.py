"""Generated columns are modelled on every dialect (issue 14): read, compared, rendered and
reversed, where before a copy turned them into plain columns (only named in the report).
Judged with each database's own tools (see ``schema_oracle``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from conftest import Target, database_target
from schema_oracle import mysql_objects, pg_dump_objects, sqlite_objects

from covet_core.manager import MigrationManager
from covet_core.models import Column, Integer, Model, ModelSchemaReader, Numeric
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader

SOURCE = {
    "postgresql": "CREATE TABLE priced (id integer PRIMARY KEY, price numeric(10, 2), "
    "qty integer, total numeric GENERATED ALWAYS AS (price * qty) STORED)",
    "mysql": "CREATE TABLE priced (id INT PRIMARY KEY, price DECIMAL(10,2), qty INT, "
    "total DECIMAL(20,2) AS (price * qty) STORED, half DECIMAL(10,2) AS (price / 2) VIRTUAL)",
    "sqlite": "CREATE TABLE priced (id INTEGER PRIMARY KEY, price NUMERIC(10,2), qty INTEGER, "
    "total NUMERIC GENERATED ALWAYS AS (price * qty) STORED, half AS (price / 2))",
}


async def oracle(target: Target, adapter: Any) -> dict[tuple[str, str], str]:
    if target.name == "postgresql":
        found = await asyncio.to_thread(pg_dump_objects, target.url)
        return {k: v for k, v in found.items() if "_covet_" not in k[1] + v}
    if target.name == "mysql":
        return await mysql_objects(adapter)
    return await sqlite_objects(adapter)


def test_generated_columns_are_copied_exactly(target: Target, tmp_path: Path) -> None:
    async def go(other: Target) -> None:
        source, copy = target.new_adapter(), other.new_adapter()
        await source.connect()
        await copy.connect()
        try:
            await source.execute(SOURCE[target.name])
            original = await SchemaReader(source, target.dialect).read_schema()
            assert original.tables["priced"].column("total").generated
            empty = await SchemaReader(copy, other.dialect).read_schema()
            diff = SchemaComparator(other.dialect).compare(empty, original)
            assert diff.unmanaged == []
            path = MigrationGenerator(other.dialect, tmp_path / "m").generate_from_diff(
                diff, "copy"
            )
            result = await MigrationManager(copy, other.dialect, path.parent).migrate_up()
            assert result["success"], f"{result['error']}\n{path.read_text()}"
            assert await oracle(other, copy) == await oracle(target, source)
            reproduced = await SchemaReader(copy, other.dialect).read_schema()
            assert SchemaComparator(target.dialect).compare(reproduced, original).operations == []
        finally:
            await source.disconnect()
            await copy.disconnect()

    with database_target(target.name, tmp_path / "copy") as other:
        asyncio.run(go(other))


class Priced(Model):
    __tablename__ = "priced"
    id = Column(Integer, primary_key=True)
    price = Column(Numeric(10, 2))
    qty = Column(Integer)
    # PostgreSQL stores price * qty as price * qty::numeric (the cast it adds is compared as
    # written, as in checks), so the model says what needs no implicit cast.
    total = Column(Numeric(20, 2), generated="price * 2", stored=True)


def test_models_declare_generated_columns(target: Target, tmp_path: Path) -> None:
    """A model's generated column is created as such, reads back equal, and rows get it."""

    async def go() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            models = ModelSchemaReader([Priced]).read_schema()
            live = await SchemaReader(adapter, target.dialect).read_schema()
            diff = SchemaComparator(target.dialect).compare(live, models)
            MigrationGenerator(target.dialect, tmp_path).generate_from_diff(diff, "priced")
            result = await MigrationManager(adapter, target.dialect, tmp_path).migrate_up()
            assert result["success"], result["error"]
            await adapter.execute("INSERT INTO priced (id, price, qty) VALUES (1, 5, 4)")
            assert float(await adapter.fetch_value("SELECT total FROM priced")) == 10.0
            live = await SchemaReader(adapter, target.dialect).read_schema()
            assert SchemaComparator(target.dialect).compare(live, models).operations == []
        finally:
            await adapter.disconnect()

    asyncio.run(go())
