"""The schema machinery on the dialect: every operation and its reverse on a table with rows,
and models -> compare -> generate -> migrate -> read back as no change, up and down.

"Reads back as" is judged by the dialect's own comparator: a table matches its model when
``SchemaComparator(dialect).compare(read, model)`` finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from covet_core.adapter import Adapter
from covet_core.schema import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CheckConstraint,
    Column,
    ColumnType,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    EnumType,
    ForeignKey,
    Index,
    Operation,
    RenameColumn,
    RenameTable,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader
from covet_core.testing.support import ScratchDatabase, asynctest, requires, requires_worker

__all__ = [
    "test_schema_models_generate_apply_and_read_back_unchanged",
    "test_schema_operation_and_its_reverse",
    "test_schema_planned_change_and_its_reverse",
    "test_schema_read_costs_the_same_queries_for_3_and_30_tables",
]

T = ColumnType
ROWS = 30
OWNERS = Table("owners", (Column("id", T("integer"), nullable=False),), primary_key=("id",))
ITEMS = Table(
    "items",
    (
        Column("id", T("integer"), nullable=False),
        Column("name", T("string", 50), nullable=False),
        Column("qty", T("integer"), nullable=False, default="0"),
        Column("owner_id", T("integer")),
    ),
    primary_key=("id",),
    indexes=(Index("ix_items_name", ("name",)),),
)
NOTE = Column("note", T("string", 80), default="'n/a'")
MOOD = EnumType("mood", ("happy", "sad"))


def columns(table: Table, change: Callable[[Column], Column]) -> Table:
    return table.replace(columns=tuple(change(c) for c in table.columns))


# Why a dialect without the flag cannot run the operation in place (the skip reason).
WHY = {
    "drop_column": "the comparator rebuilds the table instead",
    "alter_column": "the comparator rebuilds the table instead",
    "rename_column": "the comparator rebuilds the table instead",
    "partial_indexes": "there is no CREATE INDEX ... WHERE",
    "alter_constraint": "constraints change only by rebuilding the table",
    "enum_types": "there are no named enum types",
}


@dataclass(frozen=True)
class Case:
    """One operation applied to ``before``; ``after`` is the model the database must match."""

    id: str
    operation: Operation
    after: Schema
    before: Schema = field(default_factory=lambda: Schema.of([OWNERS, ITEMS]))
    needs: str | None = None
    """The capability flag without which the dialect cannot run ``operation`` in place."""


def schema(*tables: Table, enums: tuple[EnumType, ...] = ()) -> Schema:
    return Schema.of([OWNERS, *tables], list(enums))


RENAMED = columns(ITEMS, lambda c: replace(c, name="title") if c.name == "name" else c)
CASES = [
    Case("add_column", AddColumn("items", NOTE), schema(ITEMS.replace(columns=(*ITEMS.columns, NOTE)))),
    Case(
        "drop_column",
        DropColumn("items", NOTE),
        schema(ITEMS),
        before=schema(ITEMS.replace(columns=(*ITEMS.columns, NOTE))),
        needs="drop_column",
    ),
    Case(
        "alter_column",
        AlterColumn("items", ITEMS.column("name"), Column("name", T("string", 200), nullable=False)),
        schema(columns(ITEMS, lambda c: replace(c, type=T("string", 200)) if c.name == "name" else c)),
        needs="alter_column",
    ),
    Case(
        "rename_column",
        RenameColumn("items", "name", "title"),
        schema(RENAMED.replace(indexes=(Index("ix_items_name", ("title",)),))),
        needs="rename_column",
    ),
    Case(
        "alter_column_null_and_default",
        AlterColumn("items", ITEMS.column("qty"), Column("qty", T("integer"), default="7")),
        schema(columns(ITEMS, lambda c: Column("qty", T("integer"), default="7") if c.name == "qty" else c)),
        needs="alter_column",
    ),
    Case("rename_table", RenameTable("items", "goods"), schema(ITEMS.replace(name="goods"))),
    Case(
        "create_unique_index",
        CreateIndex("items", Index("ux_items_qty", ("qty",), unique=True)),
        schema(ITEMS.replace(indexes=(*ITEMS.indexes, Index("ux_items_qty", ("qty",), unique=True)))),
    ),
    Case("drop_index", DropIndex("items", ITEMS.indexes[0]), schema(ITEMS.replace(indexes=()))),
    Case(
        "create_partial_index",
        CreateIndex("items", Index("ix_items_big", ("qty",), where="qty > 10")),
        schema(ITEMS.replace(indexes=(*ITEMS.indexes, Index("ix_items_big", ("qty",), where="qty > 10")))),
        needs="partial_indexes",
    ),
    Case(
        "add_unique_constraint",
        AddConstraint("items", UniqueConstraint("uq_items_name_qty", ("name", "qty"))),
        schema(ITEMS.replace(unique_constraints=(UniqueConstraint("uq_items_name_qty", ("name", "qty")),))),
        needs="alter_constraint",
    ),
    Case(
        "add_foreign_key",
        AddConstraint("items", ForeignKey("fk_items_owner", ("owner_id",), "owners", ("id",))),
        schema(ITEMS.replace(foreign_keys=(ForeignKey("fk_items_owner", ("owner_id",), "owners", ("id",)),))),
        needs="alter_constraint",
    ),
    Case(
        "add_check_constraint",
        AddConstraint("items", CheckConstraint("ck_items_qty", "qty >= 0")),
        schema(ITEMS.replace(check_constraints=(CheckConstraint("ck_items_qty", "qty >= 0"),))),
        needs="alter_constraint",
    ),
    Case("create_enum", CreateEnum(MOOD), schema(ITEMS, enums=(MOOD,)), needs="enum_types"),
    Case("drop_table", DropTable("items", table=ITEMS), schema()),
]  # fmt: skip


async def read(db: ScratchDatabase, adapter: Adapter) -> Schema:
    return await SchemaReader(adapter, db.dialect, plugins=db.plugins).read_schema()


async def differences(db: ScratchDatabase, adapter: Adapter, model: Schema) -> list[str]:
    """What the comparator would still change to make the database match ``model``."""
    diff = SchemaComparator(db.dialect, detect_renames=False).compare(
        await read(db, adapter), model
    )
    return [op.describe() for op in diff.operations]


async def apply(db: ScratchDatabase, adapter: Adapter, *operations: Operation) -> None:
    statements = [sql for op in operations for sql in db.plugins.render_operation(op, db.dialect)]
    if db.dialect.capabilities.transactional_ddl:
        async with adapter.transaction():
            for sql in statements:
                await adapter.execute(sql)
    else:
        for sql in statements:
            await adapter.execute(sql)


async def create_with_rows(db: ScratchDatabase, adapter: Adapter, model: Schema) -> None:
    await apply(db, adapter, *(CreateTable(t) for t in model.tables.values()))
    await adapter.execute(f"INSERT INTO {db.q('owners')} ({db.q('id')}) VALUES (1)")
    names = ", ".join(db.q(c) for c in ("id", "name", "qty", "owner_id"))
    await adapter.executemany(
        f"INSERT INTO {db.q('items')} ({names}) VALUES ({db.p(4)})",
        [(i, f"n{i}", i, 1) for i in range(1, ROWS + 1)],
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
@asynctest
async def test_schema_operation_and_its_reverse(
    case: Case, covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    db, adapter = covet_database, covet_adapter
    requires_worker(db.dialect, "schema_reader", "the live schema cannot be read")
    if case.needs is not None:
        requires(db.dialect, case.needs, f"{case.id}: {WHY[case.needs]}")
    if isinstance(case.operation.reverse(), DropColumn):
        # The generator undoes it by rebuilding where there is no DROP COLUMN (the planned
        # test below); this one runs the plain reverse in place.
        requires(db.dialect, "drop_column", f"{case.id}: its reverse drops the column in place")
    await create_with_rows(db, adapter, case.before)
    assert await differences(db, adapter, case.before) == []
    await apply(db, adapter, case.operation)
    assert await differences(db, adapter, case.after) == [], case.operation.describe()
    if "items" in case.after.tables or "goods" in case.after.tables:
        table = db.q(next(name for name in case.after.tables if name != "owners"))
        assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {table}") == ROWS
    await apply(db, adapter, case.operation.reverse())
    assert await differences(db, adapter, case.before) == [], case.operation.reverse().describe()
    if not isinstance(case.operation, DropTable):  # a dropped table comes back empty
        assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {db.q('items')}") == ROWS


# Renames are planned only from hints (a drop and an add otherwise); flags with no fallback
# (no partial index, no enum type) make the comparator refuse, which is its own test.
NO_FALLBACK = ("partial_indexes", "enum_types")
PLANNED = [c for c in CASES if not isinstance(c.operation, RenameColumn | RenameTable)]


@pytest.mark.parametrize("case", PLANNED, ids=lambda case: case.id)
@asynctest
async def test_schema_planned_change_and_its_reverse(
    case: Case, covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    """What the comparator plans for each change, whatever it chooses (in place or a table
    rebuild where the dialect lacks the capability), applies and reads back as the model."""
    db, adapter = covet_database, covet_adapter
    requires_worker(db.dialect, "schema_reader", "the live schema cannot be read")
    if case.needs in NO_FALLBACK:
        requires(db.dialect, case.needs, f"{case.id}: {WHY[case.needs]}")
    await create_with_rows(db, adapter, case.before)
    for model in (case.after, case.before):
        diff = SchemaComparator(db.dialect, detect_renames=False).compare(
            await read(db, adapter), model
        )
        assert diff.has_changes()
        await apply(db, adapter, *diff.operations)
        assert await differences(db, adapter, model) == [], [
            op.describe() for op in diff.operations
        ]
    if not isinstance(case.operation, DropTable):  # a dropped table comes back empty
        assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {db.q('items')}") == ROWS


# V1 -> V2 is reversible on purpose (a narrowing or a drop would make the generated file
# one-way); the per-operation test covers those.
V1 = Schema.of([OWNERS, ITEMS.replace(foreign_keys=(ForeignKey("fk_items_owner", ("owner_id",), "owners", ("id",)),))])  # fmt: skip
V2 = Schema.of(
    [
        OWNERS.replace(columns=(*OWNERS.columns, Column("email", T("string", 120)))),
        V1.table("items").replace(
            columns=(
                *V1.table("items").columns,
                Column("active", T("boolean"), nullable=False, default="true"),
            ),
            indexes=(*ITEMS.indexes, Index("ix_items_qty_active", ("qty", "active"))),
        ),
        Table("tags", (Column("id", T("integer"), nullable=False), Column("label", T("string", 30))), primary_key=("id",)),
    ]
)  # fmt: skip


@asynctest
async def test_schema_models_generate_apply_and_read_back_unchanged(
    covet_database: ScratchDatabase, covet_adapter: Adapter, covet_migrations: Path
) -> None:
    db, adapter = covet_database, covet_adapter
    requires_worker(db.dialect, "schema_reader", "the live schema cannot be read")
    requires_worker(db.dialect, "renderer", "schema changes cannot be rendered")
    manager = db.manager(adapter, covet_migrations)
    generator = MigrationGenerator(db.dialect, covet_migrations)
    for label, model in (("initial", V1), ("evolve", V2)):
        diff = SchemaComparator(db.dialect).compare(await read(db, adapter), model)
        assert diff.has_changes()
        path = generator.generate_from_diff(diff, label)
        result = await manager.migrate_up()
        assert result["success"], f"{result['error']}\n{path.read_text()}"
        assert await differences(db, adapter, model) == [], path.read_text()
        if label == "initial":
            await create_rows_v1(db, adapter)
    assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {db.q('items')}") == ROWS
    active = db.q("active")
    assert await adapter.fetch_value(
        f"SELECT COUNT(*) FROM {db.q('items')} WHERE {active} = {db.p(1)}", (True,)
    ) == ROWS, "the new NOT NULL column got its default on every row"  # fmt: skip
    down = await manager.migrate_down()
    assert down["success"], down["error"]
    assert await differences(db, adapter, V1) == []
    assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {db.q('items')}") == ROWS
    assert (await manager.migrate_down())["success"]
    assert [t for t in (await read(db, adapter)).tables if not t.startswith("_covet")] == []


async def create_rows_v1(db: ScratchDatabase, adapter: Adapter) -> None:
    await adapter.execute(f"INSERT INTO {db.q('owners')} ({db.q('id')}) VALUES (1)")
    names = ", ".join(db.q(c) for c in ("id", "name", "qty", "owner_id"))
    await adapter.executemany(
        f"INSERT INTO {db.q('items')} ({names}) VALUES ({db.p(4)})",
        [(i, f"n{i}", i, 1) for i in range(1, ROWS + 1)],
    )


class CountingAdapter:
    """The adapter with the reader's queries counted."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter, self.queries = adapter, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.adapter, name)

    async def fetch_all(self, sql: str, params: Any = None) -> Any:
        self.queries += 1
        return await self.adapter.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Any = None) -> Any:
        self.queries += 1
        return await self.adapter.fetch_one(sql, params)

    async def fetch_value(self, sql: str, params: Any = None) -> Any:
        self.queries += 1
        return await self.adapter.fetch_value(sql, params)


@asynctest
async def test_schema_read_costs_the_same_queries_for_3_and_30_tables(
    covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    """A reader issues a constant number of catalog queries, never one (or more) per table."""
    db, adapter = covet_database, covet_adapter
    requires_worker(db.dialect, "schema_reader", "the live schema cannot be read")
    assert db.dialect.schema_reader is not None
    await apply(db, adapter, CreateTable(OWNERS))
    counts = []
    for total in (3, 30):
        for i in range(len((await read(db, adapter)).tables), total):
            await apply(db, adapter, CreateTable(ITEMS.replace(
                name=f"items{i}",
                indexes=(Index(f"ix_items{i}_name", ("name",)),),
                unique_constraints=(UniqueConstraint(f"uq_items{i}_qty", ("qty",)),),
                foreign_keys=(ForeignKey(f"fk_items{i}_owner", ("owner_id",), "owners", ("id",)),),
            )))  # fmt: skip
        counting = CountingAdapter(adapter)
        read_back = await db.dialect.schema_reader(counting).read(None)
        assert len(read_back.tables) == total
        counts.append(counting.queries)
    assert counts[0] == counts[1], f"queries for 3 and 30 tables: {counts}"
