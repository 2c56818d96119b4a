"""Per dialect: applying N trivial migrations, whole process, covet vs the raw driver; and the
median uncontended lock acquisition.

Each migration is ``CREATE TABLE t_i (id integer primary key, name varchar(50))``. The raw
driver does exactly that in a fresh Python process: per migration, one transaction holding the
DDL and an INSERT into a history table (on MySQL the DDL commits by itself, so that is two
commits, as for any tool). covet runs as ``covet migrate up`` in a fresh process. Both include
interpreter start-up and imports; runs are interleaved and the median is reported.

    python bench/dialects.py [--sizes 200 1000] [--repeat 3] [--dialects sqlite postgresql mysql]

Servers: COVET_BENCH_POSTGRESQL (default postgresql://postgres@127.0.0.1:5432/test) and
COVET_BENCH_MYSQL (default mysql://root@127.0.0.1:3306/test) are used to create and drop
scratch databases.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

SERVERS = {
    "postgresql": os.environ.get(
        "COVET_BENCH_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("COVET_BENCH_MYSQL", "mysql://root@127.0.0.1:3306/test"),
}


def ddl(i: int) -> str:
    return f"CREATE TABLE t_{i} (id integer primary key, name varchar(50))"


RAW = {
    "sqlite": """
import asyncio, sys, aiosqlite
async def main(path, n):
    async with aiosqlite.connect(path, isolation_level=None) as c:
        await c.execute("CREATE TABLE history (name varchar(255) primary key, applied_at text)")
        for i in range(n):
            await c.execute("BEGIN IMMEDIATE")
            await c.execute(f"CREATE TABLE t_{i} (id integer primary key, name varchar(50))")
            await c.execute("INSERT INTO history VALUES (?, datetime('now'))", (f"m{i}",))
            await c.execute("COMMIT")
asyncio.run(main(sys.argv[1][len("sqlite:///"):], int(sys.argv[2])))
""",
    "postgresql": """
import asyncio, sys, asyncpg
async def main(url, n):
    c = await asyncpg.connect(url)
    await c.execute("CREATE TABLE history (name varchar(255) primary key, applied_at timestamptz)")
    for i in range(n):
        async with c.transaction():
            await c.execute(f"CREATE TABLE t_{i} (id integer primary key, name varchar(50))")
            await c.execute("INSERT INTO history VALUES ($1, now())", f"m{i}")
    await c.close()
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
""",
    "mysql": """
import asyncio, sys, aiomysql
from urllib.parse import urlsplit
async def main(url, n):
    u = urlsplit(url)
    c = await aiomysql.connect(host=u.hostname, port=u.port or 3306, user=u.username or "root",
                               password=u.password or "", db=u.path[1:], autocommit=True)
    async with c.cursor() as cur:
        await cur.execute("CREATE TABLE history (name varchar(255) primary key, applied_at datetime(6))")
        for i in range(n):
            await cur.execute("BEGIN")
            await cur.execute(f"CREATE TABLE t_{i} (id integer primary key, name varchar(50))")
            await cur.execute("INSERT INTO history VALUES (%s, now(6))", (f"m{i}",))
            await cur.execute("COMMIT")
    c.close()
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
""",
}


def write_migrations(directory: Path, n: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    start = datetime(2024, 1, 1)
    for i in range(n):
        stamp = (start + timedelta(seconds=i)).strftime("%Y_%m_%d_%H%M%S")
        (directory / f"{stamp}_create_t_{i}.py").write_text(
            "from covet.database.migrations.runner import Migration\n\n"
            f"class M(Migration):\n    forward_sql = [{ddl(i)!r}]\n"
            f"    backward_sql = ['DROP TABLE t_{i}']\n"
        )


async def admin(dialect: str, sql: str) -> None:
    url = SERVERS[dialect]
    if dialect == "postgresql":
        import asyncpg

        conn = await asyncpg.connect(url)
        await conn.execute(sql)
        await conn.close()
    else:
        import aiomysql

        u = urlsplit(url)
        conn = await aiomysql.connect(
            host=u.hostname, port=u.port or 3306, user=u.username or "root",
            password=u.password or "", autocommit=True,
        )  # fmt: skip
        async with conn.cursor() as cur:
            await cur.execute(sql)
        conn.close()


class Scratch:
    """A fresh database per run, dropped afterwards."""

    def __init__(self, dialect: str, root: Path) -> None:
        self.dialect, self.root = dialect, root

    def __enter__(self) -> str:
        self.name = f"covet_bench_{uuid.uuid4().hex[:10]}"
        if self.dialect == "sqlite":
            return f"sqlite:///{self.root / (self.name + '.db')}"
        asyncio.run(admin(self.dialect, f"CREATE DATABASE {self.name}"))
        return SERVERS[self.dialect].rsplit("/", 1)[0] + "/" + self.name

    def __exit__(self, *exc: object) -> None:
        if self.dialect != "sqlite":
            force = " WITH (FORCE)" if self.dialect == "postgresql" else ""
            asyncio.run(admin(self.dialect, f"DROP DATABASE IF EXISTS {self.name}{force}"))


def run_process(cmd: list[str], env: dict[str, str]) -> float:
    # As users run it: with Python's bytecode cache (some CI images disable it globally).
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def covet_bin() -> str:
    return str(Path(sys.executable).parent / "covet")


async def lock_median(url: str, dialect: str, root: Path, samples: int = 50) -> float:
    from covet.database.migrations import MigrationManager
    from covet_core.plugins import Plugins

    plugins = Plugins.load()
    d = plugins.dialect_for_url(url)
    adapter = d.adapter_from_url(url, root)
    await adapter.connect()
    manager = MigrationManager(adapter, d, root / "empty", plugins=plugins)
    times = []
    for _ in range(samples):
        strategy = manager.lock_strategy()
        start = time.perf_counter()
        await strategy.acquire(5)
        times.append(time.perf_counter() - start)
        await strategy.release()
    await adapter.disconnect()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dialects", nargs="+", default=["sqlite", "postgresql", "mysql"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covet-dialects-"))
    print(f"whole process, median of {args.repeat}; interleaved covet / raw driver\n")
    print(f"{'dialect':<12}{'n':>6}{'raw s':>9}{'covet s':>9}{'covet/raw':>11}{'lock ms':>9}")
    for dialect in args.dialects:
        with Scratch(dialect, root) as url:
            lock = asyncio.run(lock_median(url, dialect, root))
        for n in args.sizes:
            migrations = root / f"m{n}"
            if not migrations.exists():
                write_migrations(migrations, n)
            raw_t, covet_t = [], []
            for _ in range(args.repeat):
                with Scratch(dialect, root) as url:
                    raw_t.append(
                        run_process(
                            [sys.executable, "-c", RAW[dialect], url, str(n)], dict(os.environ)
                        )
                    )
                with Scratch(dialect, root) as url:
                    env = {
                        **os.environ,
                        "COVET_DATABASE_URL": url,
                        "COVET_MIGRATIONS_DIR": str(migrations),
                    }
                    covet_t.append(run_process([covet_bin(), "migrate", "up"], env))
            raw, cov = statistics.median(raw_t), statistics.median(covet_t)
            print(
                f"{dialect:<12}{n:>6}{raw:>9.3f}{cov:>9.3f}{cov / raw:>10.2f}x{lock * 1000:>9.2f}"
            )


if __name__ == "__main__":
    main()
