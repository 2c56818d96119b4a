"""``duckdb_copy``: a backup before migrating, and a restore, through the CLI on real files."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb

pytest_plugins = ["duckdb_support"]

Covet = Callable[..., subprocess.CompletedProcess[str]]


def _migration(folder: Path, name: str, forward: list[str], backward: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(
        "from covet_core.migration import Migration\n\n\n"
        "class M(Migration):\n"
        f"    forward_sql = {forward!r}\n"
        f"    backward_sql = {backward!r}\n"
    )


def test_backup_before_migrating_and_restore_it(tmp_path: Path, covet: Covet) -> None:
    db = tmp_path / "app.duckdb"
    with duckdb.connect(str(db)) as conn:
        for statement in [
            "CREATE SCHEMA sales",
            "CREATE SEQUENCE sales.orders_id_seq",
            "CREATE TYPE mood AS ENUM ('ok', 'sad')",
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, m mood)",
            "CREATE TABLE sales.orders (id INTEGER PRIMARY KEY "
            "DEFAULT nextval('sales.orders_id_seq'), customer INTEGER)",
            "CREATE TABLE notes (customer INTEGER REFERENCES customers (id), body VARCHAR)",
            "CREATE INDEX ix_orders_customer ON sales.orders (customer)",
            "CREATE VIEW sales.big AS SELECT * FROM sales.orders WHERE id > 1",
            "INSERT INTO customers VALUES (1, 'ok'), (2, 'sad')",
            "INSERT INTO sales.orders (customer) VALUES (1), (2), (2)",
            "INSERT INTO notes VALUES (2, 'likes tea')",
        ]:
            conn.execute(statement)
    _migration(
        tmp_path / "migrations",
        "2024_01_01_000000_wipe",
        ["DELETE FROM sales.orders WHERE customer = 2", "CREATE TABLE extra (i INTEGER)"],
        ["DROP TABLE extra"],
    )
    up = covet("--log-format", "json", "migrate", "up", "--backup")
    created = [json.loads(line) for line in up.stdout.splitlines() if '"backup.created"' in line]
    assert len(created) == 1, up.stdout
    backup = tmp_path / created[0]["path"]  # relative to the working directory
    assert backup.suffix == ".duckdb"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert [p.name for p in backup.parent.iterdir() if p.name.startswith(".covet-")] == []
    with duckdb.connect(str(backup), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM sales.orders").fetchone() == (3,)

    covet("backup", "restore", str(backup), "--yes")
    with duckdb.connect(str(db)) as conn:  # read-write: nextval advances the sequence
        assert conn.execute("SELECT id, customer FROM sales.orders ORDER BY id").fetchall() == [
            (1, 1),
            (2, 2),
            (3, 2),
        ]
        tables = conn.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
        # The database is the backup again: extra is gone, covet's history as it was then.
        assert tables == [
            ("_covet_migration_lock",),
            ("_covet_migrations",),
            ("customers",),
            ("notes",),
            ("orders",),
        ]
        # The restore released its lock, and no row of the backup's lock holder came back.
        assert conn.execute("SELECT count(*) FROM _covet_migration_lock").fetchone() == (0,)
        assert conn.execute("SELECT body FROM notes").fetchall() == [("likes tea",)]
        assert conn.execute("SELECT count(*) FROM sales.big").fetchone() == (2,)
        assert conn.execute("SELECT nextval('sales.orders_id_seq')").fetchone() == (4,)
        assert conn.execute("SELECT index_name FROM duckdb_indexes()").fetchall() == [
            ("ix_orders_customer",)
        ]
        assert conn.execute("SELECT m FROM customers WHERE id = 2").fetchone() == ("sad",)
    status = covet("migrate", "status").stdout
    assert "0 applied, 1 pending" in status
    covet("migrate", "up")  # and the next run takes the lock at once
