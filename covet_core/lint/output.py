"""A lint report as text (people), JSON (scripts) or SARIF 2.1.0 (code-scanning UIs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from covet_core.escaping import one_line
from covet_core.lint.engine import LintReport
from covet_core.lint.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def context_line(report: LintReport) -> str:
    ctx = report.context
    if not report.supported:
        return "not linted: this dialect declares no SQL parser for the linter"
    if ctx.live:
        version = f"server {ctx.version_text}" if ctx.version_text else "server version unknown"
        sizes = f"table sizes from the catalog ({ctx.queries} catalog queries)"
        note = f"; {ctx.note}" if ctx.note else ""
        return f"live context: {version}, {sizes}{note}"
    return "static lint: no database connected, so table sizes and the server version are unknown"


LOCK_TIMEOUT_NOTE = (
    "lock_timeout: not a rule here; covet bounds every migration's lock waits itself "
    "(ddl_lock_timeout) and retries"
)


def text(report: LintReport) -> str:
    lines = []
    for f in report.findings:
        where = f"{f.path or f.migration}:{f.line}"
        lines.append(f"{where}: {f.severity} [{f.rule}] {one_line(f.message)}")
        statement = one_line(f.statement)
        lines.append(f"    {statement[:160]}{'...' if len(statement) > 160 else ''}")
        lines.append(f"    why: {f.why}")
        lines.append(f"    instead: {f.rewrite}")
    for s in report.silenced:
        lines.append(f"{s.migration}:{s.line}: silenced [{s.rule}] {one_line(s.reason)}")
    errors = sum(1 for f in report.findings if f.severity == "error")
    warnings = len(report.findings) - errors
    lines.append(context_line(report))
    lines.append(LOCK_TIMEOUT_NOTE)
    lines.append(
        f"{report.migrations} migration(s), {report.statements} statement(s): {errors} error(s), "
        f"{warnings} warning(s), {len(report.silenced)} silenced"
    )
    return "\n".join(lines)


def as_json(report: LintReport) -> str:
    return json.dumps(
        {
            "findings": [f.as_dict() for f in report.findings],
            "silenced": [vars(s) for s in report.silenced],
            "context": {
                "live": report.context.live,
                "server_version": report.context.version_text,
                "catalog_queries": report.context.queries,
                "tables": {k: vars(v) for k, v in report.context.tables.items()},
                "note": report.context.note,
                "summary": context_line(report),
            },
            "migrations": report.migrations,
            "statements": report.statements,
        },
        indent=2,
    )


def sarif(report: LintReport, root: Path | None = None) -> str:
    used = sorted({f.rule for f in report.findings})
    index = {rule: i for i, rule in enumerate(used)}

    def uri(path: str | None, migration: str) -> str:
        if path is None:
            return migration
        p = Path(path)
        try:
            return (p.resolve().relative_to(root.resolve()) if root else p).as_posix()
        except ValueError:
            return p.as_posix()

    results: list[dict[str, Any]] = [
        {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": "error" if f.severity == "error" else "warning",
            "message": {"text": f"{f.message}. Instead: {f.rewrite}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(f.path, f.migration)},
                        "region": {"startLine": max(f.line, 1)},
                    }
                }
            ],
        }
        for f in report.findings
    ]
    rules = [
        {
            "id": RULES[r].id,
            "name": RULES[r].id,
            "shortDescription": {"text": RULES[r].title},
            "fullDescription": {"text": RULES[r].why},
            "help": {"text": RULES[r].rewrite},
            "defaultConfiguration": {"level": RULES[r].severity},
        }
        for r in used
    ]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "covet migrate lint",
                        "informationUri": "https://github.com/covet/covet/blob/main/docs/lint.md",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2)
