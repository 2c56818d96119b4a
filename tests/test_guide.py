"""The user guide's examples, run as written on every dialect (connection details swapped).

Code blocks are read from docs/migrations-guide.md (a copy of the seed guide) from "Quick
Start" to "Rolling Back Migrations", and executed in order in one namespace, the way a reader
would paste them into one async session. On PostgreSQL only the adapter's arguments change. On
SQLite and MySQL the adapter class changes too; on MySQL the two statements of the guide that
are PostgreSQL SQL get their MySQL spelling (``ANALYZE TABLE``, ``DROP INDEX ... ON``).
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import Target, write_migration

from covet_core.discovery import load_migration

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "migrations-guide.md"
SEED = ROOT.parent / "shared" / "seed" / "MIGRATIONS_GUIDE.md"


def guide_blocks(start: str, end: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index(f"## {start}") : text.index(f"## {end}")]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


MYSQL_SQL = {
    "'ANALYZE users'": "'ANALYZE TABLE users'",
    "'DROP INDEX idx_user_email'": "'DROP INDEX idx_user_email ON users'",
}


def adapter_call(target: Target) -> str:
    if target.name == "sqlite":
        return f"SQLiteAdapter({urlsplit(target.url).path[1:]!r})"
    parts = urlsplit(target.url)
    cls = "PostgreSQLAdapter" if target.name == "postgresql" else "MySQLAdapter"
    return (
        f"{cls}(host={parts.hostname!r}, port={parts.port}, database={parts.path[1:]!r}, "
        f"user={parts.username!r}, password={parts.password or ''!r})"
    )


def on_target(code: str, target: Target) -> str:
    """Swap the connection details (and, on MySQL, the guide's PostgreSQL-only SQL)."""
    if target.name != "postgresql":
        module = "sqlite" if target.name == "sqlite" else "mysql"
        cls = "SQLiteAdapter" if target.name == "sqlite" else "MySQLAdapter"
        code = code.replace(
            "from covet.database.adapters.postgresql import PostgreSQLAdapter",
            f"from covet.database.adapters.{module} import {cls}",
        )
        code = code.replace("'postgresql'", f"'{target.name}'")
    if target.name == "mysql":
        for old, new in MYSQL_SQL.items():
            code = code.replace(old, new)
    return re.sub(r"PostgreSQLAdapter\(.*?\)", adapter_call(target), code, flags=re.DOTALL)


async def run_block(code: str, namespace: dict[str, Any]) -> None:
    compiled = compile(code, "<guide>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    outcome = eval(compiled, namespace)  # noqa: S307 - executing the guide's own examples
    if asyncio.iscoroutine(outcome):
        await outcome


def test_guide_copy_matches_the_seed() -> None:
    if not SEED.exists():
        pytest.skip("shared/seed is not beside this checkout")
    assert GUIDE.read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")


def test_guide_examples_run_as_written(target: Target, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = guide_blocks("Quick Start", "Auto-Generating Migrations")
    assert len(blocks) == 12
    (install, basic, create, structure, apply_all, apply_target, dry_run, status,
     down_one, down_three, down_dry, reversible) = blocks  # fmt: skip

    # Quick Start: a whole program with its own asyncio.run(), on an empty migrations folder.
    exec(on_target(install, target), {})  # noqa: S102
    exec(on_target(basic, target), {"__name__": "__main__"})  # noqa: S102
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
        adapter = target.new_adapter()
        await adapter.connect()
        ns: dict[str, Any] = {"adapter": adapter, "__name__": "__guide__"}
        monkeypatch.setattr(builtins, "input", lambda prompt="": "yes")

        await run_block(on_target(create, target), ns)
        created = ns["filepath"]
        assert created.exists() and created.name.endswith("_add_user_email_index.py")

        await run_block(on_target(apply_all, target), ns)
        assert ns["result"]["success"], ns["result"]["error"]
        assert ns["result"]["applied"][-1] == created.stem
        assert "Duration:" in capsys.readouterr().out

        await run_block(on_target(apply_target, target), ns)
        assert ns["result"]["success"] and ns["result"]["applied"] == []

        await run_block(on_target(dry_run, target), ns)
        assert "Would apply 0 migrations:" in capsys.readouterr().out

        await run_block(on_target(status, target), ns)
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 4 and all(line.startswith("[X] ") for line in lines)
        assert "(applied 20" in lines[0]

        await run_block(on_target(down_one, target), ns)
        assert f"Rolled back: ['{created.stem}']" in capsys.readouterr().out

        await run_block(on_target(down_three, target), ns)
        assert ns["result"]["success"] and len(ns["result"]["rolled_back"]) == 3

        await ns["manager"].migrate_up()
        await run_block(on_target(down_dry, target), ns)
        dropped = MYSQL_SQL["'DROP INDEX idx_user_email'"] if target.name == "mysql" else None
        expected = dropped.strip("'") if dropped else "DROP INDEX idx_user_email"
        assert ns["result"]["dry_run"] and ns["result"]["sql"] == [expected]

        await run_block(on_target(reversible, target), ns)
        assert ns["backward_sql"] == ["-- Cannot restore dropped data!"]
        await adapter.disconnect()

    asyncio.run(session())


def test_guide_data_migration_examples_run_as_written(
    target: Target, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = guide_blocks("Data Migrations", "Safe Deployment Practices")
    assert len(blocks) == 5
    basic, bulk, parallel, tracking, resumable = blocks

    async def session() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        p = target.dialect.params(2)
        await adapter.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255), migrated BOOLEAN NOT NULL DEFAULT FALSE)"
        )
        await adapter.executemany(
            f"INSERT INTO users (id, email) VALUES ({p[0]}, {p[1]})",
            [(i, None if i % 10 == 0 else f"User{i}@Example.COM") for i in range(1, 2501)],
        )
        ns: dict[str, Any] = {"adapter": adapter, "__name__": "__guide__"}
        await run_block(basic, ns)
        out = capsys.readouterr().out
        assert "Processed 2500 rows" in out and "Success rate: 100.0%" in out and "Speed:" in out
        assert (
            await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE email <> LOWER(email)") == 0
        )
        await run_block(bulk, ns)
        assert await adapter.fetch_value("SELECT COUNT(*) FROM users WHERE migrated") == 2500
        await run_block(parallel, ns)
        assert ns["progress"].processed_rows == 2500
        await run_block(tracking, ns)
        lines = capsys.readouterr().out.splitlines()
        assert (
            lines[0].startswith("Progress: 1000/2500 (100.0% success) - ETA:") and len(lines) == 3
        )
        await run_block(resumable, ns)
        assert ns["progress"].processed_rows == 2500
        await adapter.disconnect()

    asyncio.run(session())


GUIDE_MODELS = """
from covet.models import (
    BigInteger, Boolean, Check, Column, DateTime, ForeignKey, Index, Model, String, Text,
)


class User(Model):
    __tablename__ = "users"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    {name_column} = Column(String(50), nullable=False, unique=True)
    email = Column(String(255), nullable=False, index=True)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, server_default="CURRENT_TIMESTAMP")
    __checks__ = [Check("email <> ''", name="email_not_empty")]


class Post(Model):
    __tablename__ = "posts"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    author_id = Column(BigInteger, ForeignKey("users.id", on_delete="CASCADE"), nullable=False)
    title = Column(String(200), nullable=False)
    body = Column(Text)
    __indexes__ = [Index("author_id", "title")]


class Comment(Model):
    __tablename__ = "comments"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    post_id = Column(BigInteger, ForeignKey("posts.id", on_delete="CASCADE"), nullable=False)
    body = Column(Text, nullable=False)
"""


def test_guide_auto_generation_runs_as_written(
    target: Target, tmp_path, monkeypatch, capsys
) -> None:
    """The guide's generator example, then its rename example, against a real database:
    the generated migration applies, the schema read back has no changes left, and renaming
    ``username`` to ``user_name`` in the models generates a RENAME that keeps the rows."""
    import importlib
    import sys

    from covet_core.manager import MigrationManager

    monkeypatch.chdir(tmp_path)
    blocks = guide_blocks("Auto-Generating Migrations", "Data Migrations")
    assert len(blocks) == 2
    example, rename_comment = blocks
    assert "RENAME COLUMN username TO user_name" in rename_comment
    package = tmp_path / "myapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(GUIDE_MODELS.format(name_column="username"))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("myapp", "myapp.models"):
        sys.modules.pop(name, None)

    async def session() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        manager = MigrationManager(adapter, target.dialect, "./migrations")
        code = on_target(example, target)

        async def run_example() -> dict[str, Any]:
            ns: dict[str, Any] = {"adapter": adapter, "__name__": "__guide__"}
            await run_block(code, ns)
            return ns

        ns = await run_example()
        generated = ns["filepath"]
        assert f"Generated: {generated}" in capsys.readouterr().out
        assert (await manager.migrate_up())["success"]
        p = target.dialect.params(2)
        await adapter.executemany(
            f"INSERT INTO users (username, email) VALUES ({p[0]}, {p[1]})",
            [(f"user{i}", f"u{i}@example.com") for i in range(50)],
        )

        await run_example()  # read back: nothing left to do
        assert "No changes detected" in capsys.readouterr().out

        (package / "models.py").write_text(GUIDE_MODELS.format(name_column="user_name"))
        importlib.reload(sys.modules["myapp.models"])
        ns = await run_example()
        diff = ns["diff"]
        assert [op.describe() for op in diff.operations] == [
            "rename column users.username to user_name"
        ]
        source = Path(ns["filepath"]).read_text()
        unquoted = source.replace('"', "").replace("`", "")
        assert "ALTER TABLE users RENAME COLUMN username TO user_name" in unquoted
        assert (await manager.migrate_up())["success"]
        assert await adapter.fetch_value("SELECT COUNT(user_name) FROM users") == 50
        await run_example()
        assert "No changes detected" in capsys.readouterr().out
        down = await manager.migrate_down()
        assert down["success"], down["error"]
        assert await adapter.fetch_value("SELECT COUNT(username) FROM users") == 50
        await adapter.disconnect()

    asyncio.run(session())
