"""Models -> generated migration -> DuckDB file -> read back -> no change left, and evolution."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from covet_dialect_duckdb.adapter import DuckDBAdapter

from covet_core.dialect import Dialect
from covet_core.errors import ConfigError, IntegrityError
from covet_core.manager import MigrationManager
from covet_core.models import ModelSchemaReader
from covet_core.schema import Schema
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader

pytest_plugins = ["duckdb_support"]

V1 = """
from covet_core.models import *


class Account(Model):
    __tablename__ = "accounts"
    __comment__ = "who pays"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    email = Column(String(255), nullable=False, unique=True)
    name = Column(String(100), comment="as they write it")
    balance = Column(Numeric(12, 2), nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, server_default="CURRENT_TIMESTAMP")
    seen_at = Column(DateTime(timezone=True))
    notes = Column(Text)
    ratio = Column(Float)
    small = Column(SmallInteger, default=7)
    birthday = Column(Date)
    mood = Column(Enum("happy", "it's fine"))
    payload = Column(JSON)
    legacy = Column(Integer)
    __checks__ = [Check("balance >= 0", name="balance_positive")]
    __indexes__ = [Index("name", "active")]


class Purchase(Model):
    __tablename__ = "purchases"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    account_id = Column(BigInteger, ForeignKey("accounts.id"), nullable=False)
    total = Column(Numeric(10, 2), nullable=False)
    status = Column(String(20), nullable=False, default="new")
    __unique__ = [Unique("account_id", "id")]
"""

# Changes to a table nothing references: add (nullable, NOT NULL with a default), widen,
# NULL allowed, new default, drop, rename, index / unique / check added and dropped, a new
# table and a dropped one. DuckDB alters none of it in place once the table has an index,
# so covet rebuilds the table.
V2 = """
from covet_core.models import *


class Account(Model):
    __tablename__ = "accounts"
    __comment__ = "who pays"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    email = Column(String(255), nullable=False, unique=True)
    name = Column(String(100), comment="as they write it")
    balance = Column(Numeric(12, 2), nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, server_default="CURRENT_TIMESTAMP")
    seen_at = Column(DateTime(timezone=True))
    notes = Column(Text)
    ratio = Column(Float)
    small = Column(SmallInteger, default=7)
    birthday = Column(Date)
    mood = Column(Enum("happy", "it's fine"))
    payload = Column(JSON)
    legacy = Column(Integer)
    __checks__ = [Check("balance >= 0", name="balance_positive")]
    __indexes__ = [Index("name", "active")]


class Coupon(Model):
    __tablename__ = "coupons"
    code = Column(String(20), primary_key=True)
    percent = Column(Integer, nullable=False)


class Purchase(Model):
    __tablename__ = "purchases"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    account_id = Column(BigInteger, ForeignKey("accounts.id"), nullable=False)
    amount = Column(Numeric(14, 2), comment="paid, in euro")
    status = Column(String(20), nullable=False, default="open")
    country = Column(String(2), nullable=False, default="NL")
    referrer = Column(String(50), index=True)
    __checks__ = [Check("amount > 0", name="amount_positive")]
"""


def load_models(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> Schema:
    name = f"duckdb_models_{abs(hash(source))}"
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return ModelSchemaReader([importlib.import_module(name)]).read_schema()


async def read(adapter: Any, dialect: Dialect) -> Schema:
    return await SchemaReader(adapter, dialect).read_schema()


def changes(current: Schema, target: Schema, dialect: Dialect, **kwargs: Any) -> list[str]:
    diff = SchemaComparator(dialect, **kwargs).compare(current, target)
    return [op.describe() for op in diff.operations]


async def generate_and_apply(
    adapter: Any, dialect: Dialect, manager: MigrationManager, models: Schema, name: str, **kw: Any
) -> Path:
    current = await read(adapter, dialect)
    diff = SchemaComparator(dialect, **kw).compare(current, models)
    assert diff.has_changes()
    path = MigrationGenerator(dialect, manager.migrations_dir).generate_from_diff(diff, name)
    result = await manager.migrate_up()
    assert result["success"], f"{result['error']}\n{path.read_text()}"
    return path


async def test_models_to_duckdb_and_back_is_no_change(
    adapter: DuckDBAdapter, dialect: Dialect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = load_models(tmp_path, V1, monkeypatch)
    manager = MigrationManager(adapter, dialect, tmp_path / "migrations")
    await generate_and_apply(adapter, dialect, manager, models, "initial")
    live = await read(adapter, dialect)
    assert changes(live, models, dialect) == []
    accounts = live.table("accounts")
    assert accounts.column("id").autoincrement
    assert accounts.column("mood").type.values == ("happy", "it's fine")
    assert [i.name for i in accounts.indexes] == ["ix_accounts_name_active"]
    assert accounts.comment == "who pays"
    assert accounts.column("name").comment == "as they write it"
    # The sequence behind the auto-increment key numbers rows, and the FK is enforced.
    await adapter.execute("INSERT INTO accounts (email) VALUES ('a@x'), ('b@x')")
    assert await adapter.fetch_value("SELECT max(id) FROM accounts") == 2
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await adapter.execute("INSERT INTO purchases (account_id, total) VALUES (99, 1)")
    await adapter.execute("DELETE FROM accounts")
    down = await manager.migrate_down()
    assert down["success"], down["error"]
    assert (await read(adapter, dialect)).tables == {}
    sequences = await adapter.fetch_all("SELECT sequence_name FROM duckdb_sequences()")
    assert sequences == []


async def test_every_kind_of_change_rebuilds_keeps_rows_and_reads_back_clean(
    adapter: DuckDBAdapter, dialect: Dialect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = load_models(tmp_path, V1, monkeypatch)
    v2 = load_models(tmp_path, V2, monkeypatch)
    manager = MigrationManager(adapter, dialect, tmp_path / "migrations")
    await generate_and_apply(adapter, dialect, manager, v1, "initial")
    await adapter.executemany(
        "INSERT INTO accounts (email, name, legacy) VALUES (?, ?, ?)",
        [(f"a{i}@example.com", f"Name {i}", i) for i in range(1, 51)],
    )
    await adapter.executemany(
        "INSERT INTO purchases (account_id, total) VALUES (?, ?)",
        [(i, i * 1.5) for i in range(1, 51)],
    )
    renames = ["purchases.total:amount"]
    planned = " ".join(changes(await read(adapter, dialect), v2, dialect, renames=renames))
    assert "rebuild table purchases" in planned
    assert "rename column purchases.total to amount" in planned
    await generate_and_apply(adapter, dialect, manager, v2, "evolve", renames=renames)
    live = await read(adapter, dialect)
    assert changes(live, v2, dialect) == []
    assert live.table("purchases").column("amount").comment == "paid, in euro"  # rebuilt with it
    assert await adapter.fetch_value("SELECT count(*) FROM purchases") == 50
    assert await adapter.fetch_value("SELECT amount FROM purchases WHERE id = 4") == 6
    assert await adapter.fetch_value("SELECT count(*) FROM purchases WHERE country = 'NL'") == 50
    # The key's sequence survived the rebuild: new rows do not reuse ids.
    await adapter.execute("INSERT INTO purchases (account_id, amount) VALUES (1, 2)")
    assert await adapter.fetch_value("SELECT max(id) FROM purchases") == 51
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        await adapter.execute("INSERT INTO purchases (account_id, amount) VALUES (1, -2)")
    # Narrowing amount back and NOT NULL again could lose data: the generator says so.
    refused = await manager.migrate_down()
    assert not refused["success"] and "cannot be rolled back" in refused["error"]


async def test_rebuilding_a_referenced_table_fails_whole_and_changes_nothing(
    adapter: DuckDBAdapter, dialect: Dialect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = load_models(tmp_path, V1, monkeypatch)
    manager = MigrationManager(adapter, dialect, tmp_path / "migrations")
    await generate_and_apply(adapter, dialect, manager, v1, "initial")
    await adapter.execute("INSERT INTO accounts (email, legacy) VALUES ('a@x', 1)")
    without_legacy = load_models(
        tmp_path, V1.replace("    legacy = Column(Integer)\n", ""), monkeypatch
    )
    diff = SchemaComparator(dialect).compare(await read(adapter, dialect), without_legacy)
    MigrationGenerator(dialect, manager.migrations_dir).generate_from_diff(diff, "drop_legacy")
    result = await manager.migrate_up()
    # DuckDB will not drop a table another table's foreign key references.
    assert not result["success"]
    assert 'DROP TABLE "accounts"' in result["error"]
    assert "Nothing of it was kept" in result["error"]
    assert await adapter.fetch_value("SELECT legacy FROM accounts") == 1
    assert changes(await read(adapter, dialect), v1, dialect) == []


async def test_what_duckdb_cannot_express_is_refused_by_name(
    adapter: DuckDBAdapter, dialect: Dialect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cascade = V1.replace(
        'ForeignKey("accounts.id")', 'ForeignKey("accounts.id", on_delete="CASCADE")'
    )
    models = load_models(tmp_path, cascade, monkeypatch)
    diff = SchemaComparator(dialect).compare(await read(adapter, dialect), models)
    with pytest.raises(ConfigError, match="DuckDB foreign keys take no ON DELETE CASCADE"):
        MigrationGenerator(dialect, tmp_path / "migrations").generate_from_diff(diff, "x")


async def test_the_reader_sees_every_kind_of_object_in_six_queries(
    adapter: DuckDBAdapter, dialect: Dialect
) -> None:
    for statement in [
        "CREATE SCHEMA sales",
        "CREATE SEQUENCE sales.orders_id_seq",
        "CREATE SEQUENCE sales.invoice_numbers",
        "CREATE TABLE sales.orders (id INTEGER PRIMARY KEY DEFAULT nextval('sales.orders_id_seq'), "
        "num BIGINT DEFAULT nextval('sales.invoice_numbers'), ref UUID UNIQUE, raw BLOB, due TIME, ratio REAL, big HUGEINT, tags VARCHAR[], "
        "note VARCHAR DEFAULT 'it''s', CHECK (ratio > 0 AND ratio < 1))",
        "CREATE INDEX ix_orders_expr ON sales.orders (lower(note))",
        "CREATE VIEW sales.recent AS SELECT id FROM sales.orders",
        "COMMENT ON TABLE sales.orders IS 'all orders'",
        "COMMENT ON COLUMN sales.orders.note IS 'free text'",
    ]:
        await adapter.execute(statement)
    queries: list[str] = []
    fetch_all = adapter.fetch_all

    async def counting(sql: str, params: Any = None) -> Any:
        queries.append(sql)
        return await fetch_all(sql, params)

    adapter.fetch_all = counting  # type: ignore[method-assign]
    schema = await SchemaReader(adapter, dialect, schemas=["sales"]).read_schema()
    assert len(queries) == 6
    orders = schema.table("orders", "sales")
    assert orders.comment == "all orders"
    assert orders.column("note").comment == "free text"
    assert orders.column("note").default == "'it''s'"
    assert orders.column("id").autoincrement  # <table>_<column>_seq: this plugin's naming
    assert orders.column("id").default is None
    assert not orders.column("num").autoincrement  # any other sequence is a plain default
    assert orders.column("num").default == "nextval('sales.invoice_numbers')"
    assert [str(c.type) for c in orders.columns] == [
        "integer", "bigint", "uuid", "binary", "time", "real", "hugeint", "varchar[]", "text",
    ]  # fmt: skip
    assert [u.columns for u in orders.unique_constraints] == [("ref",)]
    assert [c.expression for c in orders.check_constraints] == ["(ratio > 0) AND (ratio < 1)"]
    assert [(i.name, i.expression) for i in orders.indexes] == [("ix_orders_expr", "(lower(note))")]
    assert sorted(map(str, schema.ignored)) == [
        "sequence sales.invoice_numbers",
        "view sales.recent",
    ]
    # The normaliser is idempotent on what the reader returns.
    once = dialect.schema_normaliser(schema)  # type: ignore[misc]
    assert dialect.schema_normaliser(once) == once  # type: ignore[misc]
