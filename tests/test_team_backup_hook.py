"""examples/team-backup-hook, installed as a user would: discovered, called, and replacing the default.

These tests need the example package installed (``pip install ./examples/team-backup-hook``).
Without it they are skipped; with ``CI=true`` they fail, so CI cannot silently skip them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_migration

from covet.database.adapters.sqlite import SQLiteAdapter
from covet.database.migrations import MigrationManager
from covet_core import hookimpl
from covet_core.backup import BackupInfo, read_manifest, sha256_of

INSTALL = "pip install ./examples/team-backup-hook"
CREATE_ITEMS = "2024_01_01_000000_create_items"
ADD_TAGS = "2024_01_02_000000_add_tags"


@pytest.fixture(autouse=True)
def _installed() -> None:
    if importlib.util.find_spec("covet_team_backup") is None:
        message = f"the example plugin covet-team-backup-hook is not installed; run `{INSTALL}`"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "archive" / "nested"  # the hook creates it
    monkeypatch.setenv("COVET_TEAM_ARCHIVE", str(folder))
    return folder


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteAdapter]:
    adapter = SQLiteAdapter(tmp_path / "app.db")
    await adapter.connect()
    yield adapter
    await adapter.disconnect()


@pytest.fixture
def migrations(migrations_dir: Path) -> Path:
    write_migration(
        migrations_dir,
        CREATE_ITEMS,
        ["CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)",
         "INSERT INTO items (id, name) VALUES (1, 'one'), (2, 'zwei ✓')"],
        ["DROP TABLE items"],
    )  # fmt: skip
    return migrations_dir


def manager(db: SQLiteAdapter, migrations: Path, tmp_path: Path, **kwargs: Any) -> MigrationManager:
    # No plugins=...: the example must come from its entry point alone.
    return MigrationManager(
        db, "sqlite", migrations, enable_backup=True, backup_dir=tmp_path / "backups", **kwargs
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_archived(backup: BackupInfo, archive: Path) -> None:
    copy, manifest = archive / backup.path.name, archive / backup.manifest_path.name
    assert sorted(archive.iterdir()) == sorted([copy, manifest])
    assert sha256_of(copy) == backup.sha256 == sha256_of(backup.path)
    assert manifest.read_bytes() == backup.manifest_path.read_bytes()
    assert mode(copy) == mode(manifest) == 0o600
    assert mode(archive) == 0o700


# -- discovery ----------------------------------------------------------------------------------


def covet(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "COVET_DISABLE_PLUGIN_AUTOLOAD"}
    return subprocess.run(
        [sys.executable, "-m", "covet_core", *args],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
    )


def test_covet_plugins_lists_the_package_its_hooks_and_its_strategy() -> None:
    proc = covet("--log-format", "json", "plugins")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    plugin = next(e for e in events if e["event"] == "plugin" and e["name"] == "team-backup")
    assert plugin["distribution"] == "covet-team-backup-hook"
    assert plugin["version"] == "0.1.0"
    assert set(plugin["hooks"]) == {"covet_backup_created", "covet_register_backup_strategies"}
    backups = next(e for e in events if e.get("kind") == "backup strategies")
    assert backups["entries"]["team_sqlite_copy"] == "team-backup"

    text = covet("plugins")
    assert text.returncode == 0, text.stderr
    row = next(line for line in text.stdout.splitlines() if line.startswith("team-backup "))
    assert row.split()[1:3] == ["covet-team-backup-hook", "0.1.0"]


async def test_a_manager_discovers_it_without_plugins_argument(
    db: SQLiteAdapter, migrations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = manager(db, migrations, tmp_path).plugins
    assert plugins.backup_strategies.owner("team_sqlite_copy") == "team-backup"
    assert plugins.backup_strategies.owner("sqlite_backup") == "sqlite"  # still there

    monkeypatch.setenv("COVET_DISABLE_PLUGIN_AUTOLOAD", "1")  # covet's own plugins only
    assert "team_sqlite_copy" not in manager(db, migrations, tmp_path).plugins.backup_strategies


# -- the covet_backup_created hook --------------------------------------------------------------


async def test_every_backup_is_archived_and_verified(
    db: SQLiteAdapter, migrations: Path, tmp_path: Path, archive: Path
) -> None:
    m = manager(db, migrations, tmp_path)
    result = await m.migrate_up()
    assert result["success"], result["error"]
    assert result["applied"] == [CREATE_ITEMS]
    [backup] = m.list_backups()
    assert backup.strategy == "sqlite_backup"  # the dialect's default, untouched
    assert_archived(backup, archive)


async def test_without_the_archive_variable_the_hook_does_nothing(
    db: SQLiteAdapter,
    migrations: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COVET_TEAM_ARCHIVE", raising=False)
    monkeypatch.chdir(tmp_path)
    m = manager(db, migrations, tmp_path)
    result = await m.migrate_up()
    assert result["success"], result["error"]
    [backup] = m.list_backups()
    copies = {p.parent for p in tmp_path.rglob(f"{backup.path.name}*")}
    assert copies == {tmp_path / "backups"}


class Tamper:
    """Changes the backup file after its manifest was written, before the team hook copies it."""

    @hookimpl(tryfirst=True)
    def covet_backup_created(self, backup: BackupInfo) -> None:
        with backup.path.open("ab") as handle:
            handle.write(b"bit rot")


async def test_a_copy_that_does_not_match_stops_the_run_and_is_not_kept(
    db: SQLiteAdapter, migrations: Path, tmp_path: Path, archive: Path
) -> None:
    result = await manager(db, migrations, tmp_path, plugins=[Tamper()]).migrate_up()
    assert not result["success"]
    assert result["applied"] == []
    error = result["error"]
    assert "\n" not in error
    assert "covet_backup_created" in error and "does not match the backup's sha256" in error
    assert await db.fetch_one("SELECT 1 FROM sqlite_master WHERE name = 'items'") is None
    assert list(archive.iterdir()) == []


# -- the team_sqlite_copy strategy --------------------------------------------------------------


async def test_the_team_strategy_replaces_the_default_and_restores(
    db: SQLiteAdapter, migrations: Path, tmp_path: Path, archive: Path
) -> None:
    first = await manager(db, migrations, tmp_path, backup="team_sqlite_copy").migrate_up()
    assert first["success"], first["error"]
    for path in archive.iterdir():
        path.unlink()
    write_migration(migrations, ADD_TAGS, ["CREATE TABLE tags (id INTEGER)"], ["DROP TABLE tags"])
    m = manager(db, migrations, tmp_path, backup="team_sqlite_copy")
    second = await m.migrate_up()
    assert second["success"], second["error"]

    newest, _ = m.list_backups()
    assert {b.strategy for b in m.list_backups()} == {"team_sqlite_copy"}  # no sqlite_backup file
    assert newest.path.name.endswith(f"-before-{ADD_TAGS}.team.sqlite3")
    assert mode(newest.path) == mode(newest.manifest_path) == 0o600
    manifest = json.loads(newest.manifest_path.read_text())
    assert manifest["strategy"] == "team_sqlite_copy"
    assert manifest["tool_version"] == "team copy"
    assert manifest["server_version"] == sqlite3.sqlite_version
    assert read_manifest(newest.manifest_path) == newest
    assert_archived(newest, archive)

    await db.execute("DROP TABLE items")
    restored = await m.restore_backup(newest.path)
    assert restored.strategy == "team_sqlite_copy"
    rows = await db.fetch_all("SELECT id, name FROM items ORDER BY id")
    assert rows == [{"id": 1, "name": "one"}, {"id": 2, "name": "zwei ✓"}]
    assert await db.fetch_one("SELECT 1 FROM sqlite_master WHERE name = 'tags'") is None


# -- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    work = tmp_path / "project"
    (work / "migrations").mkdir(parents=True)
    (work / "covet.toml").write_text(
        'database = "sqlite:///app.db"\nmigrations_dir = "migrations"\n'
        'backup = "team_sqlite_copy"\n'
    )
    write_migration(work / "migrations", CREATE_ITEMS, ["CREATE TABLE items (id INTEGER)"])
    yield work


def test_covet_migrate_up_uses_the_strategy_and_archives(project: Path, tmp_path: Path) -> None:
    archive = tmp_path / "team-archive"
    proc = covet("migrate", "up", cwd=project, COVET_TEAM_ARCHIVE=str(archive))
    assert proc.returncode == 0, proc.stderr
    [backup] = [b for b in map(read_manifest, (project / "backups").glob("*.json")) if b]
    assert backup.strategy == "team_sqlite_copy"
    assert backup.path.name.endswith(".team.sqlite3")
    assert backup.path.name in proc.stdout
    assert_archived(backup, archive)
    with sqlite3.connect(project / "app.db") as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (0,)
