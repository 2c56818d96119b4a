"""Adopting covet on an existing database: baseline, and importing another tool's history."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Target

from covet.database.migrations import MigrationManager
from covet_core.adopt import applied_elsewhere
from covet_core.errors import HistoryError

# The table golang-migrate's own drivers create (database/postgres, mysql, sqlite3).
GOLANG_MIGRATE_DDL = {
    "postgresql": [
        'CREATE TABLE IF NOT EXISTS "schema_migrations" (version bigint not null primary key, dirty boolean not null)'
    ],
    "mysql": [
        "CREATE TABLE IF NOT EXISTS `schema_migrations` (version bigint not null primary key, dirty boolean not null)"
    ],
    "sqlite": [
        'CREATE TABLE IF NOT EXISTS "schema_migrations" (version uint64, dirty bool)',
        "CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version)",
    ],
}


def pairs(directory: Path, count: int = 3) -> list[str]:
    names = []
    for i in range(1, count + 1):
        (directory / f"{i:06d}_step{i}.up.sql").write_text(
            f"CREATE TABLE step{i} (id INTEGER PRIMARY KEY);"
        )
        (directory / f"{i:06d}_step{i}.down.sql").write_text(f"DROP TABLE step{i};")
        names.append(f"{i:06d}_step{i}")
    return names


async def statuses(manager: MigrationManager) -> list[tuple[str, bool]]:
    return [(s.name, s.applied) for s in await manager.get_status()]


async def test_baseline_records_without_running(adapter, target, migrations_dir):
    names = pairs(migrations_dir)
    await adapter.execute("CREATE TABLE step1 (id INTEGER PRIMARY KEY)")  # the schema exists
    manager = MigrationManager(adapter, target.name, migrations_dir)
    assert await manager.baseline(to="step1") == [names[0]]
    assert await manager.baseline(to="step1") == [], "already applied ones are skipped"
    assert await statuses(manager) == [(names[0], True), (names[1], False), (names[2], False)]
    assert not await target.table_exists(adapter, "step2")
    result = await manager.migrate_up()
    assert result["applied"] == names[1:]
    status = await manager.get_status()
    assert not any(s.changed for s in status), "baselined rows carry the files' checksums"


async def test_import_from_golang_migrate(adapter, target, migrations_dir):
    names = pairs(migrations_dir)
    for sql in GOLANG_MIGRATE_DDL[target.name]:
        await adapter.execute(sql)
    p = target.dialect.placeholder
    await adapter.execute(
        f"INSERT INTO schema_migrations (version, dirty) VALUES ({p(1)}, {p(2)})", (2, False)
    )
    for i in (1, 2):
        await adapter.execute(f"CREATE TABLE step{i} (id INTEGER PRIMARY KEY)")
    manager = MigrationManager(adapter, target.name, migrations_dir)
    assert await manager.import_history("golang-migrate") == names[:2]
    result = await manager.migrate_up()
    assert result["success"] and result["applied"] == [names[2]]


async def test_a_dirty_golang_migrate_history_is_refused(adapter, target, migrations_dir):
    pairs(migrations_dir)
    for sql in GOLANG_MIGRATE_DDL[target.name]:
        await adapter.execute(sql)
    p = target.dialect.placeholder
    await adapter.execute(
        f"INSERT INTO schema_migrations (version, dirty) VALUES ({p(1)}, {p(2)})", (2, True)
    )
    manager = MigrationManager(adapter, target.name, migrations_dir)
    with pytest.raises(HistoryError, match="version 2 is dirty"):
        await manager.import_history("golang-migrate")
    assert not await target.table_exists(adapter, "_covet_migrations"), "nothing recorded"


async def test_import_from_goose_dbmate_and_flyway(tmp_path, migrations_dir):
    # The readers are portable SQL over these tools' tables; their logic needs one database.
    from covet.database.adapters.sqlite import SQLiteAdapter

    adapter = SQLiteAdapter(tmp_path / "adopt.db")
    await adapter.connect()
    names = pairs(migrations_dir)
    manager = MigrationManager(adapter, "sqlite", migrations_dir)
    await adapter.execute(
        "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY, version_id INTEGER, is_applied INTEGER, tstamp TEXT)"
    )
    await adapter.executemany(
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)",
        [(0, 1), (1, 1), (2, 1), (3, 1), (3, 0)],  # 3 was applied, then rolled back
    )
    chosen = await applied_elsewhere("goose", adapter, manager.dialect, manager.load_migrations())
    assert [m.name for m in chosen] == names[:2]

    await adapter.execute("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY)")
    await adapter.execute("INSERT INTO schema_migrations VALUES ('1'), ('3')")
    assert await manager.import_history("dbmate") == [names[0], names[2]]

    await adapter.execute(
        "CREATE TABLE flyway_schema_history (installed_rank INTEGER, version TEXT, type TEXT, "
        "success INTEGER, script TEXT)"
    )
    await adapter.execute(
        "INSERT INTO flyway_schema_history VALUES (1, '2', 'SQL', 0, 'V2__step2.sql')"
    )
    with pytest.raises(HistoryError, match=r"failed migration \(V2__step2.sql\)"):
        await manager.import_history("flyway")
    await adapter.disconnect()


async def test_import_names_versions_without_files(adapter, target: Target, migrations_dir):
    pairs(migrations_dir, 2)
    for sql in GOLANG_MIGRATE_DDL[target.name]:
        await adapter.execute(sql)
    p = target.dialect.placeholder
    await adapter.execute(
        f"INSERT INTO schema_migrations (version, dirty) VALUES ({p(1)}, {p(2)})", (9, False)
    )
    manager = MigrationManager(adapter, target.name, migrations_dir)
    with pytest.raises(HistoryError, match=r"version.* 9 .*no migration file has that version"):
        await manager.import_history("golang-migrate")
