"""MigrationManager behaviour against every real database (the ``target`` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Target, write_migration

from covet.database.migrations import MigrationManager
from covet_core import hookimpl
from covet_core.errors import HistoryError

A = "2024_01_01_000000_create_a"
B = "2024_01_02_000000_create_b"
C = "2024_01_03_000000_create_c"


def three(directory: Path) -> None:
    for name, table in ((A, "a"), (B, "b"), (C, "c")):
        write_migration(
            directory,
            name,
            [f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"],
            [f"DROP TABLE {table}"],
        )


def manager_for(adapter: Any, target: Target, directory: Path, **kwargs: Any) -> MigrationManager:
    return MigrationManager(adapter, target.name, directory, **kwargs)


async def test_up_applies_in_order_and_records_history(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up()
    assert result["success"], result["error"]
    assert result["applied"] == [A, B, C]
    assert result["error"] is None and result["duration"] >= 0
    for table in "abc":
        assert await target.table_exists(adapter, table)
    rows = await adapter.fetch_all(
        "SELECT name, checksum, state, applied_by, execution_order FROM _covet_migrations "
        "ORDER BY execution_order"
    )
    assert [r["name"] for r in rows] == [A, B, C]
    assert [r["execution_order"] for r in rows] == [1, 2, 3]
    assert all(r["state"] == "applied" and r["checksum"].startswith("sha256:1:") for r in rows)
    assert all("@" in r["applied_by"] for r in rows)
    again = await manager.migrate_up()
    assert again["success"] and again["applied"] == []


async def test_status_reports_applied_and_pending(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    await manager.migrate_up(target=A)
    status = await manager.get_status()
    assert [(s.name, s.applied, s.state) for s in status] == [
        (A, True, "applied"),
        (B, False, "pending"),
        (C, False, "pending"),
    ]
    assert status[0].applied_at is not None and status[0].applied_at.tzinfo is not None
    assert status[1].applied_at is None


async def test_target_applies_up_to_and_including_it(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up(target=B)
    assert result["applied"] == [A, B]
    assert not await target.table_exists(adapter, "c")
    unknown = await manager.migrate_up(target="2030_01_01_000000_nope")
    assert not unknown["success"] and "unknown target" in unknown["error"]
    assert not await target.table_exists(adapter, "c")


async def test_dry_run_returns_sql_and_changes_nothing(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up(dry_run=True)
    assert result["success"] and result["dry_run"]
    assert result["applied"] == [A, B, C]
    assert result["sql"] == [
        "CREATE TABLE a (id INTEGER PRIMARY KEY)",
        "CREATE TABLE b (id INTEGER PRIMARY KEY)",
        "CREATE TABLE c (id INTEGER PRIMARY KEY)",
    ]
    # Not even the history or lock table may appear.
    for table in ("a", "_covet_migrations", "_covet_migration_lock"):
        assert not await target.table_exists(adapter, table)


async def test_failure_names_migration_and_statement_and_stops(adapter, target, migrations_dir):
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    write_migration(
        migrations_dir,
        B,
        ["CREATE TABLE b (id INTEGER PRIMARY KEY)", "CREATE TABLE a (id INTEGER PRIMARY KEY)"],
        ["DROP TABLE b"],
    )
    write_migration(
        migrations_dir, C, ["CREATE TABLE c (id INTEGER PRIMARY KEY)"], ["DROP TABLE c"]
    )
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up()
    assert not result["success"]
    assert result["applied"] == [A]
    assert result["failed"] == B
    assert B in result["error"] and "statement 2" in result["error"]
    assert "CREATE TABLE a" in result["error"]
    assert not await target.table_exists(adapter, "c"), "nothing after the failure may run"
    status = {s.name: s for s in await manager.get_status()}
    if target.dialect.capabilities.transactional_ddl:
        assert not await target.table_exists(adapter, "b"), "a failed migration leaves no trace"
        assert status[B].state == "pending"
    assert status[A].applied and not status[C].applied


async def test_down_rolls_back_in_reverse_application_order(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    await manager.migrate_up()
    result = await manager.migrate_down(steps=2)
    assert result["success"], result["error"]
    assert result["rolled_back"] == [C, B]
    assert await target.table_exists(adapter, "a")
    assert not await target.table_exists(adapter, "b")
    assert [s.applied for s in await manager.get_status()] == [True, False, False]


async def test_down_dry_run_and_bad_steps_change_nothing(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    await manager.migrate_up()
    dry = await manager.migrate_down(steps=1, dry_run=True)
    assert dry["success"] and dry["rolled_back"] == [C] and dry["sql"] == ["DROP TABLE c"]
    too_many = await manager.migrate_down(steps=4)
    assert not too_many["success"] and "only 3 applied" in too_many["error"]
    assert await target.table_exists(adapter, "c")
    assert all(s.applied for s in await manager.get_status())


async def test_down_to_target(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    await manager.migrate_up()
    result = await manager.migrate_down(target=A)
    assert result["rolled_back"] == [C, B]


async def test_irreversible_migration_refuses_before_running(adapter, target, migrations_dir):
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    write_migration(
        migrations_dir,
        B,
        ["CREATE TABLE b (id INTEGER PRIMARY KEY)"],
        ["-- Cannot restore dropped data!"],
    )
    manager = manager_for(adapter, target, migrations_dir)
    await manager.migrate_up()
    result = await manager.migrate_down(steps=2)
    assert not result["success"] and "cannot be rolled back" in result["error"]
    assert await target.table_exists(adapter, "a") and await target.table_exists(adapter, "b")


async def test_dependencies_override_timestamp_order(adapter, target, migrations_dir):
    # A is older but depends on C: C must run first.
    write_migration(
        migrations_dir,
        A,
        ["CREATE TABLE a (id INTEGER PRIMARY KEY, c_id INTEGER REFERENCES c (id))"],
        ["DROP TABLE a"],
        dependencies=[C],
    )
    write_migration(
        migrations_dir, C, ["CREATE TABLE c (id INTEGER PRIMARY KEY)"], ["DROP TABLE c"]
    )
    result = await manager_for(adapter, target, migrations_dir).migrate_up()
    assert result["applied"] == [C, A]


async def test_python_steps_run_in_the_migration_transaction(adapter, target, migrations_dir):
    write_migration(
        migrations_dir,
        A,
        ["CREATE TABLE a (id INTEGER PRIMARY KEY, label VARCHAR(20))"],
        ["DROP TABLE a"],
        body="""
        async def forward(self, adapter):
            await adapter.execute("INSERT INTO a (id, label) VALUES (1, 'from python')")

        async def backward(self, adapter):
            rows = await adapter.fetch_all("SELECT id FROM a")
            assert [r["id"] for r in rows] == [1]
        """,
    )
    write_migration(
        migrations_dir,
        B,
        ["CREATE TABLE b (id INTEGER PRIMARY KEY)"],
        ["DROP TABLE b"],
        body="""
        async def forward(self, adapter):
            raise RuntimeError("boom in python")
        """,
    )
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up()
    assert result["applied"] == [A]
    assert "M.forward()" in result["error"] and "boom in python" in result["error"]
    assert await adapter.fetch_value("SELECT label FROM a WHERE id = 1") == "from python"
    if target.dialect.capabilities.transactional_ddl:
        assert not await target.table_exists(adapter, "b")
    else:
        # DDL committed as it ran: b exists, the migration is partial until settled.
        assert (await manager.get_status())[1].state == "partial"
        with pytest.raises(HistoryError, match="do not pair one to one"):
            await manager.resolve(B, applied=False, run=True)  # a Python step: no mirror known
        await adapter.execute("DROP TABLE b")  # repaired by hand
        await manager.resolve(B, applied=False)
    dry = await manager.migrate_down(dry_run=True)
    assert dry["sql"] == ["-- python: M.backward()", "DROP TABLE a"]
    down = await manager.migrate_down()
    assert down["success"], down["error"]


async def test_non_atomic_failure_is_recorded_as_partial(adapter, target, migrations_dir):
    write_migration(
        migrations_dir,
        A,
        [
            "CREATE TABLE a (id INTEGER PRIMARY KEY)",
            "CREATE TABLE a2 (id INTEGER PRIMARY KEY)",
            "CREATE TABLE a (id INTEGER PRIMARY KEY)",
        ],
        ["DROP TABLE a2", "DROP TABLE a"],
        atomic=False,
    )
    write_migration(
        migrations_dir, B, ["CREATE TABLE b (id INTEGER PRIMARY KEY)"], ["DROP TABLE b"]
    )
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up()
    assert not result["success"] and "partial" in result["error"]
    assert await target.table_exists(adapter, "a2"), "statements before the failure stay"
    row = await adapter.fetch_one(
        "SELECT state, direction, statements_done, error FROM _covet_migrations "
        f"WHERE name = {target.dialect.placeholder(1)}",
        (A,),
    )
    assert row["state"] == "partial" and row["direction"] == "up" and row["statements_done"] == 2
    status = {s.name: s for s in await manager.get_status()}
    assert status[A].state == "partial" and not status[A].applied
    # The next run refuses and says how to get out.
    again = await manager.migrate_up()
    assert not again["success"]
    assert A in again["error"] and "covet migrate resolve" in again["error"]
    assert not await target.table_exists(adapter, "b")
    assert "statement 3" in row["error"]
    # Statement 1 created a; statement 3 was the mistake. Repaired by hand: accept it as applied.
    await manager.resolve(A, applied=True)
    final = await manager.migrate_up()
    assert final["success"] and final["applied"] == [B]


async def test_changed_or_missing_file_blocks_up_until_repaired(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    await manager.migrate_up(target=B)
    path = migrations_dir / f"{A}.py"
    path.write_text(path.read_text().replace("PRIMARY KEY", "PRIMARY KEY NOT NULL"))
    status = {s.name: s for s in await manager.get_status()}
    assert status[A].changed and not status[B].changed
    problems = await manager.validate()
    assert len(problems) == 1 and A in problems[0] and "changed" in problems[0]
    result = await manager.migrate_up()
    assert not result["success"] and "covet migrate repair" in result["error"]
    assert not await target.table_exists(adapter, "c")

    (migrations_dir / f"{B}.py").unlink()
    status = {s.name: s for s in await manager.get_status()}
    assert status[B].missing and status[B].applied

    changes = await manager.repair()
    assert len(changes) == 2
    assert await manager.validate() == []
    result = await manager.migrate_up()
    assert result["success"] and result["applied"] == [C]


async def test_reformatting_sql_is_not_a_change(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    await manager.migrate_up()
    path = migrations_dir / f"{A}.py"
    path.write_text(path.read_text().replace("CREATE TABLE a (", "CREATE TABLE a  (\\n   "))
    assert await manager.validate() == []


async def test_create_migration_writes_a_loadable_file(adapter, target, migrations_dir):
    manager = manager_for(adapter, target, migrations_dir)
    path = await manager.create_migration(
        name="add_user_email_index",
        forward_sql=["CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100))"],
        backward_sql=["DROP TABLE users"],
    )
    assert path.parent == migrations_dir
    assert path.name.endswith("_add_user_email_index.py")
    assert "class AddUserEmailIndexMigration(Migration):" in path.read_text()
    second = await manager.create_migration(
        "add_phone", ["ALTER TABLE users ADD COLUMN phone VARCHAR(20)"], ["SELECT 1"]
    )
    assert second.name > path.name, "a second file in the same second still sorts after"
    result = await manager.migrate_up()
    assert result["applied"] == [path.stem, second.stem]
    bad = await manager.migrate_up(target="nope")
    assert not bad["success"]


async def test_history_record_helpers(adapter, target, migrations_dir):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir)
    await adapter.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)")
    await manager.history.record_applied(A)
    status = {s.name: s for s in await manager.get_status()}
    assert status[A].applied and not status[A].changed, "checksum taken from the file"
    result = await manager.migrate_up()
    assert result["applied"] == [B, C]
    await adapter.execute("DROP TABLE c")
    await manager.history.record_rolled_back(C)
    assert [s.applied for s in await manager.get_status()] == [True, True, False]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, Any]] = []

    @hookimpl
    def covet_before_migration(self, migration: Any, direction: str) -> None:
        self.calls.append(("before", migration.name, direction, None))

    @hookimpl
    def covet_after_migration(self, migration: Any, direction: str, result: Any) -> None:
        self.calls.append(("after", migration.name, direction, result.success))


async def test_before_and_after_migration_hooks(adapter, target, migrations_dir):
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    write_migration(migrations_dir, B, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["SELECT 1"])
    recorder = Recorder()
    manager = manager_for(adapter, target, migrations_dir, plugins=[recorder])
    await manager.migrate_up(dry_run=True)
    assert recorder.calls == [], "dry runs fire no migration events"
    await manager.migrate_up()
    assert recorder.calls == [
        ("before", A, "up", None),
        ("after", A, "up", True),
        ("before", B, "up", None),
        ("after", B, "up", False),
    ]
    # A second manager in the same process does not see this manager's plugin.
    other = manager_for(adapter, target, migrations_dir)
    await other.migrate_down()
    assert len(recorder.calls) == 4


async def test_enable_backup_without_strategy_fails_closed(adapter, target, migrations_dir):
    from dataclasses import replace

    three(migrations_dir)
    no_backup = replace(target.dialect, default_backup=None)  # as a third-party dialect may be
    manager = MigrationManager(adapter, no_backup, migrations_dir, enable_backup=True)
    result = await manager.migrate_up()
    assert not result["success"] and "--no-backup" in result["error"]
    assert not await target.table_exists(adapter, "a")


async def test_adapter_and_dialect_must_agree(adapter, target, migrations_dir):
    from dataclasses import replace

    from covet_core.errors import ConfigError

    other = replace(target.dialect, name="otherdb")
    with pytest.raises(ConfigError, match=r"adapter is for .* but dialect='otherdb'"):
        MigrationManager(adapter, other, migrations_dir)


async def test_unknown_lock_strategy_lists_installed(adapter, target, migrations_dir):
    from covet_core.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match=r"installed: .*table"):
        manager_for(adapter, target, migrations_dir, lock="zookeeper")


class Exploding:
    @hookimpl
    def covet_after_migration(self, migration: Any, direction: str, result: Any) -> None:
        raise RuntimeError(f"alerting is down ({migration.name})")


async def test_a_failing_event_hook_is_a_clear_error_not_an_exception(
    adapter, target, migrations_dir
):
    three(migrations_dir)
    manager = manager_for(adapter, target, migrations_dir, plugins=[Exploding()])
    result = await manager.migrate_up()
    assert not result["success"]
    assert "covet_after_migration hook raised RuntimeError: alerting is down" in result["error"]
    # The migration itself committed before the hook ran, and the result says so.
    assert result["applied"] == [A]
    assert [s.applied for s in await manager.get_status()] == [True, False, False]


async def test_resolve_accepts_a_unique_short_name(adapter, target, migrations_dir):
    write_migration(
        migrations_dir,
        A,
        ["CREATE TABLE a (id INTEGER PRIMARY KEY)", "CREATE TABLE a (id INTEGER PRIMARY KEY)"],
        ["DROP TABLE a"],
        atomic=False,
    )
    manager = manager_for(adapter, target, migrations_dir)
    assert not (await manager.migrate_up())["success"]
    await manager.resolve("create_a", applied=False)
    assert [s.state for s in await manager.get_status()] == ["pending"]


async def test_middle_statement_of_three_fails(adapter, target, migrations_dir):
    write_migration(
        migrations_dir,
        A,
        [
            "CREATE TABLE a (id INTEGER PRIMARY KEY)",
            "INSERT INTO no_such_table (id) VALUES (1)",
            "CREATE TABLE a2 (id INTEGER PRIMARY KEY)",
        ],
        ["DROP TABLE a2", "DELETE FROM a", "DROP TABLE a"],
    )
    write_migration(
        migrations_dir, B, ["CREATE TABLE b (id INTEGER PRIMARY KEY)"], ["DROP TABLE b"]
    )
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up()
    assert not result["success"] and result["failed"] == A
    assert "statement 2 (INSERT INTO no_such_table" in result["error"]
    assert not await target.table_exists(adapter, "a2")
    status = {s.name: s for s in await manager.get_status()}
    assert not status[A].applied and not status[B].applied
    if target.dialect.capabilities.transactional_ddl:
        assert not await target.table_exists(adapter, "a"), "database unchanged"
        assert status[A].state == "pending"
        return
    # DDL committed as it ran: the history says exactly how far it got, never "applied".
    assert await target.table_exists(adapter, "a")
    assert status[A].state == "partial" and "up: 1 statement(s) done" in status[A].detail
    refused = await manager.migrate_up()
    assert not refused["success"] and not await target.table_exists(adapter, "b")
    for hint in ("statement 2", f"resolve {A} --applied", f"resolve {A} --rolled-back --run"):
        assert hint in refused["error"]
    # Undo what ran (the mirror of statement 1 is the last backward statement) and start over.
    await manager.resolve(A, applied=False, run=True)
    assert not await target.table_exists(adapter, "a")
    assert [s.state for s in await manager.get_status()] == ["pending", "pending"]


async def test_resolve_run_finishes_a_partial_migration(adapter, target, migrations_dir):
    write_migration(
        migrations_dir,
        A,
        ["CREATE TABLE a (id INTEGER PRIMARY KEY)", "INSERT INTO a2 (id) VALUES (1)"],
        ["DELETE FROM a2", "DROP TABLE a"],
        atomic=False,
    )
    manager = manager_for(adapter, target, migrations_dir)
    assert not (await manager.migrate_up())["success"]
    await adapter.execute("CREATE TABLE a2 (id INTEGER PRIMARY KEY)")  # fix the cause
    await manager.resolve(A, applied=True, run=True)  # statement 2 only: statement 1 ran
    status = (await manager.get_status())[0]
    assert status.applied and not status.changed
    assert await adapter.fetch_value("SELECT count(*) FROM a2") == 1
    down = await manager.migrate_down()
    assert down["success"], down["error"]
    assert not await target.table_exists(adapter, "a")


async def test_statement_free_migrations_between_non_transactional_ones(
    adapter, target, migrations_dir
):
    # authelia ships empty migrations; each must be recorded, and so must its neighbours.
    write_migration(
        migrations_dir,
        A,
        ["CREATE TABLE a (id INTEGER PRIMARY KEY)"],
        ["DROP TABLE a"],
        atomic=False,
    )
    write_migration(migrations_dir, B, [], [], atomic=False)
    write_migration(migrations_dir, C, [], [], atomic=False)
    write_migration(
        migrations_dir,
        "2024_01_04_000000_d",
        ["CREATE TABLE d (id INTEGER PRIMARY KEY)"],
        ["DROP TABLE d"],
        atomic=False,
    )
    manager = manager_for(adapter, target, migrations_dir)
    result = await manager.migrate_up()
    assert result["success"], result["error"]
    assert [(s.state, s.applied) for s in await manager.get_status()] == [("applied", True)] * 4
    down = await manager.migrate_down(steps=4)
    assert down["success"], down["error"]
    assert [s.state for s in await manager.get_status()] == ["pending"] * 4
