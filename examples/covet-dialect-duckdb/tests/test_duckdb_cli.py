"""``covet --database duckdb:///app.duckdb migrate ...`` as a user runs it, on a real file."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from covet_dialect_duckdb.adapter import DuckDBAdapter

from covet_core.errors import ConnectionFailedError

pytest_plugins = ["duckdb_support"]  # fixtures: covet, adapter, dialect

Covet = Callable[..., subprocess.CompletedProcess[str]]

CREATE = "2024_01_01_000000_create_items"
INDEX = "2024_01_02_000000_index_items"
BROKEN = "2024_01_03_000000_broken"


def write_migration(folder: Path, name: str, forward: list[str], backward: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(
        "from covet_core.migration import Migration\n\n\n"
        "class M(Migration):\n"
        f"    forward_sql = {forward!r}\n"
        f"    backward_sql = {backward!r}\n"
    )
    return path


def _migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    write_migration(
        folder,
        CREATE,
        [
            "CREATE SEQUENCE items_id_seq",
            "CREATE TABLE items (id BIGINT PRIMARY KEY DEFAULT nextval('items_id_seq'), "
            "name VARCHAR NOT NULL)",
            "INSERT INTO items (name) VALUES ('first'); INSERT INTO items (name) VALUES ('2nd')",
        ],
        ["DROP TABLE items", "DROP SEQUENCE items_id_seq"],
    )
    write_migration(
        folder, INDEX, ["CREATE INDEX ix_items_name ON items (name)"], ["DROP INDEX ix_items_name"]
    )
    return folder


def _tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_up_status_down_on_a_duckdb_file(tmp_path: Path, covet: Covet) -> None:
    _migrations(tmp_path)
    up = covet("migrate", "up")
    assert f"✓ {CREATE}" in up.stdout and f"✓ {INDEX}" in up.stdout
    db = tmp_path / "app.duckdb"
    assert {"items", "_covet_migrations"} <= _tables(db)
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT id, name FROM items ORDER BY id").fetchall() == [
            (1, "first"),
            (2, "2nd"),
        ]
        states = conn.execute("SELECT name, state FROM _covet_migrations ORDER BY name").fetchall()
    assert states == [(CREATE, "applied"), (INDEX, "applied")]

    status = covet("migrate", "status").stdout
    assert "2 applied, 0 pending" in status

    covet("migrate", "down")
    assert "1 applied, 1 pending" in covet("migrate", "status").stdout
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM duckdb_indexes()").fetchone() == (0,)
    covet("migrate", "down")
    assert "items" not in _tables(db)
    assert "0 applied, 2 pending" in covet("migrate", "status").stdout


def test_dry_run_changes_nothing_and_shows_the_sql(tmp_path: Path, covet: Covet) -> None:
    _migrations(tmp_path)
    dry = covet("migrate", "up", "--dry-run")
    assert "CREATE INDEX ix_items_name ON items (name)" in dry.stdout
    # Looking does not create: the file covet would create does not exist yet.
    assert not (tmp_path / "app.duckdb").exists()


def test_a_failed_migration_leaves_no_trace(tmp_path: Path, covet: Covet) -> None:
    folder = _migrations(tmp_path)
    covet("migrate", "up")
    write_migration(
        folder,
        BROKEN,
        ["CREATE TABLE tags (id INTEGER)", "INSERT INTO items (name) VALUES ('x')", "SELEC 1"],
        ["DROP TABLE tags"],
    )
    failed = covet("migrate", "up", check=False)
    assert failed.returncode == 1
    assert "Nothing of it was kept" in failed.stdout + failed.stderr
    db = tmp_path / "app.duckdb"
    assert "tags" not in _tables(db)  # DuckDB's DDL rolled back with the transaction
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (2,)
        assert conn.execute(
            "SELECT count(*) FROM _covet_migrations WHERE name = ?", [BROKEN]
        ).fetchone() == (0,)


def _hold(path: Path) -> subprocess.Popen[str]:
    """A process that keeps ``path`` open (DuckDB's file lock) until its stdin closes."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "open"  # it holds DuckDB's file lock now
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)


def test_a_second_process_gets_one_clear_line_naming_the_holder(
    tmp_path: Path, covet: Covet
) -> None:
    _migrations(tmp_path)
    covet("migrate", "up")
    holder = _hold(tmp_path / "app.duckdb")
    try:
        refused = covet("migrate", "up", check=False, url="duckdb:///app.duckdb?timeout=0")
    finally:
        _release(holder)
    assert refused.returncode == 2
    message = (refused.stdout + refused.stderr).strip()
    assert message.count("\n") == 0, message  # one line, no traceback
    assert f"is locked: in use by another process (pid {holder.pid})" in message
    # Once the holder is gone the same command works.
    assert "0 pending" in covet("migrate", "status").stdout


async def test_connect_waits_for_the_other_process_to_close_the_file(tmp_path: Path) -> None:

    path = tmp_path / "app.duckdb"
    holder = _hold(path)
    try:
        with pytest.raises(ConnectionFailedError, match=f"pid {holder.pid}"):
            await DuckDBAdapter(path, timeout=0).connect()
        waiting = DuckDBAdapter(path, timeout=60)
        task = asyncio.ensure_future(waiting.connect())
        # Still waiting: it cannot open the file while the holder has it.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 0.5)
    finally:
        _release(holder)
    await task  # the file is free: the waiting connect opens it
    assert await waiting.fetch_value("SELECT 42") == 42
    await waiting.disconnect()


def test_a_sql_migration_is_split_by_duckdb_rules(tmp_path: Path, covet: Covet) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "2024_01_01_000000_notes.sql").write_text(
        "-- covet:up\n"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR);\n"
        "INSERT INTO notes VALUES (1, 'a; b'), (2, $$c; 'd'$$), (3, E'e\\'; f');\n"
        "CREATE MACRO twice(x) AS x * 2;\n"
        "-- covet:down\n"
        "DROP MACRO twice;\n"
        "DROP TABLE notes;\n"
    )
    covet("migrate", "up")
    db = tmp_path / "app.duckdb"
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT body FROM notes ORDER BY id").fetchall() == [
            ("a; b",),
            ("c; 'd'",),
            ("e'; f",),
        ]
        assert conn.execute("SELECT twice(21)").fetchone() == (42,)
    covet("migrate", "down")
    assert "notes" not in _tables(db)
