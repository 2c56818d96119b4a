"""The examples/ folder runs as the README says (on a copy, never writing into the checkout)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def covet(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "covet_core", *args], cwd=cwd, capture_output=True, text=True
    )


def test_quickstart_up_down_up(tmp_path):
    work = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", work, ignore=shutil.ignore_patterns("*.db*"))
    up = covet(work, "migrate", "up")
    assert up.returncode == 0, up.stderr
    assert up.stdout.count("✓") == 3
    with sqlite3.connect(work / "quickstart.db") as db:
        assert db.execute("SELECT email, is_admin FROM users").fetchall() == [
            ("admin@example.com", 1)
        ]
    status = covet(work, "migrate", "status")
    assert "3 applied, 0 pending" in status.stdout
    down = covet(work, "migrate", "down", "--steps", "3")
    assert down.returncode == 0, down.stderr
    with sqlite3.connect(work / "quickstart.db") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "users" not in tables and "_covet_migrations" in tables
    assert covet(work, "migrate", "up").returncode == 0
