"""Mistakes a user makes on the command line: each is one `error:` line, exit 2, no traceback,
and leaves the database and the files as they were (issue 12, items 4 and 6)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from conftest import Target, write_migration

A = "2024_01_01_000000_create_a"
B = "2024_01_02_000000_create_b"


def one_error(result: Result, *fragments: str) -> str:
    """The single `error:` line of a usage error (exit 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def history(target: Target) -> list[str]:
    async def read() -> list[str]:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            rows = await adapter.fetch_all("SELECT name FROM _covet_migrations ORDER BY name")
            return [r["name"] for r in rows]
        finally:
            await adapter.disconnect()

    return asyncio.run(read())


def applied_two(run, target: Target, migrations_dir: Path) -> dict[str, str]:
    write_migration(
        migrations_dir, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"]
    )
    write_migration(
        migrations_dir, B, ["CREATE TABLE b (id INTEGER PRIMARY KEY)"], ["DROP TABLE b"]
    )
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    assert run("migrate", "up", env=env).exit_code == 0
    return env


# -- item 4: a typo in --dir must not wipe the history ------------------------------------------


def test_a_mistyped_dir_is_an_error_for_every_command_that_reads_migrations(
    run, target, migrations_dir
):
    env = {**applied_two(run, target, migrations_dir), "COVET_MIGRATIONS_DIR": ""}
    for command in (
        ["migrate", "repair", "--yes"],
        ["migrate", "repair", "--yes", "--forget-all"],
        ["migrate", "status"],
        ["migrate", "validate"],
        ["migrate", "up"],
        ["migrate", "up", "--dry-run"],
        ["migrate", "down"],
        ["migrate", "baseline"],
    ):
        result = run("--dir", "nodir", *command, env=env)
        one_error(result, "nodir does not exist", "from --dir")
    assert history(target) == [A, B]


def test_the_error_says_where_the_folder_came_from(run, tmp_path):
    (tmp_path / "covet.toml").write_text(
        'database = "sqlite:///app.db"\nmigrations_dir = "db/migratons"\n'
    )
    one_error(run("migrate", "status"), "db/migratons does not exist", "covet.toml")
    env = {"COVET_MIGRATIONS_DIR": "elsewhere"}
    one_error(run("migrate", "status", env=env), "elsewhere", "from COVET_MIGRATIONS_DIR")
    assert not (tmp_path / "app.db").exists()


def test_create_and_init_still_make_the_folder(run, tmp_path):
    result = run("--database", "sqlite:///app.db", "--dir", "new", "migrate", "create", "first")
    assert result.exit_code == 0 and (tmp_path / "new").is_dir()


def test_repair_shows_its_plan_and_acts_only_with_yes(run, target, migrations_dir):
    env = applied_two(run, target, migrations_dir)
    (migrations_dir / f"{A}.py").unlink()
    path = migrations_dir / f"{B}.py"
    path.write_text(path.read_text().replace("PRIMARY KEY", "PRIMARY KEY "))
    path.write_text(path.read_text().replace("CREATE TABLE b", "CREATE TABLE  b2"))
    refused = run("migrate", "repair", env=env)
    assert f"forget {A} (applied, file missing)" in refused.output
    assert f"accept the new checksum of {B}" in refused.output
    one_error(refused, "--yes")
    assert history(target) == [A, B]
    done = run("migrate", "repair", "--yes", env=env)
    assert done.exit_code == 0, done.output
    assert done.output.index(f"forget {A}") < done.output.index(f"forgot {A}")
    assert history(target) == [B]
    assert run("migrate", "validate", env=env).exit_code == 0


def test_repair_never_forgets_every_applied_migration_without_forget_all(
    run, target, migrations_dir, tmp_path
):
    env = applied_two(run, target, migrations_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**env, "COVET_MIGRATIONS_DIR": str(empty)}
    refused = run("migrate", "repair", "--yes", env=env)
    assert A in refused.output and B in refused.output, "the plan names each row"
    one_error(refused, "all 2 applied migration(s)", "--forget-all")
    assert history(target) == [A, B]
    forced = run("migrate", "repair", "--yes", "--forget-all", env=env)
    assert forced.exit_code == 0 and history(target) == []


async def test_the_library_never_forgets_history_for_a_missing_folder(adapter, target, tmp_path):
    from covet_core.errors import DiscoveryError, HistoryError
    from covet_core.manager import MigrationManager

    folder = tmp_path / "migrations"
    folder.mkdir()
    write_migration(folder, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"])
    manager = MigrationManager(adapter, target.dialect, folder)
    assert (await manager.migrate_up())["applied"] == [A]
    lost = MigrationManager(adapter, target.dialect, tmp_path / "migratons")
    for call in (lost.repair(), lost.get_status(), lost.validate()):
        with pytest.raises(DiscoveryError, match="does not exist, but the history records 1"):
            await call
    assert "does not exist" in (await lost.migrate_up())["error"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(HistoryError, match="forget all 1 applied"):
        await MigrationManager(adapter, target.dialect, empty).repair()
    assert [r.name for r in await manager.history.records()] == [A]


# -- item 6: tracebacks instead of one line --------------------------------------------------


def test_create_with_a_300_character_name(run, tmp_path):
    (tmp_path / "migrations").mkdir()
    one_error(run("--database", "sqlite:///a.db", "migrate", "create", "a" * 300), "at most")
    assert not list((tmp_path / "migrations").iterdir())


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody can write into: chmod for a normal user; root needs a read-only mount."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"running as root and cannot mount a read-only tmpfs: {mounted.stderr!r}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_create_into_a_read_only_folder(run, read_only_dir):
    for extra in ([], ["--sql"]):
        result = run("--database", "sqlite:///a.db", "--dir", str(read_only_dir), "migrate",
                     "create", "first", *extra)  # fmt: skip
        one_error(result, "cannot create", "writable")
    assert not list(read_only_dir.iterdir())


@pytest.mark.parametrize(
    "text",
    [
        b'database = "\xff"\n',
        b"a = " + b"[" * 2000 + b"]" * 2000 + b"\n",
        b"[tool]\n" + b"x = {a = " * 600 + b"1" + b"}" * 600 + b"\n",
        b'database = "sqlite:///a.db"\x00\n',
        b"\xef\xbb\xbfdatabase = 1\n",
        b'database = ["sqlite:///a.db"]\n',
        b'lock_timeout = nan\ndatabase = "sqlite:///a.db"\n',
        b'lock_timeout = inf\ndatabase = "sqlite:///a.db"\n',
        b'out_of_order = "sometimes"\ndatabase = "sqlite:///a.db"\n',
        b'database = "sqlite:///${COVET_TEST_UNSET_VARIABLE}.db"\n',
        b'database = "sqlite:///a.db"\nmigrations_dir = "a\\u0000b"\n',
        b'database = "sqlite:///a.db"\nhistory_table = "a\\u0000b"\n',
        b'database = "sqlite:///a.db"\nhistory_table = ""\n',
    ],
)
def test_a_hostile_config_file_is_one_line(run, tmp_path, text):
    (tmp_path / "covet.toml").write_bytes(text)
    (tmp_path / "migrations").mkdir()
    one_error(run("migrate", "status"), "covet.toml")
    assert snapshot(tmp_path) == {"covet.toml": text}


def test_a_config_file_that_is_a_directory_is_an_error(run, tmp_path):
    (tmp_path / "covet.toml").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.covet]\ndatabase = "sqlite:///a.db"\n')
    one_error(run("migrate", "status"), "covet.toml is not a file")
    one_error(run("--config", "covet.toml", "migrate", "status"), "is not a file")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://u@[::1/db", "unclosed ["),
        ("postgresql://postgres@127.0.0.1/test?sslmode=bogus", "sslmode must be one of"),
        ("sqlite:///a%00b.db", "NUL"),
        ("postgresql://postgres@127.0.0.1/test?connect_timeout=-1", "finite number"),
        ("postgresql://postgres@127.0.0.1/test?connect_timeout=nan", "finite number"),
        ("mysql://root@127.0.0.1/test?connect_timeout=inf", "finite number"),
        ("sqlite:///a.db?timeout=-5", "finite number"),
        ("postgresql://postgres@127.0.0.1:99999/test", "port"),
        ("mysql://root@127.0.0.1:x/test", "port"),
        ("sqlite:///a#b.db", "contains #"),
        ("postgresql://postgres@127.0.0.1/te\nst", "control character"),
        ("://nothing", "no scheme"),
        ("mysql://root@127.0.0.1/test?charset=bogus", "unknown MySQL charset"),
        ("sqlite:///\udcff.db", "not valid UTF-8"),
        ("", "no database configured"),
    ],
)
def test_a_malformed_url_is_one_line(run, tmp_path, url, fragment):
    (tmp_path / "migrations").mkdir()
    one_error(run("migrate", "status", env={"COVET_DATABASE_URL": url}), fragment)
    assert snapshot(tmp_path) == {}


@pytest.mark.parametrize("password", ["pa/ss@x", "pa#ss", "pa?ss", "pa:s/s"])
@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_an_unencoded_password_says_to_percent_encode_and_is_not_echoed(
    run, tmp_path, scheme, password
):
    (tmp_path / "migrations").mkdir()
    url = f"{scheme}://app:{password}@127.0.0.1/db"
    line = one_error(run("migrate", "status", env={"COVET_DATABASE_URL": url}), "percent-encode")
    assert password not in line and "app:" not in line and "127.0.0.1" not in line


def test_a_migrations_folder_name_too_long_for_the_file_system(run, tmp_path):
    (tmp_path / "covet.toml").write_text(
        f'database = "sqlite:///a.db"\nmigrations_dir = "{"a" * 300}"\n'
    )
    for command in (["migrate", "status"], ["migrate", "create", "x"]):
        one_error(run(*command), "File name too long")


def test_a_restore_from_an_edited_manifest_is_one_line(run, tmp_path):
    (tmp_path / "migrations").mkdir()
    env = {"COVET_DATABASE_URL": "sqlite:///app.db"}
    assert run("migrate", "up", env=env).exit_code == 0
    assert run("backup", "create", env=env).exit_code == 0
    manifest = next((tmp_path / "backups").glob("*.json"))
    original = json.loads(manifest.read_text())
    for strategy in (["sqlite_backup"], None, "", {"a": 1}):
        manifest.write_text(json.dumps({**original, "strategy": strategy}))
        before = (tmp_path / "app.db").read_bytes()
        result = run("backup", "restore", "--yes", str(manifest.with_suffix("")), env=env)
        one_error(result, "no valid manifest")
        assert (tmp_path / "app.db").read_bytes() == before
    manifest.write_text(json.dumps({**original, "size": "12"}))
    listed = run("backup", "list", env=env)
    assert listed.exit_code == 0 and "No backups" in listed.output
