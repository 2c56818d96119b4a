"""Rough edges of the CLI (issue 12, item 7 and "rough edges a new user hit")."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Target, write_migration

from covet_core.cli import cli

A = "2024_01_01_000000_create_a"
B = "2024_01_02_000000_create_b"
C = "2024_01_03_000000_create_c"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for var in ("COVET_DATABASE_URL", "COVET_MIGRATIONS_DIR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


def table(directory: Path, name: str, table: str) -> None:
    write_migration(directory, name, [f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"],
                    [f"DROP TABLE {table}"])  # fmt: skip


def covet(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "covet_core", *args], cwd=cwd, env={**os.environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


# -- item 7 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1"])
def test_lock_timeout_must_be_finite(run, tmp_path, value):
    (tmp_path / "migrations").mkdir()
    for command in (["up"], ["down"]):
        result = run("--database", "sqlite:///a.db", "migrate", *command, "--lock-timeout", value)
        assert result.exit_code == 2 and "finite number of seconds" in result.output
    assert not (tmp_path / "a.db").exists()


async def test_the_library_refuses_a_lock_timeout_that_never_ends(adapter, target, tmp_path):
    from covet_core.errors import ConfigError
    from covet_core.manager import MigrationManager

    for value in (float("nan"), float("inf"), -1):
        with pytest.raises(ConfigError, match="lock_timeout must be a finite number"):
            MigrationManager(adapter, target.dialect, tmp_path, lock_timeout=value)


def test_a_fifo_named_like_a_migration_is_an_error_not_a_hang(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    os.mkfifo(folder / f"{A}.py")
    os.mkfifo(folder / "2024_01_02_000000_b.sql")
    proc = covet("migrate", "status", cwd=tmp_path, env={"COVET_DATABASE_URL": "sqlite:///a.db"})
    # The timeout only turns the old hang into a failure; nothing waits on it when it works.
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "not a regular file" in err and "Traceback" not in err


def test_a_nul_byte_in_a_migration_names_its_line(run, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / f"{A}.py").write_bytes(b"x = 1\ny = 2\x00\n")
    result = run("migrate", "status", env={"COVET_DATABASE_URL": "sqlite:///a.db"})
    assert result.exit_code == 2
    assert "syntax error at line 2: the file contains a NUL byte" in result.output
    (folder / f"{A}.py").write_bytes(b"# -*- coding: bogus -*-\nx = 1\n")
    result = run("migrate", "status", env={"COVET_DATABASE_URL": "sqlite:///a.db"})
    assert "syntax error: unknown encoding: bogus" in result.output
    assert "line None" not in result.output and "line 0" not in result.output


FULL_DISK = """
import asyncio, resource, signal, sys
from pathlib import Path
from covet_core.manager import MigrationManager
from covet_core.plugins import Plugins

async def main():
    plugins = Plugins.load()
    dialect = plugins.dialect("sqlite")
    adapter = dialect.adapter_from_url("sqlite:///big.db", Path.cwd())
    await adapter.connect()
    manager = MigrationManager(adapter, dialect, "migrations", plugins=plugins, backup_dir="backups")
    # A disk with 64 KiB free, for this process only: writes beyond it fail with EFBIG.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
    try:
        await manager.backup("full")
    except Exception as exc:
        print(type(exc).__name__, exc)
    finally:
        await adapter.disconnect()

asyncio.run(main())
"""


def test_a_full_disk_during_a_sqlite_backup_leaves_nothing_behind(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "big.db") as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 3000)
    (tmp_path / "migrations").mkdir()
    proc = subprocess.run([sys.executable, "-c", FULL_DISK], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.stdout.startswith("BackupError SQLite backup failed"), proc.stdout + proc.stderr
    assert list((tmp_path / "backups").iterdir()) == []


def test_looking_never_creates_the_sqlite_file(run, tmp_path):
    (tmp_path / "migrations").mkdir()
    table(tmp_path / "migrations", A, "a")
    env = {"COVET_DATABASE_URL": "sqlite:///app.db"}
    status = run("migrate", "status", env=env)
    assert status.exit_code == 0 and "app.db does not exist yet" in status.output
    assert "0 applied, 1 pending" in status.output
    dry = run("migrate", "up", "--dry-run", env=env)
    assert dry.exit_code == 0 and "would apply 1 migration(s)" in dry.output
    for command in (["migrate", "validate"], ["migrate", "repair"], ["data", "status"]):
        assert run(*command, env=env).exit_code == 0, command
    assert run("migrate", "down", "--dry-run", env=env).exit_code == 2  # nothing applied
    assert not (tmp_path / "app.db").exists()
    assert run("migrate", "up", env=env).exit_code == 0 and (tmp_path / "app.db").exists()


# -- rough edges ---------------------------------------------------------------------------------


def test_global_options_work_after_the_command(run, tmp_path):
    (tmp_path / "migrations").mkdir()
    table(tmp_path / "migrations", A, "a")
    result = run("migrate", "up", "-v", "--database", "sqlite:///x.db", "--log-format", "json")
    assert result.exit_code == 0, result.output
    assert '"event": "migrate.up.completed"' in result.output and (tmp_path / "x.db").exists()
    other = run("migrate", "status", "--dir", "nodir", "--database", "sqlite:///x.db")
    assert other.exit_code == 2 and "nodir does not exist (from --dir)" in other.output


def test_settings_are_found_from_a_subfolder(run, tmp_path, monkeypatch):
    (tmp_path / "covet.toml").write_text('database = "sqlite:///app.db"\n')
    (tmp_path / "migrations").mkdir()
    table(tmp_path / "migrations", A, "a")
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = run("migrate", "up")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "app.db").exists() and not (deep / "app.db").exists()


def test_the_search_for_settings_stops_at_the_repository_top(run, tmp_path, monkeypatch):
    (tmp_path / "covet.toml").write_text('database = "sqlite:///outside.db"\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    result = run("migrate", "status")
    assert result.exit_code == 2
    assert f"in {repo / 'sub'} and its parents up to {repo}" in result.output


async def _mark_partial(target: Target, name: str) -> None:
    from covet_core.history import MigrationHistory
    from covet_core.plugins import Plugins

    adapter = target.new_adapter()
    await adapter.connect()
    try:
        history = MigrationHistory(adapter, target.dialect, Plugins.load())
        async with adapter.transaction():
            await history.write(name, state="partial", checksum=None, direction="up",
                                statements_done=1, error="boom " * 20)  # fmt: skip
    finally:
        await adapter.disconnect()


def test_status_fits_80_columns_and_counts_every_state(run, target, migrations_dir):
    long_b = "2024_01_02_000000_add_a_rather_long_descriptive_name_to_b"
    table(migrations_dir, A, "a")
    table(migrations_dir, long_b, "b")
    table(migrations_dir, C, "c")
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    assert run("migrate", "up", "--target", A, env=env).exit_code == 0
    asyncio.run(_mark_partial(target, long_b))
    result = run("migrate", "status", env={**env, "COLUMNS": "80"})
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80, result.output
    assert long_b in result.output, "the name is never cut"
    assert "1 applied, 1 pending, 1 partial, 3 in all" in result.output
    wide = run("migrate", "status", env={**env, "COLUMNS": "200"})
    assert "applied at (UTC)" in wide.output and "by" in wide.output.splitlines()[0]


def test_a_migration_older_than_the_newest_applied_is_reported(run, target, migrations_dir):
    table(migrations_dir, B, "b")
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    assert run("migrate", "up", env=env).exit_code == 0
    table(migrations_dir, A, "a")  # a branch merged late
    status = run("migrate", "status", env=env)
    assert "pending, OUT OF ORDER" in status.output and "1 out of order" in status.output
    dry = run("migrate", "up", "--dry-run", env=env)
    assert f"warning: {A} is older than the newest applied migration {B}" in dry.output
    Path("covet.toml").write_text('out_of_order = "refuse"\n')
    refused = run("migrate", "up", env=env)
    assert refused.exit_code == 2 and f"error: {A} is older than" in refused.output
    Path("covet.toml").write_text('out_of_order = "allow"\n')
    allowed = run("migrate", "up", env=env)
    assert allowed.exit_code == 0 and "is older than" not in allowed.output
    Path("covet.toml").unlink()
    table(migrations_dir, "2024_01_01_120000_create_late", "late")
    warned = run("migrate", "up", env=env)
    assert warned.exit_code == 0 and "ran out of order" in warned.output


def test_create_sql_writes_covets_sql_form(run, target, migrations_dir):
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    created = run("migrate", "create", "users", "--sql",
                  "--forward", "CREATE TABLE users (id INTEGER PRIMARY KEY) -- people",
                  "--forward", "CREATE INDEX users_id ON users (id);",
                  "--backward", "DROP TABLE users", env=env)  # fmt: skip
    assert created.exit_code == 0, created.output
    path = next(migrations_dir.glob("*_users.sql"))
    assert "-- covet:up" in path.read_text() and "-- covet:down" in path.read_text()
    assert run("migrate", "up", env=env).exit_code == 0
    assert run("migrate", "down", env=env).exit_code == 0
    one_way = run("migrate", "create", "one_way", "--sql", "--forward", "SELECT 1", env=env)
    assert one_way.exit_code == 0
    lines = next(migrations_dir.glob("*_one_way.sql")).read_text().splitlines()
    assert "-- covet:down" not in lines, "no down section: it cannot be rolled back"
    injected = run("migrate", "create", "x", "--sql", "--forward", "SELECT 1\n-- covet:down\nDROP",
                   env=env)  # fmt: skip
    assert injected.exit_code == 2 and "directive" in injected.output


def test_steps_and_lock_timeout_have_help(run):
    text = run("migrate", "down", "--help").output
    assert "How many of the most recently applied" in text
    assert "Seconds to wait for the migration lock" in run("migrate", "up", "--help").output


INTERRUPTIBLE = """
import asyncio
from covet.database.migrations.runner import Migration


class M(Migration):
    forward_sql = ["CREATE TABLE a (id INTEGER PRIMARY KEY)"]
    backward_sql = ["DROP TABLE a"]

    async def forward(self, adapter):
        print("READY", flush=True)
        await asyncio.Event().wait()  # until Ctrl-C
"""


def test_ctrl_c_exits_130_with_one_line(tmp_path):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / f"{A}.py").write_text(textwrap.dedent(INTERRUPTIBLE))
    proc = covet("migrate", "up", cwd=tmp_path, env={"COVET_DATABASE_URL": "sqlite:///a.db"})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "error: interrupted (Ctrl-C)"
    status = subprocess.run([sys.executable, "-m", "covet_core", "migrate", "status"],
                            cwd=tmp_path, env={**os.environ, "COVET_DATABASE_URL": "sqlite:///a.db"},
                            capture_output=True, text=True)  # fmt: skip
    assert "0 applied, 1 pending" in status.stdout, "the interrupted migration left no trace"
