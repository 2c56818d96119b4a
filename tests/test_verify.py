"""``covet migrate up --dry-run --verify``: pending migrations run for real in a transaction
that is rolled back; the report names what failed and where, and the database is left exactly
as it was (judged by the file's bytes on SQLite, ``pg_dump -s`` and the history on PostgreSQL)."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from conftest import Target, write_migration


def _fingerprint(target: Target) -> str:
    if target.name == "sqlite":
        path = target.url.removeprefix("sqlite:///")
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    dump = subprocess.run(["pg_dump", "-s", "--no-owner", target.url], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip

    async def history() -> list[dict[str, object]]:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            return await adapter.fetch_all("SELECT * FROM _covet_migrations ORDER BY name")
        finally:
            await adapter.disconnect()

    # \restrict / \unrestrict carry a random key per dump run (pg_dump 15.14+).
    schema = "\n".join(line for line in dump.splitlines() if "restrict " not in line)
    return schema + repr(asyncio.run(history()))


def test_a_verified_dry_run_reports_the_failure_and_leaves_the_database_as_it_was(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(folder)}
    write_migration(folder, "2024_01_01_000000_base", ["CREATE TABLE base (id INT PRIMARY KEY)"])
    assert run("migrate", "up", env=env).exit_code == 0
    write_migration(folder, "2024_01_02_000000_items", ["CREATE TABLE items (id INT PRIMARY KEY)"])
    write_migration(folder, "2024_01_03_000000_qty", ["ALTER TABLE items ADD COLUMN qty INT"])
    write_migration(folder, "2024_01_04_000000_bad", ["ALTER TABLE nowhere ADD COLUMN x INT"])
    write_migration(folder, "2024_01_05_000000_after", ["CREATE TABLE after_bad (id INT)"])

    if not target.dialect.capabilities.transactional_ddl:
        refused = run("migrate", "up", "--dry-run", "--verify", env=env)
        assert refused.exit_code == 2
        assert f"cannot verify on {target.name}: its DDL commits implicitly" in refused.output
        return
    before = _fingerprint(target)
    verified = run("migrate", "up", "--dry-run", "--verify", env=env)
    assert verified.exit_code == 1, verified.output
    out = verified.output
    assert "✓ 2024_01_02_000000_items" in out and "✓ 2024_01_03_000000_qty" in out
    assert "✗ 2024_01_04_000000_bad" in out and "at: ALTER TABLE nowhere ADD COLUMN x INT" in out
    assert "- 2024_01_05_000000_after not verified (after the failure above)" in out
    if target.name == "postgresql":
        assert "locks: AccessExclusiveLock on items" in out
    assert _fingerprint(target) == before  # nothing kept, history included

    (folder / "2024_01_04_000000_bad.py").unlink()
    good = run("migrate", "up", "--dry-run", "--verify", env=env)
    assert good.exit_code == 0, good.output
    assert _fingerprint(target) == before
    assert run("migrate", "up", env=env).exit_code == 0  # and it really applies


async def test_verify_in_the_api(target: Target, migrations_dir: Path) -> None:
    from covet.database.migrations import MigrationManager

    write_migration(migrations_dir, "2024_01_01_000000_base", ["CREATE TABLE base (id INT)"])
    adapter = target.new_adapter()
    await adapter.connect()
    try:
        manager = MigrationManager(adapter, target.name, migrations_dir)
        await adapter.execute("CREATE TABLE existing (id INT)")  # the database exists
        result = await manager.migrate_up(dry_run=True, verify=True)
        if not target.dialect.capabilities.transactional_ddl:
            assert not result["success"] and "cannot verify" in result["error"]
            return
        assert result["success"], result
        [line] = result["verified"]
        assert line["name"] == "2024_01_01_000000_base" and line["success"] is True
        assert not await target.table_exists(adapter, "base")
        assert [s.state for s in await manager.get_status()] == ["pending"]
    finally:
        await adapter.disconnect()


def _scratch_databases(target: Target) -> list[str]:
    async def go() -> list[str]:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            if target.name == "postgresql":
                sql = "SELECT datname FROM pg_database WHERE datname LIKE 'covet_verify_%'"
            else:
                sql = (
                    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                    "WHERE SCHEMA_NAME LIKE 'covet_verify_%'"
                )
            return [next(iter(r.values())) for r in await adapter.fetch_all(sql)]
        finally:
            await adapter.disconnect()

    return asyncio.run(go())


def _objects(target: Target) -> object:
    from schema_oracle import mysql_objects

    if target.name == "postgresql":
        return _fingerprint(target)

    async def go() -> object:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            history = await adapter.fetch_all("SELECT * FROM _covet_migrations ORDER BY name")
            return await mysql_objects(adapter), history
        finally:
            await adapter.disconnect()

    return asyncio.run(go())


def test_verify_on_a_scratch_copy_reports_the_failure_and_only_reads_the_database(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    """``--verify=scratch``: the live schema (a table with rows, a view on it) copied into a
    scratch database, the plan run there in order, the scratch database dropped; on MySQL,
    whose DDL cannot be rolled back, this is the verified dry run."""
    if target.name == "sqlite":
        pytest.skip("a file database: --verify rolls back (tested above)")
    folder = tmp_path / "m"
    folder.mkdir()
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(folder)}
    write_migration(
        folder,
        "2024_01_01_000000_base",
        ["CREATE TABLE base (id INT PRIMARY KEY, name VARCHAR(20))",
         "INSERT INTO base VALUES (1, 'kept')", "CREATE VIEW named AS SELECT name FROM base"],
    )  # fmt: skip
    assert run("migrate", "up", env=env).exit_code == 0
    write_migration(folder, "2024_01_02_000000_qty", ["ALTER TABLE base ADD COLUMN qty INT"])
    write_migration(folder, "2024_01_03_000000_dup", ["ALTER TABLE base ADD COLUMN qty INT"])
    write_migration(folder, "2024_01_04_000000_after", ["CREATE TABLE after_bad (id INT)"])
    before = _objects(target)

    verified = run("migrate", "up", "--dry-run", "--verify=scratch", env=env)
    assert verified.exit_code == 1, verified.output
    out = verified.output
    assert "Verified on a scratch copy of the schema" in out
    assert "✓ 2024_01_02_000000_qty" in out and "✗ 2024_01_03_000000_dup" in out
    assert "at: ALTER TABLE base ADD COLUMN qty INT" in out
    assert "- 2024_01_04_000000_after not verified (after the failure above)" in out
    assert "lacks" not in out  # the view came along
    assert _objects(target) == before and _scratch_databases(target) == []

    (folder / "2024_01_03_000000_dup.py").unlink()
    good = run("--log-format", "json", "migrate", "up", "--dry-run", "--verify=scratch", env=env)
    assert good.exit_code == 0, good.output
    assert _objects(target) == before and _scratch_databases(target) == []
    assert run("migrate", "up", env=env).exit_code == 0  # and it really applies


def test_scratch_verification_needs_a_server(run: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    write_migration(tmp_path / "migrations", "2024_01_01_000000_a", ["CREATE TABLE a (id INT)"])
    (tmp_path / "a.db").touch()
    env = {"COVET_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    result = run("migrate", "up", "--dry-run", "--verify=scratch", env=env)
    assert result.exit_code == 2
    assert "cannot verify on a scratch copy: sqlite has no server" in result.output
    assert (tmp_path / "a.db").stat().st_size == 0


async def test_scratch_verification_in_the_api(mysql: Target, migrations_dir: Path) -> None:
    from covet.database.migrations import MigrationManager

    write_migration(migrations_dir, "2024_01_01_000000_base", ["CREATE TABLE base (id INT)"])
    adapter = mysql.new_adapter()
    await adapter.connect()
    try:
        manager = MigrationManager(adapter, "mysql", migrations_dir)
        result = await manager.migrate_up(dry_run=True, verify="scratch")
        assert result["success"], result
        assert result["verified_on"] == "scratch" and result["scratch_lacks"] == []
        [line] = result["verified"]
        assert line["name"] == "2024_01_01_000000_base" and line["success"] is True
        assert not await mysql.table_exists(adapter, "base")
        bad = await manager.migrate_up(dry_run=True, verify="sideways")
        assert not bad["success"] and "verify must be True" in bad["error"]
    finally:
        await adapter.disconnect()
