"""Apply N one-statement migrations to a fresh SQLite file: covet vs the raw driver vs yoyo and
Alembic, side by side in one run, repeated, median reported.

Each migration creates one table. Every tool does the same work: one transaction per migration
holding the DDL and the history row. The raw-driver baseline is aiosqlite doing exactly that
with no discovery, lock or checks, so covet's ratio to it is covet's own overhead.

    python bench/migrate_speed.py [--migrations 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path


def ddl(i: int) -> str:
    return f"CREATE TABLE t{i:05d} (id INTEGER PRIMARY KEY, name VARCHAR(50), created_at TEXT)"


def write_covet(directory: Path, n: int) -> None:
    start = datetime(2024, 1, 1)
    for i in range(n):
        stamp = (start + timedelta(seconds=i)).strftime("%Y_%m_%d_%H%M%S")
        (directory / f"{stamp}_create_t{i:05d}.py").write_text(
            "from covet.database.migrations.runner import Migration\n\n"
            f"class M(Migration):\n    forward_sql = [{ddl(i)!r}]\n"
            f"    backward_sql = ['DROP TABLE t{i:05d}']\n"
        )


def write_yoyo(directory: Path, n: int) -> None:
    for i in range(n):
        (directory / f"{i:06d}_create_t{i:05d}.sql").write_text(f"{ddl(i)};\n")


def write_alembic(directory: Path, n: int) -> Path:
    versions = directory / "versions"
    versions.mkdir(parents=True)
    (directory / "env.py").write_text(
        "from alembic import context\n"
        "from sqlalchemy import engine_from_config, pool\n"
        "config = context.config\n"
        "engine = engine_from_config(config.get_section(config.config_ini_section),"
        " prefix='sqlalchemy.', poolclass=pool.NullPool)\n"
        "with engine.connect() as connection:\n"
        "    context.configure(connection=connection, transaction_per_migration=True)\n"
        "    with context.begin_transaction():\n"
        "        context.run_migrations()\n"
    )
    (directory / "script.py.mako").write_text("")
    for i in range(n):
        down = repr(f"r{i - 1:05d}") if i else "None"
        (versions / f"r{i:05d}.py").write_text(
            "from alembic import op\n"
            f"revision = 'r{i:05d}'\ndown_revision = {down}\n"
            "branch_labels = None\ndepends_on = None\n"
            f"def upgrade():\n    op.execute({ddl(i)!r})\n"
            f"def downgrade():\n    op.execute('DROP TABLE t{i:05d}')\n"
        )
    return directory


async def raw_driver(db: Path, n: int) -> None:
    import aiosqlite

    async with aiosqlite.connect(db, isolation_level=None) as conn:
        await conn.execute(
            "CREATE TABLE history (name TEXT PRIMARY KEY, applied_at TEXT, execution_order INTEGER)"
        )
        for i in range(n):
            await conn.execute("BEGIN IMMEDIATE")
            await conn.execute(ddl(i))
            await conn.execute(
                "INSERT INTO history VALUES (?, datetime('now'), ?)", (f"m{i}", i + 1)
            )
            await conn.execute("COMMIT")


async def covet(db: Path, migrations: Path, n: int) -> None:
    from covet.database.adapters.sqlite import SQLiteAdapter
    from covet.database.migrations import MigrationManager

    adapter = SQLiteAdapter(db)
    await adapter.connect()
    result = await MigrationManager(adapter, "sqlite", migrations).migrate_up()
    await adapter.disconnect()
    assert result["success"] and len(result["applied"]) == n, result["error"]


def yoyo(db: Path, migrations: Path, n: int) -> None:
    from yoyo import get_backend, read_migrations

    backend = get_backend(f"sqlite:///{db}")
    todo = read_migrations(str(migrations))
    with backend.lock():
        backend.apply_migrations(backend.to_apply(todo))
    assert len(backend.to_apply(todo)) == 0


def alembic(db: Path, script_dir: Path, n: int) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_dir))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{db}")
    with contextlib.redirect_stdout(io.StringIO()):
        command.upgrade(config, "head")


async def raw_statements(db: Path, n: int) -> None:
    import aiosqlite

    async with aiosqlite.connect(db, isolation_level=None) as conn:
        await conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))")
        await conn.execute("BEGIN IMMEDIATE")
        for sql in insert_statements(n):
            await conn.execute(sql)
        await conn.execute("COMMIT")


def insert_statements(n: int) -> list[str]:
    return [f"INSERT INTO items (id, name) VALUES ({i}, 'item {i}')" for i in range(n)]


def write_covet_statements(directory: Path, n: int) -> None:
    (directory / "2024_01_01_000000_items.py").write_text(
        "from covet.database.migrations.runner import Migration\n\n"
        "class M(Migration):\n"
        "    forward_sql = ['CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))']\n"
        f"    forward_sql += {insert_statements(n)!r}\n"
    )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--migrations", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.migrations
    root = Path(tempfile.mkdtemp(prefix="covet-bench-"))
    sources = {name: root / name for name in ("covet", "yoyo", "alembic")}
    for path in sources.values():
        path.mkdir()
    write_covet(sources["covet"], n)
    write_yoyo(sources["yoyo"], n)
    write_alembic(sources["alembic"], n)

    runners: dict[str, Callable[[Path], object]] = {
        "raw aiosqlite": lambda db: asyncio.run(raw_driver(db, n)),
        "covet": lambda db: asyncio.run(covet(db, sources["covet"], n)),
        "yoyo-migrations": lambda db: yoyo(db, sources["yoyo"], n),
        "alembic": lambda db: alembic(db, sources["alembic"], n),
    }
    times: dict[str, list[float]] = {name: [] for name in runners}
    for rep in range(args.repeat):
        for name, run in runners.items():  # interleaved so machine noise hits all alike
            db = root / f"{name.split()[0]}-{rep}.db"
            times[name].append(timed(lambda run=run, db=db: run(db)))

    report(f"{n} migrations (one CREATE TABLE each)", "migrations/s", n, times, args.repeat)

    # Statements inside one migration: the per-statement cost without a commit per step.
    (root / "one").mkdir()
    write_covet_statements(root / "one", n)
    single: dict[str, Callable[[Path], object]] = {
        "raw aiosqlite": lambda db: asyncio.run(raw_statements(db, n)),
        "covet": lambda db: asyncio.run(covet(db, root / "one", 1)),
    }
    stimes: dict[str, list[float]] = {name: [] for name in single}
    for rep in range(args.repeat):
        for name, run in single.items():
            db = root / f"one-{name.split()[0]}-{rep}.db"
            stimes[name].append(timed(lambda run=run, db=db: run(db)))
    report(f"one migration of {n} INSERT statements", "statements/s", n, stimes, args.repeat)


def report(title: str, unit: str, n: int, times: dict[str, list[float]], repeat: int) -> None:
    base = statistics.median(times["covet"])
    print(f"\n{title}, SQLite, median of {repeat} runs\n")
    print(f"{'tool':<18}{'seconds':>10}{unit:>15}{'vs covet':>10}")
    for name, samples in times.items():
        med = statistics.median(samples)
        print(f"{name:<18}{med:>10.3f}{n / med:>15.0f}{med / base:>9.2f}x")


if __name__ == "__main__":
    main()
