"""The user guide's examples, run as written on SQLite (connection details swapped only).

Code blocks are read from docs/migrations-guide.md (a copy of the seed guide) from "Quick
Start" to "Rolling Back Migrations", and executed in order in one namespace, the way a reader
would paste them into one async session.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import write_migration

from covet.database.adapters.sqlite import SQLiteAdapter
from covet_core.discovery import load_migration

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "migrations-guide.md"
SEED = ROOT.parent / "shared" / "seed" / "MIGRATIONS_GUIDE.md"


def guide_blocks(start: str, end: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(f"## {start}") : text.index(f"## {end}")]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def on_sqlite(code: str, db: Path) -> str:
    """Swap the connection details: the only change the guide allows."""
    code = code.replace(
        "from covet.database.adapters.postgresql import PostgreSQLAdapter",
        "from covet.database.adapters.sqlite import SQLiteAdapter",
    )
    code = re.sub(r"PostgreSQLAdapter\(.*?\)", f"SQLiteAdapter({str(db)!r})", code, flags=re.DOTALL)
    return code.replace("'postgresql'", "'sqlite'")


async def run_block(code: str, namespace: dict[str, Any]) -> None:
    compiled = compile(code, "<guide>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    outcome = eval(compiled, namespace)  # noqa: S307 - executing the guide's own examples
    if asyncio.iscoroutine(outcome):
        await outcome


def test_guide_copy_matches_the_seed() -> None:
    if not SEED.exists():
        pytest.skip("shared/seed is not beside this checkout")
    assert GUIDE.read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")


def test_guide_examples_run_as_written(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "myapp.db"
    blocks = guide_blocks("Quick Start", "Auto-Generating Migrations")
    assert len(blocks) == 12
    (install, basic, create, structure, apply_all, apply_target, dry_run, status,
     down_one, down_three, down_dry, reversible) = blocks  # fmt: skip

    # Quick Start: a whole program with its own asyncio.run(), on an empty migrations folder.
    exec(on_sqlite(install, db), {})  # noqa: S102
    exec(on_sqlite(basic, db), {"__name__": "__main__"})  # noqa: S102
    assert "Applied 0 migrations" in capsys.readouterr().out

    # The file-structure example is a valid migration file, loadable as it stands.
    sample = tmp_path / "sample" / "2024_10_11_153000_add_user_email_index.py"
    sample.parent.mkdir()
    sample.write_text(structure)
    loaded = load_migration(sample)
    assert type(loaded).__name__ == "AddUserEmailIndexMigration"
    assert loaded.forward_sql == ["CREATE INDEX idx_user_email ON users(email)", "ANALYZE users"]
    assert loaded.backward_sql == ["DROP INDEX idx_user_email"]

    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for name, table in (
        ("2024_10_11_150000_create_users", "users"),
        ("2024_10_11_153000_add_indexes", "tags"),
        ("2024_10_11_160000_create_posts", "posts"),
    ):
        write_migration(
            migrations,
            name,
            [f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, email VARCHAR(255))"],
            [f"DROP TABLE {table}"],
        )

    async def session() -> None:
        adapter = SQLiteAdapter(db)
        await adapter.connect()
        ns: dict[str, Any] = {"adapter": adapter, "__name__": "__guide__"}
        monkeypatch.setattr(builtins, "input", lambda prompt="": "yes")

        await run_block(on_sqlite(create, db), ns)
        created = ns["filepath"]
        assert created.exists() and created.name.endswith("_add_user_email_index.py")

        await run_block(on_sqlite(apply_all, db), ns)
        assert ns["result"]["success"], ns["result"]["error"]
        assert ns["result"]["applied"][-1] == created.stem
        assert "Duration:" in capsys.readouterr().out

        await run_block(on_sqlite(apply_target, db), ns)
        assert ns["result"]["success"] and ns["result"]["applied"] == []

        await run_block(on_sqlite(dry_run, db), ns)
        assert "Would apply 0 migrations:" in capsys.readouterr().out

        await run_block(on_sqlite(status, db), ns)
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 4 and all(line.startswith("[X] ") for line in lines)
        assert "(applied 20" in lines[0]

        await run_block(on_sqlite(down_one, db), ns)
        assert f"Rolled back: ['{created.stem}']" in capsys.readouterr().out

        await run_block(on_sqlite(down_three, db), ns)
        assert ns["result"]["success"] and len(ns["result"]["rolled_back"]) == 3

        await ns["manager"].migrate_up()
        await run_block(on_sqlite(down_dry, db), ns)
        assert ns["result"]["dry_run"] and ns["result"]["sql"] == ["DROP INDEX idx_user_email"]

        await run_block(on_sqlite(reversible, db), ns)
        assert ns["backward_sql"] == ["-- Cannot restore dropped data!"]
        await adapter.disconnect()

    asyncio.run(session())
