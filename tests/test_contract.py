"""The dialect contract: every capability flag changes what covet does, and a dialect reuses
another's renderer by subclassing it, not by name.

Each test flips one flag on a built-in dialect (``dataclasses.replace``) and checks the core's
behaviour follows. ``test_every_capability_is_read_and_tested`` fails when a flag is added
that the core never reads or no test here flips.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import re
from pathlib import Path

import pytest
from conftest import write_migration

from covet_core.dialect import Capabilities, Dialect
from covet_core.errors import ConfigError
from covet_core.manager import MigrationManager
from covet_core.models import (
    Column,
    DateTime,
    Enum,
    Index,
    Integer,
    Model,
    ModelSchemaReader,
    String,
)
from covet_core.plugins import Plugins
from covet_core.schema import (
    AddColumn,
    AlterColumn,
    CreateEnum,
    CreateIndex,
    DropColumn,
    RebuildTable,
    RenameColumn,
    Schema,
)
from covet_core.schema.comparator import SchemaComparator

ROOT = Path(__file__).resolve().parents[1]


def flipped(name: str, **flags: object) -> Dialect:
    dialect = Plugins.load().dialect(name)
    return dataclasses.replace(
        dialect, capabilities=dataclasses.replace(dialect.capabilities, **flags)
    )


class Before(Model):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    code = Column(String(10))
    old_name = Column(String(20))


class After(Model):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    code = Column(String(40))
    new_name = Column(String(20))
    qty = Column(Integer, nullable=False, default=0)


def kinds(dialect: Dialect, before: type[Model], after: type[Model], **kw: object) -> list[type]:
    current = ModelSchemaReader([before]).read_schema()
    target = ModelSchemaReader([after]).read_schema()
    diff = SchemaComparator(dialect, **kw).compare(current, target)
    return [type(op) for op in diff.operations]


def test_alter_column_drop_column_and_rename_column_decide_between_alter_and_rebuild() -> None:
    renames = {"renames": ["items.old_name:new_name"]}
    assert kinds(flipped("postgresql"), Before, After, **renames) == [
        RenameColumn,
        AddColumn,
        AlterColumn,
    ]
    rebuilt = [RebuildTable]
    assert kinds(flipped("postgresql", alter_column=False), Before, After, **renames) == rebuilt
    assert kinds(flipped("postgresql", rename_column=False), Before, After, **renames) == rebuilt

    class Dropped(Model):
        __tablename__ = "items"
        id = Column(Integer, primary_key=True)
        code = Column(String(10))

    assert kinds(flipped("postgresql"), Before, Dropped) == [DropColumn]
    assert kinds(flipped("postgresql", drop_column=False), Before, Dropped) == [RebuildTable]


def test_add_column_any_default_is_sqlites_add_column_rule() -> None:
    class Plain(Model):
        __tablename__ = "items"
        id = Column(Integer, primary_key=True)
        code = Column(String(10))
        old_name = Column(String(20))
        note = Column(String(20))

    class Counted(Plain):
        __tablename__ = "items"
        qty = Column(Integer, nullable=False, default=0)

    class Stamped(Plain):
        __tablename__ = "items"
        seen = Column(DateTime, server_default="CURRENT_TIMESTAMP")

    sqlite = Plugins.load().dialect("sqlite")
    assert not sqlite.capabilities.add_column_any_default
    assert kinds(sqlite, Before, Plain) == [AddColumn]  # nullable, no default: in place
    assert kinds(sqlite, Plain, Counted) == [AddColumn]  # a constant default: in place
    assert kinds(sqlite, Plain, Stamped) == [RebuildTable]  # SQLite refuses the current time
    assert kinds(flipped("sqlite", add_column_any_default=True), Plain, Stamped) == [AddColumn]
    assert kinds(flipped("postgresql", add_column_any_default=False), Plain, Stamped) == [
        RebuildTable
    ]


def test_add_column_not_null_false_rebuilds_for_a_not_null_column() -> None:
    class Plain(Model):
        __tablename__ = "items"
        id = Column(Integer, primary_key=True)
        code = Column(String(10))
        old_name = Column(String(20))
        note = Column(String(20))

    class Counted(Plain):
        __tablename__ = "items"
        qty = Column(Integer, nullable=False, default=0)

    assert kinds(flipped("postgresql"), Plain, Counted) == [AddColumn]
    no_not_null = flipped("postgresql", add_column_not_null=False)
    assert kinds(no_not_null, Plain, Counted) == [RebuildTable]
    assert kinds(no_not_null, Before, Plain) == [AddColumn]  # a nullable column: in place


def test_alter_constraint_false_rebuilds_for_a_new_index_constraint() -> None:
    class Checked(Model):
        __tablename__ = "items"
        id = Column(Integer, primary_key=True)
        code = Column(String(10), unique=True)
        old_name = Column(String(20))

    assert RebuildTable not in kinds(flipped("postgresql"), Before, Checked)
    assert kinds(flipped("postgresql", alter_constraint=False), Before, Checked) == [RebuildTable]


def test_enum_types_decide_between_a_named_type_and_an_inline_enum() -> None:
    class Post(Model):
        __tablename__ = "posts"
        id = Column(Integer, primary_key=True)
        state = Column(Enum("draft", "published", name="post_state"))

    def creates_enum(dialect: Dialect) -> bool:
        diff = SchemaComparator(dialect).compare(Schema(), ModelSchemaReader([Post]).read_schema())
        return any(isinstance(op, CreateEnum) for op in diff.operations)

    assert creates_enum(flipped("postgresql"))
    assert not creates_enum(flipped("postgresql", enum_types=False))


def test_partial_indexes_false_refuses_the_index_by_name() -> None:
    class Published(Model):
        __tablename__ = "posts"
        id = Column(Integer, primary_key=True)
        state = Column(String(10))
        __indexes__ = [Index("state", where="state = 'published'", name="ix_live")]

    target = ModelSchemaReader([Published]).read_schema()
    ops = SchemaComparator(flipped("sqlite")).compare(Schema(), target).operations
    assert any(isinstance(op, CreateIndex) and op.index.where for op in ops) or ops
    with pytest.raises(ConfigError, match="no partial indexes: index ix_live on posts"):
        SchemaComparator(flipped("sqlite", partial_indexes=False)).compare(Schema(), target)


def test_max_identifier_bytes_shortens_generated_names_stably() -> None:
    class Long(Model):
        __tablename__ = "a_rather_long_table_name"
        id = Column(Integer, primary_key=True)
        some_long_column_name = Column(String(10), index=True)

    target = ModelSchemaReader([Long]).read_schema()
    names = []
    for _ in range(2):
        ops = SchemaComparator(flipped("sqlite", max_identifier_bytes=24)).compare(Schema(), target)
        table = ops.operations[0].table  # type: ignore[attr-defined]
        names.append([i.name for i in table.indexes] + [table.primary_key_name])
    assert names[0] == names[1]  # stable
    assert all(len(n.encode()) <= 24 for n in names[0])
    assert names[0][0].startswith("ix_a_rather_")


def test_transactional_ddl_false_runs_statement_by_statement_and_records_partial(
    tmp_path: Path,
) -> None:
    """SQLite told it has no transactional DDL keeps the first statement of a failed migration
    and records exactly how far it got, as covet does on MySQL."""
    folder = tmp_path / "m"
    folder.mkdir()
    write_migration(
        folder,
        "2024_01_01_000000_two",
        ["CREATE TABLE kept (id INTEGER)", "CREATE TABLE kept (id INTEGER)"],
        ["DROP TABLE kept"],
    )

    async def go(dialect: Dialect) -> tuple[str, bool]:
        adapter = dialect.adapter_from_url(f"sqlite:///{tmp_path / (dialect.name + '.db')}", None)
        await adapter.connect()
        try:
            result = await MigrationManager(adapter, dialect, folder).migrate_up()
            assert not result["success"]
            [status] = await MigrationManager(adapter, dialect, folder).get_status()
            stmt = dialect.table_exists_sql("kept")
            return status.state, await adapter.fetch_one(stmt.text, stmt.params) is not None
        finally:
            await adapter.disconnect()

    assert asyncio.run(go(flipped("sqlite"))) == ("pending", False)
    assert asyncio.run(go(flipped("sqlite", transactional_ddl=False))) == ("partial", True)


def test_a_postgresql_compatible_dialect_subclasses_the_renderer() -> None:
    """No name check stands between a compatible dialect and PostgreSQL's renderer."""
    from covet_dialect_postgresql import quote
    from covet_dialect_postgresql.render import PostgreSQLRenderer

    class CockroachRenderer(PostgreSQLRenderer):
        table_options = " -- cockroach"

    postgresql = Plugins.load().dialect("postgresql")
    cockroach = dataclasses.replace(
        postgresql, name="cockroach", renderer=lambda: CockroachRenderer(quote)
    )
    target = ModelSchemaReader([Before]).read_schema()
    diff = SchemaComparator(cockroach).compare(Schema(), target)
    [sql] = Plugins.load().render_operation(diff.operations[0], cockroach)
    assert sql.startswith('CREATE TABLE "items"') and sql.endswith("-- cockroach")


def _flags() -> list[str]:
    return [f.name for f in dataclasses.fields(Capabilities)]


def test_every_capability_is_read_and_tested() -> None:
    """A flag the core never reads is a promise nobody keeps; one no test flips is untested."""
    core = "\n".join(
        p.read_text()
        for p in (ROOT / "covet_core").rglob("*.py")
        if p.name != "dialect.py" and "testing" not in p.parts
    )
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    for flag in _flags():
        assert re.search(rf"\b(caps|capabilities)\.{flag}\b", core), f"{flag} is read by nothing"
        assert re.search(rf"\b{flag}=", tests), f"no test flips {flag}"


def test_capability_flags_are_documented() -> None:
    hooks = (ROOT / "docs" / "hooks.md").read_text()
    for flag in _flags():
        assert f"`{flag}`" in hooks, flag
    tree = ast.parse((ROOT / "covet_core" / "dialect.py").read_text())
    caps = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Capabilities")
    documented = {
        stmt.target.id
        for stmt, after in zip(caps.body, caps.body[1:], strict=False)
        if isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and isinstance(after, ast.Expr)
    }
    assert set(_flags()) <= documented, set(_flags()) - documented


def test_skip_locked_decides_how_parallel_workers_claim_chunks(tmp_path: Path) -> None:
    """SQLite told it has SKIP LOCKED sends it (and fails); without it, the claim works."""
    from covet.database.migrations.data_migrations import ParallelDataMigration

    class Bump(ParallelDataMigration):
        async def transform_batch(self, rows, adapter):  # type: ignore[no-untyped-def]
            for row in rows:
                row["n"] += 1
            return rows

    async def go(dialect: Dialect) -> int:
        adapter = dialect.adapter_from_url(f"sqlite:///{tmp_path / 'p.db'}", None)
        await adapter.connect()
        try:
            await adapter.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, n INT)")
            await adapter.execute("DELETE FROM t")
            await adapter.executemany("INSERT INTO t VALUES (?, 0)", [(i,) for i in range(1, 41)])
            migration = Bump(adapter=adapter, table_name="t", batch_size=10, max_workers=2)
            migration.dialect = dialect
            await migration.execute()
            return int(await adapter.fetch_value("SELECT SUM(n) FROM t"))
        finally:
            await adapter.disconnect()

    assert asyncio.run(go(flipped("sqlite"))) == 40
    with pytest.raises(Exception, match=r"(?i)syntax|near"):
        asyncio.run(go(flipped("sqlite", skip_locked=True)))


def test_savepoints_false_refuses_retries_inside_a_callers_transaction(tmp_path: Path) -> None:
    """With savepoints a failed batch inside the caller's transaction is undone alone and
    retried; without them covet refuses rather than retry over an undone outer transaction."""
    from covet.database.migrations.data_migrations import DataMigration, DataMigrationError

    class FlakyOnce(DataMigration):
        failed = False

        async def transform_batch(self, rows, adapter):  # type: ignore[no-untyped-def]
            for row in rows:
                row["n"] += 1
            if rows[0]["id"] == 11 and not FlakyOnce.failed:
                FlakyOnce.failed = True
                await adapter.execute("INSERT INTO t VALUES (1, 0)")  # duplicate key: fails
            return rows

    async def go(dialect: Dialect) -> int:
        FlakyOnce.failed = False
        adapter = dialect.adapter_from_url(f"sqlite:///{tmp_path / 's.db'}", None)
        await adapter.connect()
        try:
            await adapter.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, n INT)")
            await adapter.execute("DELETE FROM t")
            await adapter.executemany("INSERT INTO t VALUES (?, 0)", [(i,) for i in range(1, 31)])
            async with adapter.transaction():
                assert adapter.in_transaction
                migration = FlakyOnce(adapter, "t", batch_size=10, retries=1)
                migration.dialect = dialect
                await migration.execute()
            return int(await adapter.fetch_value("SELECT SUM(n) FROM t"))
        finally:
            await adapter.disconnect()

    assert asyncio.run(go(flipped("sqlite"))) == 30  # the failed batch retried once, alone
    with pytest.raises(DataMigrationError, match="has no savepoints"):
        asyncio.run(go(flipped("sqlite", savepoints=False)))


def test_drop_column_false_undoes_an_added_column_by_rebuilding(tmp_path: Path) -> None:
    """The reverse of an in-place ADD COLUMN is planned by capability too: where the dialect
    cannot drop a column, ``down`` rebuilds the table as it was, and it really runs."""
    from covet_core.schema.generator import MigrationGenerator
    from covet_core.schema.reader import SchemaReader

    class Plain(Model):
        __tablename__ = "items"
        id = Column(Integer, primary_key=True)
        code = Column(String(10))

    class Noted(Plain):
        __tablename__ = "items"
        note = Column(String(20))

    async def go(dialect: Dialect, db: str) -> list[str]:
        diff = SchemaComparator(dialect).compare(
            ModelSchemaReader([Plain]).read_schema(), ModelSchemaReader([Noted]).read_schema()
        )
        assert [type(op) for op in diff.operations] == [AddColumn]
        backward = MigrationGenerator(dialect, tmp_path).render(diff.operations).backward
        adapter = dialect.adapter_from_url(f"sqlite:///{tmp_path / db}", None)
        await adapter.connect()
        try:
            await adapter.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, code VARCHAR(10))")
            await adapter.execute("INSERT INTO items VALUES (1, 'a')")
            for sql in MigrationGenerator(dialect, tmp_path).render(diff.operations).forward:
                await adapter.execute(sql)
            for sql in backward:
                await adapter.execute(sql)
            schema = await SchemaReader(adapter, dialect).read_schema()
            assert [c.name for c in schema.tables["items"].columns] == ["id", "code"]
            assert await adapter.fetch_all("SELECT * FROM items") == [{"id": 1, "code": "a"}]
        finally:
            await adapter.disconnect()
        return backward

    assert any("DROP COLUMN" in sql for sql in asyncio.run(go(flipped("sqlite"), "a.db")))
    rebuilt = asyncio.run(go(flipped("sqlite", drop_column=False), "b.db"))
    assert not any("DROP COLUMN" in sql for sql in rebuilt)
    assert any(sql.startswith("CREATE TABLE") for sql in rebuilt)
