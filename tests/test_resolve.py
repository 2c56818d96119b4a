"""``covet migrate resolve``: flags that contradict each other, and forgetting applied work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Target, database_target, write_migration

NAME = "2024_01_01_000000_create_a"


@pytest.fixture
def lite(tmp_path: Path) -> Any:
    with database_target("sqlite", tmp_path) as made:
        yield made


def covet(target: Target, migrations_dir: Path, *args: str) -> Any:
    env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    return subprocess.run(
        [sys.executable, "-m", "covet_core", "migrate", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_applied_and_rolled_back_exclude_each_other(lite, migrations_dir):
    write_migration(migrations_dir, NAME, ["CREATE TABLE a (id INTEGER)"], ["DROP TABLE a"])
    both = covet(lite, migrations_dir, "resolve", NAME, "--applied", "--rolled-back")
    assert both.returncode == 2
    assert both.stderr.count("\n") == 1 and "exclude each other" in both.stderr


def test_rolled_back_on_an_applied_migration_needs_force(lite, migrations_dir):
    write_migration(migrations_dir, NAME, ["CREATE TABLE a (id INTEGER)"], ["DROP TABLE a"])
    assert covet(lite, migrations_dir, "up").returncode == 0
    refused = covet(lite, migrations_dir, "resolve", NAME, "--rolled-back")
    assert refused.returncode == 2, refused.stderr
    assert "fully applied" in refused.stderr and "covet migrate down" in refused.stderr
    status = covet(lite, migrations_dir, "status")
    assert "1 applied" in status.stdout, "its history row is still there"
    forced = covet(lite, migrations_dir, "resolve", NAME, "--rolled-back", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "0 applied" in covet(lite, migrations_dir, "status").stdout


def test_in_doubt_needs_run(lite, migrations_dir):
    write_migration(migrations_dir, NAME, ["CREATE TABLE a (id INTEGER)"], ["DROP TABLE a"])
    alone = covet(lite, migrations_dir, "resolve", NAME, "--applied", "--in-doubt=completed")
    assert alone.returncode == 2 and "--run" in alone.stderr


def test_an_irreversible_migration_names_the_covet_command(lite, migrations_dir):
    write_migration(migrations_dir, NAME, ["CREATE TABLE a (id INTEGER)"])
    assert covet(lite, migrations_dir, "up").returncode == 0
    down = covet(lite, migrations_dir, "down")
    assert down.returncode == 2
    assert f"covet migrate resolve {NAME} --rolled-back --force" in down.stderr
    assert "history." not in down.stderr
