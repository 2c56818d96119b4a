"""max_replica_lag where it cannot work is refused by name, never silently ignored."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import Result

from covet.database.migrations.data_migrations import (
    BulkDataMigration,
    DataMigrationError,
    ParallelDataMigration,
)
from covet_core.plugins import Plugins


async def _on_sqlite(tmp_path: Path, cls: type, **kw: object) -> None:
    adapter = Plugins.load().dialect("sqlite").adapter_from_url(f"sqlite:///{tmp_path}/r.db", None)
    await adapter.connect()
    try:
        await adapter.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INT)")
        await adapter.execute("INSERT INTO t VALUES (1, 0)")
        await cls(adapter, "t", **kw).execute()
    finally:
        await adapter.disconnect()


def test_a_dialect_that_cannot_read_replicas_refuses_the_setting(tmp_path: Path) -> None:
    with pytest.raises(DataMigrationError, match="dialect sqlite cannot read its replicas"):
        asyncio.run(_on_sqlite(tmp_path, BulkDataMigration, max_replica_lag=1.0))


def test_parallel_workers_refuse_it_too_where_replicas_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(DataMigrationError, match="dialect sqlite cannot read its replicas"):
        asyncio.run(_on_sqlite(tmp_path, ParallelDataMigration, max_replica_lag=1.0))


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf")])
def test_a_bad_value_is_refused(value: float) -> None:
    with pytest.raises(DataMigrationError, match="max_replica_lag must be a finite number"):
        adapter = Plugins.load().dialect("sqlite").adapter_factory(path=":memory:")
        BulkDataMigration(adapter, "t", max_replica_lag=value)


def test_the_config_key_is_checked(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "covet.toml").write_text('database = "sqlite:///x.db"\nmax_replica_lag = -2\n')
    (tmp_path / "migrations").mkdir()
    result: Result = run("migrate", "status")
    assert result.exit_code == 2
    assert "max_replica_lag must be a finite number >= 0" in result.output
