"""The `covet` CLI: commands, output, exit codes, JSON events, configuration errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import Target, write_migration

A = "2024_01_01_000000_create_a"
B = "2024_01_02_000000_create_b"


def two(directory: Path) -> None:
    write_migration(directory, A, ["CREATE TABLE a (id INTEGER PRIMARY KEY)"], ["DROP TABLE a"])
    write_migration(directory, B, ["CREATE TABLE b (id INTEGER PRIMARY KEY)"], ["DROP TABLE b"])


def test_init_then_first_migration(run, tmp_path):
    result = run("init")
    assert result.exit_code == 0, result.output
    assert 'database = "sqlite:///covet.db"' in (tmp_path / "covet.toml").read_text()
    assert (tmp_path / "migrations").is_dir()
    again = run("init")
    assert again.exit_code == 2 and "already exists" in again.output

    created = run("migrate", "create", "create_users", "--forward",
                  "CREATE TABLE users (id INTEGER PRIMARY KEY)", "--backward", "DROP TABLE users")  # fmt: skip
    assert created.exit_code == 0 and "_create_users.py" in created.output
    up = run("migrate", "up")
    assert up.exit_code == 0, up.output
    assert "✓" in up.output and "create_users" in up.output
    assert (tmp_path / "covet.db").exists(), "relative SQLite path resolved beside covet.toml"


def test_no_database_configured_is_a_usage_error(run):
    result = run("migrate", "status")
    assert result.exit_code == 2
    assert "no database configured" in result.output and "COVET_DATABASE_URL" in result.output


def test_password_on_the_command_line_is_refused(run):
    result = run("--database", "postgresql://app:hunter2@db/prod", "migrate", "status")
    assert result.exit_code == 2
    assert "hunter2" not in result.output and "COVET_DATABASE_URL" in result.output


def test_up_dry_run_status_down(run, target: Target, migrations_dir: Path):
    two(migrations_dir)
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    dry = run("migrate", "up", "--dry-run", env=env)
    assert dry.exit_code == 0, dry.output
    assert "would apply 2 migration(s)" in dry.output
    assert "CREATE TABLE a (id INTEGER PRIMARY KEY);" in dry.output
    status = run("migrate", "status", env=env)
    assert status.exit_code == 0 and "0 applied, 2 pending" in status.output

    up = run("migrate", "up", "--target", "create_a", env=env)
    assert up.exit_code == 0 and A in up.output and B not in up.output
    status = run("migrate", "status", env=env)
    assert "[X]" in status.output and "1 applied, 1 pending" in status.output

    down = run("migrate", "down", "--steps", "1", env=env)
    assert down.exit_code == 0 and "Rolled back 1 migration(s)" in down.output
    bad = run("migrate", "down", "--steps", "0", env=env)
    assert bad.exit_code == 2


def test_failed_migration_exits_1_with_one_line_and_no_traceback(run, target, migrations_dir):
    two(migrations_dir)
    write_migration(migrations_dir, "2024_01_03_000000_broken", ["CREATE TABLE a (id INTEGER)"])
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    result = run("migrate", "up", env=env)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "2024_01_03_000000_broken" in errors[0]
    assert "Traceback" not in result.output
    assert "✓ " + A in result.output and "✗ 2024_01_03_000000_broken" in result.output


def test_verbose_shows_traceback(target, migrations_dir, tmp_path):
    write_migration(migrations_dir, "2024_01_03_000000_broken", ["CREATE TABLE a ("])
    env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "covet_core", "-v", "migrate", "up"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "error: Could not apply" in proc.stderr


def test_bad_migration_file_names_file_and_line(run, target, migrations_dir):
    (migrations_dir / f"{A}.py").write_text(
        "from covet.database.migrations.runner import Migration\n\nclass M(Migration:\n"
    )
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    for command in (("migrate", "up"), ("migrate", "validate"), ("migrate", "status")):
        result = run(*command, env=env)
        assert result.exit_code == 2, command
        assert f"{A}.py: syntax error at line 3" in result.output


def test_validate_exit_codes(run, target, migrations_dir):
    two(migrations_dir)
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    assert run("migrate", "up", env=env).exit_code == 0
    ok = run("migrate", "validate", env=env)
    assert ok.exit_code == 0 and "OK: 2 migration file(s)" in ok.output
    path = migrations_dir / f"{A}.py"
    path.write_text(path.read_text().replace("CREATE TABLE a", "CREATE TABLE aa"))
    changed = run("migrate", "validate", env=env)
    assert changed.exit_code == 1 and "changed after it was applied" in changed.output
    status = run("migrate", "status", env=env)
    assert "CHANGED" in status.output
    refused = run("migrate", "up", env=env)
    assert refused.exit_code == 2 and "covet migrate repair" in refused.output
    not_confirmed = run("migrate", "repair", env=env)
    assert not_confirmed.exit_code == 2 and "--yes" in not_confirmed.output
    repaired = run("migrate", "repair", "--yes", env=env)
    assert repaired.exit_code == 0 and "accepted new checksum" in repaired.output
    assert run("migrate", "validate", env=env).exit_code == 0


def test_json_log_format_emits_only_json_events(run, target, migrations_dir):
    two(migrations_dir)
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    result = run("--log-format", "json", "migrate", "up", env=env)
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.output.splitlines()]
    applied = [e for e in events if e["event"] == "migration.applied"]
    assert [e["migration"] for e in applied] == [A, B]
    assert all(e["dialect"] == target.name and e["direction"] == "up" for e in applied)
    assert events[-1]["event"] == "migrate.up.completed" and events[-1]["applied"] == [A, B]
    status = run("--log-format", "json", "migrate", "status", env=env)
    rows = [json.loads(line) for line in status.output.splitlines()]
    assert [(r["migration"], r["state"]) for r in rows] == [(A, "applied"), (B, "applied")]


def test_flag_beats_env_beats_config(run, tmp_path):
    # status names the database it would use (and, not creating it, says it does not exist).
    (tmp_path / "covet.toml").write_text('database = "sqlite:///from-config.db"\n')
    (tmp_path / "migrations").mkdir()
    assert "from-config.db does not exist yet" in run("migrate", "status").output
    from_env = run("migrate", "status", env={"COVET_DATABASE_URL": "sqlite:///from-env.db"})
    assert "from-env.db does not exist yet" in from_env.output
    from_flag = run("--database", "sqlite:///from-flag.db", "migrate", "status",
                    env={"COVET_DATABASE_URL": "sqlite:///from-env2.db"})  # fmt: skip
    assert "from-flag.db" in from_flag.output and "from-env2.db" not in from_flag.output
    assert not list(tmp_path.glob("*.db")), "looking never creates a SQLite file"


def test_unlock_resolve_and_plugins(run, target, migrations_dir):
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    unlocked = run("migrate", "unlock", env=env)
    assert unlocked.exit_code == 0 and "was not held" in unlocked.output
    unresolved = run("migrate", "resolve", A, env=env)
    assert unresolved.exit_code == 2 and "--applied or --rolled-back" in unresolved.output
    nothing = run("migrate", "resolve", A, "--applied", env=env)
    assert nothing.exit_code == 2 and "nothing to resolve" in nothing.output
    plugins = run("plugins")
    assert plugins.exit_code == 0
    line = next(line for line in plugins.output.splitlines() if line.startswith("sqlite "))
    assert "covet" in line and "covet_register_dialects" in line


def test_console_script_is_installed():
    covet = Path(sys.executable).parent / "covet"
    proc = subprocess.run([str(covet), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "covet" in proc.stdout


def test_init_with_config_in_a_subfolder(run, tmp_path):
    result = run("--config", "deploy/covet.toml", "init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "deploy" / "migrations").is_dir()
    assert not (tmp_path / "migrations").exists()
    created = run(
        "--config", "deploy/covet.toml", "migrate", "create", "first", "--forward", "SELECT 1"
    )
    assert created.exit_code == 0
    path = next((tmp_path / "deploy" / "migrations").glob("*_first.py"))
    assert "Database: sqlite" in path.read_text()


def test_console_reports_a_failure_once(target, migrations_dir, tmp_path):
    write_migration(migrations_dir, "2024_01_03_000000_broken", ["CREATE TABLE a ("])
    env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "covet_core", "migrate", "up"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.count("2024_01_03_000000_broken") == 1, proc.stderr
    assert proc.stderr.startswith("error: Could not apply")
