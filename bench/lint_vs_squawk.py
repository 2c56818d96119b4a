"""covet's linter next to squawk (`pip install squawk-cli`) on the same PostgreSQL migration
files of the shared corpora: per rule, how many findings both make, and what only one flags.

squawk lints each file on its own, so covet is run the same way here (one migration per run,
static: no database), and findings are compared per file and rule, by count.

    python bench/lint_vs_squawk.py
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FOLDERS = [
    CORPUS / "authelia" / "internal" / "storage" / "migrations" / "postgres",
    CORPUS / "openfga" / "assets" / "migrations" / "postgres",
]
# squawk rule -> the covet rule that covers the same hazard (None: covet has no such rule).
SAME = {
    "require-concurrent-index-creation": "blocking-index",
    "require-concurrent-index-deletion": "blocking-index-drop",
    "constraint-missing-not-valid": "constraint-not-valid",
    "adding-foreign-key-constraint": "constraint-not-valid",
    "prefer-text-field": "prefer-text",
    "prefer-bigint-over-int": "prefer-bigint",
    "prefer-bigint-over-smallint": "prefer-bigint",
    "prefer-timestamptz": "prefer-timestamptz",
    "ban-drop-table": "drop-table",
    "ban-drop-column": "drop-column",
    "renaming-table": "rename-table",
    "renaming-column": "rename-column",
    "changing-column-type": "column-type-change",
    "adding-not-nullable-field": "set-not-null",
    "adding-required-field": "add-column-not-null",
    "adding-field-with-default": "volatile-default",
    "disallowed-unique-constraint": "add-unique-constraint",
    "ban-concurrent-index-creation-in-transaction": "non-transactional-in-atomic",
}


def squawk(files: list[Path]) -> Counter[tuple[str, str]]:
    exe = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    out = subprocess.run(
        [exe, "--reporter", "json", *map(str, files)], capture_output=True, text=True
    )
    found: Counter[tuple[str, str]] = Counter()
    for item in json.loads(out.stdout or "[]"):
        rule = item["rule_name"]
        found[(Path(item["file"]).name, SAME.get(rule, f"squawk:{rule}"))] += 1
    return found


def covet(folder: Path) -> tuple[Counter[tuple[str, str]], list[Path]]:
    from covet_core.discovery import discover
    from covet_core.lint import lint
    from covet_core.plugins import Plugins

    dialect = Plugins.load().dialect("postgresql")
    found: Counter[tuple[str, str]] = Counter()
    files = []
    for migration in discover(folder, dialect.split_statements):
        report = asyncio.run(lint([migration], dialect))
        path = Path(migration.path) if migration.path else folder
        files.append(path)
        for f in report.findings:
            found[(path.name, f.rule)] += 1
    return found, files


def main() -> None:
    sys.path.insert(0, str(ROOT))
    ours: Counter[tuple[str, str]] = Counter()
    theirs: Counter[tuple[str, str]] = Counter()
    for folder in FOLDERS:
        found, files = covet(folder)
        ours += found
        theirs += squawk(files)
    rules = sorted({r for _, r in ours} | {r for _, r in theirs})
    print("| rule (covet id, or squawk's when covet has none) | both | only covet | only squawk |")
    print("|---|---:|---:|---:|")
    for rule in rules:
        keys = {k for k in ours | theirs if k[1] == rule}
        both = sum(min(ours[k], theirs[k]) for k in keys)
        only_ours = sum(max(ours[k] - theirs[k], 0) for k in keys)
        only_theirs = sum(max(theirs[k] - ours[k], 0) for k in keys)
        print(f"| {rule} | {both} | {only_ours} | {only_theirs} |")


if __name__ == "__main__":
    main()
