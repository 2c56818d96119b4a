"""Real projects' migration directories, run as they are: authelia (golang-migrate pairs with a
V prefix) and openfga (goose files) on every database. Read from ../shared/corpus."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Target

from covet.database.migrations import MigrationManager

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FOLDER = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


def corpus(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{path} is missing: CI must have shared/corpus beside the checkout")
        pytest.skip(f"{path} is missing (shared/corpus is not beside this checkout)")
    return path


async def prepare(adapter: Any, target: Target) -> None:
    if target.name == "sqlite":
        # authelia's own runner registers these on SQLite connections; so does a user of it.
        conn = adapter.connection
        await conn.create_function("BIN2B64", 1, lambda b: b and base64.b64encode(b).decode())
        await conn.create_function("B642BIN", 1, lambda s: s and base64.b64decode(s))


async def schema(adapter: Any, target: Target) -> list[tuple[Any, ...]]:
    """Tables, columns and indexes, without covet's own tables."""
    if target.name == "sqlite":
        rows = await adapter.fetch_all(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE '\\_covet%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY type, name"
        )
    elif target.name == "postgresql":
        rows = await adapter.fetch_all(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name NOT LIKE '\\_covet%' ORDER BY 1, 2"
        ) + await adapter.fetch_all(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename NOT LIKE '\\_covet%' ORDER BY 1, 2"
        )
    else:
        rows = await adapter.fetch_all(
            "SELECT table_name, column_name, column_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name NOT LIKE '\\_covet%' ORDER BY 1, 2"
        ) + await adapter.fetch_all(
            "SELECT table_name, index_name, column_name, seq_in_index FROM information_schema.statistics "
            "WHERE table_schema = DATABASE() AND table_name NOT LIKE '\\_covet%' ORDER BY 1, 2, 4"
        )
    return [tuple(r.values()) for r in rows]


async def test_authelia_up_down_up(adapter, target):
    directory = corpus("authelia", "internal", "storage", "migrations", FOLDER[target.name])
    await prepare(adapter, target)
    manager = MigrationManager(adapter, target.name, directory)
    up = await manager.migrate_up()
    assert up["success"], up["error"]
    assert len(up["applied"]) == 26 and up["applied"][0] == "V0001.Initial_Schema"
    first = await schema(adapter, target)
    assert first
    down = await manager.migrate_down(steps=26)
    if target.name == "mysql":
        # Known: on MariaDB the down of V0007 fails (a duplicate index name in the project's own
        # SQL). covet must stop there and say exactly where, never report it rolled back.
        assert not down["success"] and down["failed"] == "V0007.ConsistencyFixes"
        assert "V0007.ConsistencyFixes" in down["error"]
        assert "partial" in down["error"] and "statement 30" in down["error"]
        statuses = await manager.get_status()
        names = [s.name for s in statuses]
        at = names.index("V0007.ConsistencyFixes")
        assert statuses[at].state == "partial" and not statuses[at].applied
        assert all(not s.applied for s in statuses[at + 1 :]), "everything after it rolled back"
        assert all(s.applied for s in statuses[:at])
        return
    assert down["success"], down["error"]
    assert await schema(adapter, target) == []
    again = await manager.migrate_up()
    assert again["success"], again["error"]
    assert await schema(adapter, target) == first


async def test_openfga_goose(adapter, target):
    directory = corpus("openfga", "assets", "migrations", FOLDER[target.name])
    manager = MigrationManager(adapter, target.name, directory)
    names = [m.name for m in manager.load_migrations()]
    result = await manager.migrate_up()
    if target.name == "mysql":
        # Known: 007 uses MySQL 8 syntax (DROP INDEX ... LOCK = NONE) that MariaDB rejects,
        # half-way through a non-transactional migration.
        assert not result["success"] and result["failed"] == "007_collate_object_id"
        assert "007_collate_object_id" in result["error"] and "partial" in result["error"]
        status = {s.name: s for s in await manager.get_status()}
        assert status["006_extend_object_id"].applied
        assert not status["007_collate_object_id"].applied
        refused = await manager.migrate_up()
        assert (
            not refused["success"]
            and "covet migrate resolve 007_collate_object_id" in refused["error"]
        )
        return
    assert result["success"], result["error"]
    assert result["applied"] == names
    if target.name == "postgresql":
        plan = {
            step["name"]: step
            for step in (await manager.migrate_down(steps=len(names), dry_run=True))["plan"]
        }
        assert plan["006_add_collate_index"]["transaction"] is False  # -- +goose NO TRANSACTION
    down = await manager.migrate_down(steps=len(names))
    assert down["success"], down["error"]
    assert await schema(adapter, target) == []
