"""max_replica_lag where it cannot work is refused by name, never silently ignored."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest
from click.testing import Result

from covet.database.migrations.data_migrations import (
    BulkDataMigration,
    DataMigrationError,
    ParallelDataMigration,
)
from covet_core.data.progress import Progress, throttle_fields
from covet_core.data.throttle import ReplicaState, ReplicaThrottle
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


class _SaysBehind:
    """A source whose replica reports its own lag (a chained MySQL replica): stopped (NULL,
    infinitely behind) for the first ``stopped`` reads, then caught up."""

    def __init__(self, stopped: int) -> None:
        self.stopped, self.reads = stopped, 0

    async def position(self) -> int:
        return 0

    async def replicas(self) -> list[ReplicaState]:
        self.reads += 1
        behind = math.inf if self.reads <= self.stopped else 0.0
        return [ReplicaState("chained:3306", behind=behind)]


async def test_a_replica_that_reports_itself_stopped_is_waited_for() -> None:
    source = _SaysBehind(stopped=3)
    throttle = ReplicaThrottle(source, max_lag=0.1)  # polls every 0.05 s
    progress, reports = Progress(total_rows=10), []

    async def report() -> None:
        reports.append(progress.replica_lag)

    await throttle.wait(progress, report)
    assert source.reads == 4 and reports == [math.inf] * 3
    assert progress.throttled_seconds > 0
    assert throttle_fields(progress)["replica_lag"] == "stopped"  # JSON has no infinity


async def test_a_replica_within_its_own_reported_lag_is_not_waited_for() -> None:
    source = _SaysBehind(stopped=0)
    progress = Progress(total_rows=10)
    await ReplicaThrottle(source, max_lag=5).wait(progress, _nothing)
    assert source.reads == 1 and progress.throttled_seconds == 0
    assert throttle_fields(progress) == {}


async def _nothing() -> None:
    return None


def test_a_replica_state_has_a_position_or_a_lag_not_both() -> None:
    with pytest.raises(ValueError, match="either applied or behind"):
        ReplicaState("r", applied=1, behind=1.0)
    with pytest.raises(ValueError, match="either applied or behind"):
        ReplicaState("r")
