"""The adapter contract: rows as mappings, the fetch helpers, transactions and savepoints,
errors translated into covet's own, and wrapping a connection the caller owns."""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import pytest

from covet_core.adapter import Adapter
from covet_core.errors import DatabaseError, IntegrityError
from covet_core.testing.support import ScratchDatabase, asynctest, requires

__all__ = [
    "test_adapter_errors_are_covet_database_errors",
    "test_adapter_nested_transaction_is_a_savepoint",
    "test_adapter_rows_are_mappings_and_fetch_helpers_agree",
    "test_adapter_transaction_commits_or_rolls_back",
    "test_adapter_unique_violation_is_an_integrity_error",
    "test_adapter_wraps_a_callers_connection",
]


async def people(db: ScratchDatabase, adapter: Adapter) -> str:
    """A ``people`` table with a unique name and two rows; returns its quoted name."""
    table = db.q("people")
    await adapter.execute(
        f"CREATE TABLE {table} ({db.q('id')} INTEGER PRIMARY KEY, "
        f"{db.q('name')} VARCHAR(50) NOT NULL UNIQUE, {db.q('age')} INTEGER)"
    )
    await adapter.executemany(
        f"INSERT INTO {table} ({db.q('id')}, {db.q('name')}, {db.q('age')}) VALUES ({db.p(3)})",
        [(1, "ada", 36), (2, "grace", None)],
    )
    return table


@asynctest
async def test_adapter_rows_are_mappings_and_fetch_helpers_agree(
    covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    db, adapter = covet_database, covet_adapter
    table = await people(db, adapter)
    rows = await adapter.fetch_all(f"SELECT id, name, age FROM {table} ORDER BY id")
    assert all(isinstance(row, Mapping) for row in rows)
    assert [dict(row) for row in rows] == [
        {"id": 1, "name": "ada", "age": 36},
        {"id": 2, "name": "grace", "age": None},
    ]
    one = await adapter.fetch_one(f"SELECT name FROM {table} WHERE id = {db.p(1)}", (2,))
    assert one is not None and one["name"] == "grace"
    assert await adapter.fetch_one(f"SELECT name FROM {table} WHERE id = {db.p(1)}", (9,)) is None
    assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {table}") == 2
    assert await adapter.fetch_value(f"SELECT age FROM {table} WHERE id = {db.p(1)}", (9,)) is None
    changed = await adapter.execute(f"UPDATE {table} SET age = {db.p(1)}", (40,))
    assert changed in (2, -1), "execute returns the rows changed, or -1 when unknown"
    assert await adapter.fetch_all(f"SELECT id FROM {table} WHERE id > {db.p(1)}", (5,)) == []


@asynctest
async def test_adapter_transaction_commits_or_rolls_back(
    covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    db, adapter = covet_database, covet_adapter
    table = await people(db, adapter)
    assert not adapter.in_transaction
    async with adapter.transaction():
        assert adapter.in_transaction
        await adapter.execute(f"DELETE FROM {table} WHERE id = 1")
    assert not adapter.in_transaction
    with pytest.raises(RuntimeError, match="undo"):
        async with adapter.transaction():
            await adapter.execute(f"DELETE FROM {table}")
            raise RuntimeError("undo")
    assert not adapter.in_transaction
    assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {table}") == 1, "rolled back"
    # Another session sees only what was committed.
    other = db.new_adapter()
    await other.connect()
    try:
        assert await other.fetch_value(f"SELECT name FROM {table}") == "grace"
    finally:
        await other.disconnect()


@asynctest
async def test_adapter_nested_transaction_is_a_savepoint(
    covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    db, adapter = covet_database, covet_adapter
    requires(db.dialect, "savepoints", "a nested transaction() joins the outer one")
    table = await people(db, adapter)
    async with adapter.transaction():
        await adapter.execute(f"DELETE FROM {table} WHERE id = 1")
        with pytest.raises(RuntimeError):
            async with adapter.transaction():
                await adapter.execute(f"DELETE FROM {table} WHERE id = 2")
                raise RuntimeError("inner only")
        assert adapter.in_transaction, "the outer transaction survives the inner failure"
        assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {table}") == 1
    assert await adapter.fetch_value(f"SELECT name FROM {table}") == "grace"


@asynctest
async def test_adapter_errors_are_covet_database_errors(
    covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    adapter = covet_adapter
    with pytest.raises(DatabaseError) as caught:
        await adapter.execute(f"SELECT * FROM {covet_database.q('no_such_table')}")
    assert not isinstance(caught.value, IntegrityError)
    assert "no_such_table" in str(caught.value)
    # The connection is still usable after a failed statement.
    assert await adapter.fetch_value("SELECT 1") == 1


@asynctest
async def test_adapter_unique_violation_is_an_integrity_error(
    covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    db, adapter = covet_database, covet_adapter
    table = await people(db, adapter)
    insert = f"INSERT INTO {table} ({db.q('id')}, {db.q('name')}) VALUES ({db.p(2)})"
    with pytest.raises(IntegrityError):
        await adapter.execute(insert, (3, "ada"))
    with pytest.raises(IntegrityError):
        async with adapter.transaction():
            await adapter.execute(insert, (1, "someone"))  # the primary key, this time
    await adapter.execute(insert, (3, "edsger"))
    assert await adapter.fetch_value(f"SELECT COUNT(*) FROM {table}") == 3


@asynctest
async def test_adapter_wraps_a_callers_connection(
    covet_database: ScratchDatabase, covet_adapter: Adapter
) -> None:
    db, owner = covet_database, covet_adapter
    if "connection" not in inspect.signature(db.dialect.adapter_factory).parameters:
        # The built-ins' factories take **kwargs: ask the adapter class itself then.
        factory_sig = inspect.signature(type(owner))
        if "connection" not in factory_sig.parameters:
            pytest.skip(f"{db.dialect.name} declares no connection= in its adapter_factory")
    raw = getattr(owner, "connection", None)
    if raw is None:
        pytest.skip(f"{db.dialect.name}'s adapter exposes no .connection to wrap")
    table = await people(db, owner)
    wrapped = db.dialect.adapter_factory(connection=raw)
    await wrapped.connect()
    async with wrapped.transaction():
        await wrapped.execute(f"DELETE FROM {table} WHERE id = 1")
    await wrapped.disconnect()
    # The caller's connection stays open and saw the wrapped adapter's committed work.
    assert await owner.fetch_value(f"SELECT COUNT(*) FROM {table}") == 1
    assert not owner.in_transaction
