"""Backing up a 1,000,000-row table: `covet backup create` next to the dump tool run by hand.

The table: ``id bigint primary key``, an ``email`` like ``User123@Example.COM`` and a ~100-byte
payload. Per dialect, in one run and interleaved: covet (whole process: `covet backup create`)
and the tool run directly with the same format and options covet uses. Median of --repeat.

    python bench/backup.py [--rows 1000000] [--repeat 3] [--dialects postgresql mysql sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from dialects import SERVERS, Scratch

FILL = {
    "postgresql": "INSERT INTO big SELECT g, 'User' || g || '@Example.COM', repeat('x', 100) "
    "FROM generate_series(1, {n}) g",
    "mysql": "INSERT INTO big SELECT seq, CONCAT('User', seq, '@Example.COM'), REPEAT('x', 100) "
    "FROM seq_1_to_{n}",
}
DDL = "CREATE TABLE big (id bigint primary key, email varchar(255), payload varchar(200))"


async def fill_server(dialect: str, url: str, rows: int) -> None:
    from covet_core.plugins import Plugins

    d = Plugins.load().dialect_for_url(url)
    adapter = d.adapter_from_url(url, None)
    await adapter.connect()
    await adapter.execute(DDL)
    await adapter.execute(FILL[dialect].format(n=rows))
    await adapter.disconnect()


def fill_sqlite(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute(DDL)
        db.executemany(
            "INSERT INTO big VALUES (?, ?, ?)",
            ((i, f"User{i}@Example.COM", "x" * 100) for i in range(1, rows + 1)),
        )


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def by_hand(dialect: str, url: str, out: Path) -> list[str]:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    if dialect == "postgresql":
        return [shutil.which("pg_dump") or "pg_dump", "--format=custom", "--host", u.hostname or "",
                "--port", str(u.port or 5432), "--username", u.username or "postgres",
                "--no-password", "--dbname", u.path[1:], "--file", str(out)]  # fmt: skip
    if dialect == "mysql":
        tool = shutil.which("mariadb-dump") or shutil.which("mysqldump") or "mysqldump"
        return [tool, "--single-transaction", "--routines", "--triggers", "--events",
                "--hex-blob", "--default-character-set=utf8mb4", "--host", u.hostname or "",
                "--port", str(u.port or 3306), "--user", u.username or "root",
                f"--result-file={out}", u.path[1:]]  # fmt: skip
    code = (
        "import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); t = sqlite3.connect(sys.argv[2]); "
        "s.backup(t); t.close()"
    )
    return [sys.executable, "-c", code, u.path[1:], str(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dialects", nargs="+", default=["postgresql", "mysql", "sqlite"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covet-backup-bench-"))
    covet = str(Path(sys.executable).parent / "covet")
    print(f"backup of a {args.rows:,}-row table, whole process, median of {args.repeat}\n")
    print(f"{'dialect':<12}{'by hand s':>11}{'covet s':>9}{'covet/hand':>12}{'size MiB':>10}")
    for dialect in args.dialects:
        with Scratch(dialect, root) as url:
            if dialect == "sqlite":
                fill_sqlite(Path(url[len("sqlite:///") :]), args.rows)
            else:
                asyncio.run(fill_server(dialect, url, args.rows))
            env = {**os.environ, "COVET_DATABASE_URL": url}
            hand, cov, size = [], [], 0
            for i in range(args.repeat):
                out = root / f"hand-{dialect}-{i}"
                hand.append(timed(by_hand(dialect, url, out), env, root))
                size = out.stat().st_size
                out.unlink()
                cov.append(timed([covet, "backup", "create"], env, root))  # into root/backups
                shutil.rmtree(root / "backups")
            h, c = statistics.median(hand), statistics.median(cov)
            print(f"{dialect:<12}{h:>11.2f}{c:>9.2f}{c / h:>11.2f}x{size / 2**20:>10.1f}")
    print(f"\nservers: {', '.join(SERVERS.values())}")


if __name__ == "__main__":
    main()
