"""Several OS processes run `covet migrate up` at once against one database."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import write_migration

PROCESSES = 8


def test_parallel_migrate_up_applies_each_migration_once(target, migrations_dir, tmp_path):
    names = [f"2024_01_0{i}_000000_step_{i}" for i in range(1, 6)]
    for i, name in enumerate(names):
        write_migration(
            migrations_dir,
            name,
            [f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY)", f"INSERT INTO t{i} (id) VALUES (1)"],
            [f"DROP TABLE t{i}"],
        )
    env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations_dir)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "covet_core", "migrate", "up", "--lock-timeout", "60"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, f"exit {proc.returncode}: {out}\n{err}"
    applied_lines = [line for out, _ in outputs for line in out.splitlines() if "✓" in line]
    assert sorted(line.split()[1] for line in applied_lines) == names, "each applied exactly once"

    status = subprocess.run(
        [sys.executable, "-m", "covet_core", "--log-format", "json", "migrate", "status"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    applied = [line for line in status.stdout.splitlines() if '"applied": true' in line]
    assert len(applied) == len(names)
