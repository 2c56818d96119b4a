"""Cold start of a status command, whole process, median of N runs, side by side.

Compares `covet migrate status` with `python -c pass` (the floor), `yoyo list` and
`alembic current` on the same SQLite database state (10 migrations, all applied).

    python bench/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import migrate_speed

MIGRATIONS = 10


def tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covet-cold-"))
    for name in ("covet", "yoyo", "alembic"):
        (root / name).mkdir()
    migrate_speed.write_covet(root / "covet", MIGRATIONS)
    migrate_speed.write_yoyo(root / "yoyo", MIGRATIONS)
    migrate_speed.write_alembic(root / "alembic", MIGRATIONS)
    asyncio.run(migrate_speed.covet(root / "covet.db", root / "covet", MIGRATIONS))
    migrate_speed.yoyo(root / "yoyo.db", root / "yoyo", MIGRATIONS)
    migrate_speed.alembic(root / "alembic.db", root / "alembic", MIGRATIONS)
    (root / "alembic.ini").write_text(
        f"[alembic]\nscript_location = {root / 'alembic'}\n"
        f"sqlalchemy.url = sqlite:///{root / 'alembic.db'}\n"
    )
    env = {**os.environ, "COVET_DATABASE_URL": f"sqlite:///{root / 'covet.db'}"}
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "covet migrate status": [tool("covet"), "--dir", str(root / "covet"), "migrate", "status"],
        "yoyo list": [
            tool("yoyo"),
            "list",
            "--batch",
            "--database",
            f"sqlite:///{root / 'yoyo.db'}",
            str(root / "yoyo"),
        ],
        "alembic current": [tool("alembic"), "-c", str(root / "alembic.ini"), "current"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():  # interleaved so noise hits every command alike
            start = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=root, check=True, capture_output=True)
            samples[name].append(time.perf_counter() - start)
    floor = statistics.median(samples["python -c pass"])
    covet = statistics.median(samples["covet migrate status"])
    print(f"cold start, whole process, median of {args.runs} runs ({MIGRATIONS} applied)\n")
    print(f"{'command':<24}{'ms':>8}{'vs python':>11}{'vs covet':>10}")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:<24}{med * 1000:>8.0f}{med / floor:>10.1f}x{med / covet:>9.2f}x")
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
