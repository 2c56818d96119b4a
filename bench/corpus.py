"""Applying authelia's 26 migrations: `covet migrate up` next to feeding the same files to the
database's own client (psql / mariadb / sqlite3), whole process, in one run.

The clients get every `.up.sql` file in version order in one session (psql with
ON_ERROR_STOP, as a careful operator would); covet additionally records history, takes its
lock and checks every file. On SQLite both sides register authelia's two base64 functions
(covet through a tiny wrapper script; the sqlite3 shell cannot, so those two files' function
calls are the one difference: see the note printed at the end).

    python bench/corpus.py [--repeat 3] [--dialects postgresql mysql sqlite]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).parent))
from dialects import Scratch

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "authelia"
FOLDER = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}

COVET_SQLITE = """
import asyncio, base64, sys
from covet.database.adapters.sqlite import SQLiteAdapter
from covet.database.migrations import MigrationManager
async def main(db, folder):
    a = SQLiteAdapter(db)
    await a.connect()
    await a.connection.create_function("BIN2B64", 1, lambda b: b and base64.b64encode(b).decode())
    await a.connection.create_function("B642BIN", 1, lambda s: s and base64.b64decode(s))
    r = await MigrationManager(a, "sqlite", folder).migrate_up()
    assert r["success"], r["error"]
    await a.disconnect()
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def client(dialect: str, url: str, files: list[Path]) -> tuple[list[str], bytes]:
    u = urlsplit(url)
    body = b"".join(f.read_bytes() + b"\n" for f in files)
    if dialect == "postgresql":
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.hostname or "",
                "-U", u.username or "postgres", "-d", u.path[1:]], body  # fmt: skip
    if dialect == "mysql":
        # authelia's MySQL files hold procedure bodies without DELIMITER lines (its Go runner
        # sends them whole); the mariadb client needs them, so it gets the same statements
        # with a DELIMITER wrapper.
        from covet_core.sqlsplit import MYSQL_RULES, splitter

        split = splitter(MYSQL_RULES)
        statements = [s for f in files for s in split(f.read_text())]
        body = ("DELIMITER ;;\n" + "".join(f"{s}\n;;\n" for s in statements)).encode()
        return ["mariadb", "-h", u.hostname or "", "-u", u.username or "root", u.path[1:]], body
    return ["sqlite3", u.path[1:]], body


def timed(cmd: list[str], env: dict[str, str], stdin: bytes | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, input=stdin, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dialects", nargs="+", default=["postgresql", "mysql", "sqlite"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covet-corpus-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    print(f"authelia, 26 migrations, whole process, median of {args.repeat}\n")
    print(f"{'dialect':<12}{'client s':>10}{'covet s':>9}{'covet/client':>14}")
    for dialect in args.dialects:
        folder = CORPUS / "internal" / "storage" / "migrations" / FOLDER[dialect]
        files = sorted(folder.glob("*.up.sql"), key=lambda p: int(p.name[1:5]))
        raw, cov = [], []
        for _ in range(args.repeat):
            with Scratch(dialect, root) as url:
                if dialect == "sqlite":
                    # the shell cannot define BIN2B64/B642BIN: give it the same work minus them
                    body = b"".join(f.read_bytes() + b"\n" for f in files)
                    body = body.replace(b"BIN2B64(", b"hex(").replace(b"B642BIN(", b"hex(")
                    cmd = ["sqlite3", url[len("sqlite:///") :]]
                else:
                    cmd, body = client(dialect, url, files)
                raw.append(timed(cmd, env, body))
            with Scratch(dialect, root) as url:
                if dialect == "sqlite":
                    cov.append(
                        timed(
                            [
                                sys.executable,
                                "-c",
                                COVET_SQLITE,
                                url[len("sqlite:///") :],
                                str(folder),
                            ],
                            env,
                        )
                    )
                else:
                    cov.append(timed([str(Path(sys.executable).parent / "covet"), "--dir", str(folder), "migrate", "up"],
                                     {**env, "COVET_DATABASE_URL": url}))  # fmt: skip
        r, c = statistics.median(raw), statistics.median(cov)
        print(f"{dialect:<12}{r:>10.3f}{c:>9.3f}{c / r:>13.2f}x")
    print("\nSQLite: the sqlite3 shell cannot register authelia's base64 functions; it ran hex()")
    print(
        "in their place (comparable work). covet ran through a 10-line script that registers them."
    )


if __name__ == "__main__":
    main()
