"""Backups before migrating: round trips on every database, failing closed, secrets, the CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Target, database_target, write_migration

from covet.database.migrations import MigrationManager
from covet_core.backup import list_backups
from covet_core.cli import cli
from covet_core.errors import BackupError

BLOB = {"sqlite": "BLOB", "postgresql": "BYTEA", "mysql": "LONGBLOB"}
A = "2024_01_01_000000_create_a"


async def fill(adapter: Any, target: Target) -> None:
    p = target.dialect.placeholder
    await adapter.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(50))")
    await adapter.execute(
        f"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id), "
        f"note VARCHAR(200), data {BLOB[target.name]})"
    )
    await adapter.executemany(
        f"INSERT INTO parent (id, name) VALUES ({p(1)}, {p(2)})",
        [(1, "zürich ✓"), (2, None), (3, "日本語")],
    )
    await adapter.executemany(
        f"INSERT INTO child (id, parent_id, note, data) VALUES ({p(1)}, {p(2)}, {p(3)}, {p(4)})",
        [
            (1, 1, "naïve 'quote' \\ back", bytes(range(256))),
            (2, None, None, None),
            (3, 3, "", b"\x00"),
        ],
    )


async def contents(adapter: Any) -> str:
    digest = hashlib.sha256()
    for table in ("parent", "child", "_covet_migrations"):
        for row in await adapter.fetch_all(f"SELECT * FROM {table} ORDER BY 1"):
            normal = {
                k: bytes(v) if isinstance(v, bytes | bytearray | memoryview) else v
                for k, v in row.items()
            }
            digest.update(repr(sorted(normal.items())).encode())
    return digest.hexdigest()


async def test_round_trip_restores_every_row_and_the_history(
    adapter, target, migrations_dir, tmp_path
):
    await fill(adapter, target)
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    manager = MigrationManager(
        adapter, target.name, migrations_dir, backup_dir=tmp_path / "backups"
    )
    assert (await manager.migrate_up())["success"]
    before = await contents(adapter)

    info = await manager.backup("nightly")
    assert info.strategy == target.dialect.default_backup
    assert info.path.parent == tmp_path / "backups" and "before-nightly" in info.path.name
    for path in (info.path, info.manifest_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert info.extra["server_version"] and info.extra["tool_version"]
    assert [b.path for b in manager.list_backups()] == [info.path]

    for table in ("child", "parent", "a", "_covet_migrations"):
        await adapter.execute(f"DROP TABLE {table}")
    await manager.restore_backup(info.path)
    assert await contents(adapter) == before
    assert [s.applied for s in await manager.get_status()] == [True]


async def test_migrate_up_with_backup_takes_it_first(adapter, target, migrations_dir, tmp_path):
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    manager = MigrationManager(
        adapter, target.name, migrations_dir, enable_backup=True, backup_dir=tmp_path / "b"
    )
    dry = await manager.migrate_up(dry_run=True)
    assert dry["backup"] == f"would take a {target.dialect.default_backup} backup"
    assert not (tmp_path / "b").exists()
    result = await manager.migrate_up()
    assert result["success"], result["error"]
    backups = list_backups(tmp_path / "b")
    assert [str(b.path) for b in backups] == [result["backup"]] and A in backups[0].label
    # Taken before the migration: restoring it brings back the schema without table a.
    await manager.restore_backup(backups[0].path, None)
    assert [s.applied for s in await manager.get_status()] == [False]


async def test_retention_keeps_the_newest(adapter, target, migrations_dir, tmp_path):
    manager = MigrationManager(
        adapter, target.name, migrations_dir, backup_dir=tmp_path, backup_keep=2
    )
    taken = [await manager.backup(f"n{i}") for i in range(3)]
    assert [b.path for b in manager.list_backups()] == [taken[2].path, taken[1].path]
    assert not taken[0].path.exists() and not taken[0].manifest_path.exists()


async def test_a_tampered_backup_is_refused(adapter, target, migrations_dir, tmp_path):
    manager = MigrationManager(adapter, target.name, migrations_dir, backup_dir=tmp_path)
    info = await manager.backup("x")
    with info.path.open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(BackupError, match="does not match its manifest"):
        await manager.restore_backup(info.path)


def shim(directory: Path, tool: str, body: str) -> None:
    directory.mkdir(exist_ok=True)
    script = directory / tool
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)


async def test_fails_closed_when_the_tool_is_missing(pg, migrations_dir, tmp_path, monkeypatch):
    adapter = pg.new_adapter()
    await adapter.connect()
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    manager = MigrationManager(
        adapter, "postgresql", migrations_dir, enable_backup=True, backup_dir=tmp_path / "b"
    )
    result = await manager.migrate_up()
    assert not result["success"]
    assert "pg_dump not found on PATH" in result["error"] and "--no-backup" in result["error"]
    assert not await pg.table_exists(adapter, "a")
    assert await manager.get_status() and not (await manager.get_status())[0].applied
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir()), "no stray file"
    await adapter.disconnect()


async def test_refuses_a_dump_tool_older_than_the_server(pg, migrations_dir, tmp_path, monkeypatch):
    adapter = pg.new_adapter()
    await adapter.connect()
    shim(tmp_path / "bin", "pg_dump", 'echo "pg_dump (PostgreSQL) 9.6.24"')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    manager = MigrationManager(adapter, "postgresql", migrations_dir, backup_dir=tmp_path / "b")
    with pytest.raises(BackupError, match=r"9\.6\.24 is older than the server"):
        await manager.backup()
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir()), "no stray file"
    await adapter.disconnect()


async def test_password_travels_in_the_environment_only(pg, migrations_dir, tmp_path, monkeypatch):
    from covet.database.adapters.postgresql import PostgreSQLAdapter

    secret = "pw-" + os.urandom(6).hex()
    url = pg.url.replace("postgresql://postgres@", f"postgresql://postgres:{secret}@")
    log = tmp_path / "argv.log"
    real = shutil.which("pg_dump")
    # The shim sees what the real pg_dump sees: its own command line, read while it runs.
    shim(tmp_path / "bin", "pg_dump", f'tr "\\0" " " < /proc/$$/cmdline >> {log}; echo >> {log}\n'
         f'[ -n "$PGPASSWORD" ] && echo "env:PGPASSWORD set" >> {log}\nexec {real} "$@"')  # fmt: skip
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    adapter = PostgreSQLAdapter.from_url(url)  # trust auth here accepts any password
    await adapter.connect()
    from structlog.testing import capture_logs

    manager = MigrationManager(adapter, "postgresql", migrations_dir, backup_dir=tmp_path / "b")
    with capture_logs() as events:
        info = await manager.backup("secret-check")
    recorded = log.read_text()
    assert "--format=custom" in recorded and "env:PGPASSWORD set" in recorded
    assert secret not in recorded and secret not in info.path.name
    assert secret not in repr(events) and secret not in info.manifest_path.read_text()
    await adapter.disconnect()


@pytest.fixture
def pg_other(tmp_path):
    with database_target("postgresql", tmp_path / "other") as other:
        yield other


async def test_restore_into_another_database(pg, pg_other, migrations_dir, tmp_path):
    adapter = pg.new_adapter()
    await adapter.connect()
    await adapter.execute("CREATE TABLE kept (id INTEGER PRIMARY KEY, v TEXT)")
    await adapter.execute("INSERT INTO kept VALUES (1, 'ä')")
    manager = MigrationManager(adapter, "postgresql", migrations_dir, backup_dir=tmp_path / "b")
    info = await manager.backup("copy")
    target = pg_other.new_adapter()
    await target.connect()
    await manager.restore_backup(info.path, target)
    assert await target.fetch_all("SELECT id, v FROM kept") == [{"id": 1, "v": "ä"}]
    await target.disconnect()
    await adapter.disconnect()


def test_cli_backup_create_list_restore(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COVET_DATABASE_URL", raising=False)
    (tmp_path / "covet.toml").write_text('database = "sqlite:///app.db"\nbackup = true\n')
    (tmp_path / "migrations").mkdir()
    write_migration(
        tmp_path / "migrations", A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )

    def run(*args: str):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    up = run("migrate", "up")
    assert up.exit_code == 0 and "Backup: backups/app-" in up.output
    assert run("migrate", "down", "--steps", "1").exit_code == 0
    no_backup = run("migrate", "up", "--no-backup")
    assert no_backup.exit_code == 0 and "Backup:" not in no_backup.output
    made = run("backup", "create", "--label", "by-hand")
    assert made.exit_code == 0 and "before-by-hand" in made.output
    listed = run("backup", "list")
    assert listed.exit_code == 0 and listed.output.count("sqlite_backup") == 2
    newest = sorted((tmp_path / "backups").glob("*before-by-hand.sqlite3"))[0]
    refused = run("backup", "restore", str(newest))
    assert refused.exit_code == 2 and "--yes" in refused.output
    leaked = run("backup", "restore", str(newest), "--into", "postgresql://u:hunter2@h/db")
    assert leaked.exit_code == 2 and "hunter2" not in leaked.output
    restored = run("backup", "restore", str(newest), "--yes")
    assert restored.exit_code == 0 and "Restored" in restored.output


def test_backup_files_never_contain_secrets_in_names(tmp_path):
    from covet_core.backup import new_backup_file

    path = new_backup_file(tmp_path, "/var/db/app db", "add users/../x", ".dump")
    assert path.parent == tmp_path and "/" not in path.name.replace(str(tmp_path), "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_backup_list_needs_neither_a_database_nor_the_tools(tmp_path):
    (tmp_path / "migrations").mkdir()
    env = {
        **os.environ,
        "PATH": str(tmp_path),
        "COVET_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x",
    }
    proc = subprocess.run([sys.executable, "-m", "covet_core", "backup", "list"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0 and "No backups" in proc.stdout
