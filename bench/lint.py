"""Linting the shared corpora (authelia, openfga) with live context, next to applying the same
files with `migrate up`, per dialect, in one process; plus the catalog query count for the
first migration alone and for all of them, and the findings per rule.

For each corpus and dialect: a scratch database, then `lint` of every migration with live
context on it (what `up` does before applying), then `migrate up` of the same files (lint off),
then `lint` again now that the tables exist (the catalog has sizes to report). Lint times are
the median of --repeat runs after a first, cold one (which imports the parser; reported too).

    python bench/lint.py [--repeat 5] [--dialects postgresql mysql sqlite] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FOLDER = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
CORPORA = {
    "authelia": ("authelia", "internal", "storage", "migrations"),
    "openfga": ("openfga", "assets", "migrations"),
}
SERVERS = {
    "postgresql": os.environ.get(
        "COVET_BENCH_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("COVET_BENCH_MYSQL", "mysql://root@127.0.0.1:3306/test"),
    "sqlite": "sqlite:///:memory:",
}


async def _prepare(adapter: Any, dialect: str) -> None:
    if dialect == "sqlite":  # authelia's own runner registers these two functions
        conn = adapter.connection
        await conn.create_function("BIN2B64", 1, lambda b: b and base64.b64encode(b).decode())
        await conn.create_function("B642BIN", 1, lambda s: s and base64.b64decode(s))


async def one(corpus: str, dialect_name: str, repeat: int, work: Path) -> dict[str, Any]:
    from covet_core.discovery import discover
    from covet_core.errors import CovetError
    from covet_core.lint import lint
    from covet_core.manager import MigrationManager
    from covet_core.plugins import Plugins

    dialect = Plugins.load().dialect(dialect_name)
    assert dialect.provisioner is not None
    folder = CORPUS.joinpath(*CORPORA[corpus], FOLDER[dialect_name])
    base = SERVERS[dialect_name]
    url = await dialect.provisioner.create(base, f"covet_lint_{uuid.uuid4().hex[:10]}", work)
    try:
        adapter = dialect.adapter_from_url(url, work)
        await adapter.connect()
        await _prepare(adapter, dialect_name)
        migrations = discover(folder, dialect.split_statements)

        async def lint_once(chosen: list[Any]) -> tuple[float, Any]:
            start = time.perf_counter()
            report = await lint(chosen, dialect, adapter)
            return time.perf_counter() - start, report

        cold, before = await lint_once(migrations)
        warm = statistics.median([(await lint_once(migrations))[0] for _ in range(repeat)])
        manager = MigrationManager(adapter, dialect, folder, lint="off")
        start = time.perf_counter()
        try:
            applied: Any = (await manager.upgrade()).names
        except CovetError as exc:  # openfga's 007 uses MySQL 8 syntax MariaDB rejects (known)
            applied = f"failed: {str(exc).split(':')[0]}"
        up = time.perf_counter() - start
        after_t = statistics.median([(await lint_once(migrations))[0] for _ in range(repeat)])
        _, after = await lint_once(migrations)
        first_only = (await lint_once(migrations[:1]))[1].context.queries
        await adapter.disconnect()
    finally:
        await dialect.provisioner.drop(base, url)
    return {
        "corpus": corpus,
        "dialect": dialect_name,
        "migrations": len(migrations),
        "applied": applied if isinstance(applied, str) else len(applied),
        "statements": before.statements,
        "lint_cold_s": cold,
        "lint_s": warm,
        "lint_after_s": after_t,
        "up_s": up,
        "queries_first": first_only,
        "queries_all": after.context.queries,
        "server": after.context.version_text,
        "rules": dict(Counter(f"{f.rule}:{f.severity}" for f in after.findings)),
        "sized": sum(1 for f in after.findings if f.context),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dialects", nargs="+", default=["postgresql", "mysql", "sqlite"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="covet-lint-bench-"))
    rows = []
    for corpus in CORPORA:
        for dialect in args.dialects:
            rows.append(asyncio.run(one(corpus, dialect, args.repeat, work)))
    head = ["corpus", "dialect", "files", "stmts", "lint cold s", "lint s", "lint (tables) s",
            "up s", "lint/up", "queries 1 / all"]  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ratio = max(r["lint_s"], r["lint_after_s"]) / r["up_s"]
        print(
            f"| {r['corpus']} | {r['dialect']} | {r['migrations']} | {r['statements']} | "
            f"{r['lint_cold_s']:.3f} | {r['lint_s']:.4f} | {r['lint_after_s']:.4f} | "
            f"{r['up_s']:.3f}{'*' if isinstance(r['applied'], str) else ''} | {ratio:.1%} | {r['queries_first']} / {r['queries_all']} |"
        )
    print("\n* the apply failed part-way (openfga 007 is MySQL 8 syntax MariaDB rejects)\n")
    for r in rows:
        rules = ", ".join(f"{k} {v}" for k, v in sorted(r["rules"].items())) or "none"
        print(f"{r['corpus']}/{r['dialect']} ({r['server']}): {rules}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
