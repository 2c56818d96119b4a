"""Lint migrations: parse each forward statement with the dialect's parser, run the rules, weigh
each finding with the live context, and drop the ones a migration silenced."""

from __future__ import annotations

import re
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from covet_core.dialect import Dialect
from covet_core.lint.context import fetch_tables, fetch_version
from covet_core.lint.model import ERROR, WARNING, Context, Finding, Hit
from covet_core.lint.rules import RULES
from covet_core.lint.scan import Scan
from covet_core.migration import Migration

# Reads a comment's words, never SQL: `-- covet:allow <rule> <reason>`.
_ALLOW = re.compile(r"--\s*covet:allow\s+([\w-]+)[ \t]*([^\n]*)")
LEVELS = ("error", "warn", "off")
SYNTAXES = ("postgres", "mysql", "sqlite")
"""The values of ``Dialect.lint_syntax`` the linter has rules for."""


@dataclass
class Silenced:
    rule: str
    reason: str
    migration: str
    line: int


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    silenced: list[Silenced] = field(default_factory=list)
    context: Context = field(default_factory=Context)
    migrations: int = 0
    statements: int = 0
    duration: float = 0.0
    supported: bool = True
    """False: the dialect declares no ``lint_syntax``; nothing was checked."""

    def at_or_above(self, level: str) -> list[Finding]:
        """Findings that fail a run configured with ``lint = level``."""
        if level == "off":
            return []
        wanted = (ERROR,) if level == "error" else (ERROR, WARNING)
        return [f for f in self.findings if f.severity in wanted]


@dataclass
class _Raw:
    migration: Migration
    statement: str
    line: int
    hit: Hit
    allows: dict[str, str]
    earlier: bool = False
    """The table was created by an earlier migration of this run (see ``Scan.created_before``)."""


def _checker(syntax: str) -> tuple[Any, Any]:
    """(parse, check) for a parser family; the parser is imported here, on first use."""
    if syntax == "postgres":
        pg = import_module("covet_core.lint.pg")
        return pg, lambda node, scan, ctx: pg.check(node, scan, ctx)
    generic = import_module("covet_core.lint.generic")
    return generic, lambda node, scan, ctx: generic.check(node, scan, ctx, syntax)


def _source(migration: Migration) -> str:
    path = getattr(migration, "path", None)
    try:
        return path.read_text(encoding="utf-8") if path is not None else ""
    except (OSError, UnicodeDecodeError):
        return ""


def _allows(text: str) -> dict[int, list[tuple[str, str]]]:
    """``covet:allow`` comments by 1-based line."""
    found: dict[int, list[tuple[str, str]]] = {}
    if "covet:allow" not in text:
        return found
    for number, line in enumerate(text.splitlines(), 1):
        for match in _ALLOW.finditer(line):
            found.setdefault(number, []).append((match.group(1), match.group(2).strip()))
    return found


class _Locator:
    """Finds each statement's 1-based line in its file, statements taken in file order: lines
    are counted from the previous statement on, not from the top each time."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.line = 1

    def locate(self, statement: str) -> int:
        probe = next(
            (
                ln.strip()
                for ln in statement.splitlines()
                if ln.strip() and not ln.strip().startswith("--")
            ),
            "",
        )
        if not probe:
            return 1
        pos = self.source.find(probe, self.pos)
        if pos < 0:  # out of file order (a Python migration's statements, say)
            pos = self.source.find(probe)
            if pos < 0:
                return 1
            return self.source.count("\n", 0, pos) + 1
        self.line += self.source.count("\n", self.pos, pos)
        self.pos = pos
        line = self.line
        self.line += probe.count("\n")
        self.pos = pos + len(probe)
        return line


def check_migrations(
    migrations: list[Migration], dialect: Dialect, ctx: Context, report: LintReport
) -> list[_Raw]:
    syntax = dialect.lint_syntax
    if syntax not in SYNTAXES:
        # No rule set for it: MySQL's advice on, say, DuckDB would be wrong, so say nothing.
        report.supported = False
        return []
    module, check = _checker(syntax)
    parse = (
        (lambda sql: module.parse(sql))
        if syntax == "postgres"
        else (lambda sql: module.parse(sql, syntax))
    )
    with getattr(module, "quiet", nullcontext)():
        return _check(migrations, dialect, ctx, report, module, check, parse)


def _check(
    migrations: list[Migration], dialect: Dialect, ctx: Context, report: LintReport,
    module: Any, check: Any, parse: Any,
) -> list[_Raw]:  # fmt: skip
    from covet_core.runner import uses_transaction

    scan = Scan()
    raws: list[_Raw] = []
    for migration in migrations:
        report.migrations += 1
        source = _source(migration)
        file_allows = _allows(source)
        class_allows = dict(getattr(type(migration), "lint_allow", None) or {})
        parsed: list[tuple[str, int, int, Any]] = []
        locator = _Locator(source)
        for sql in migration.statements("up"):
            report.statements += 1
            line = locator.locate(sql)
            try:
                nodes = parse(sql)
            except module.StatementError as exc:
                parsed.append(
                    (sql, line, len(sql.splitlines()), Hit("parse-error", f"not parsed: {exc}"))
                )
                continue
            for offset, node in nodes:
                parsed.append((sql, line + sql.count("\n", 0, offset), len(sql.splitlines()), node))
        scan.next_migration()
        renamed: set[str] = set()
        mine: list[_Raw] = []
        scan.in_transaction = uses_transaction(migration, dialect)
        scan.schema_migration = any(not isinstance(n, Hit) and module.is_ddl(n) for *_, n in parsed)
        for sql, line, span, node in parsed:
            hits = [node] if isinstance(node, Hit) else check(node, scan, ctx)
            allows = dict(class_allows)
            if file_allows:
                for number in range(line - 1, line + span):
                    allows.update(dict(file_allows.get(number, [])))
            if "covet:allow" in sql:
                allows.update({m.group(1): m.group(2).strip() for m in _ALLOW.finditer(sql)})
            for hit in hits:
                if hit.renamed_to:
                    renamed.add(hit.renamed_to.lower())
                if hit.rule == "drop-table" and (hit.table or "").lower() in renamed:
                    continue  # the copy a rebuild set aside earlier in this migration
                mine.append(_Raw(migration, sql, line, hit, allows, scan.earlier(hit.table)))
        # A rename whose old name this migration creates again is a rebuild (rename aside,
        # create, copy, drop): the application never sees the name go away.
        raws += [r for r in mine if not (r.hit.renamed_to and scan.is_new(r.hit.table))]
    return raws


def weigh(raw: _Raw, ctx: Context) -> Finding:
    hit, rule = raw.hit, RULES[raw.hit.rule]
    severity = hit.severity or rule.severity
    message, context = hit.message, None
    stats = ctx.tables.get(hit.table.lower()) if hit.table else None
    if stats is not None:
        context = stats.describe()
        large = ctx.is_large(stats)
        if rule.size_matters and large is True:
            severity = ERROR
            message += f"; {hit.table} is large ({context})"
        elif rule.size_matters and large is False:
            severity = WARNING
            message += f"; {hit.table} is small ({context}), so it is brief today"
        elif rule.id == "add-column-not-null" and stats.rows == 0 and severity == ERROR:
            message += f"; {hit.table} is empty today, but not in every environment"
            severity = WARNING
    path = getattr(raw.migration, "path", None)
    return Finding(rule.id, severity, raw.migration.name, str(path) if path else None, raw.line,
                   raw.statement.strip(), message, rule.why, rule.rewrite, hit.table, context)  # fmt: skip


async def lint(
    migrations: list[Migration],
    dialect: Dialect,
    adapter: Any = None,
    *,
    large_rows: int | None = None,
) -> LintReport:
    """Lint ``migrations`` (in order) for ``dialect``; with a connected ``adapter``, weigh each
    finding with the server version and the catalog's table sizes (two catalog queries)."""
    start = time.perf_counter()
    ctx = Context(live=adapter is not None)
    if large_rows is not None:
        ctx.large_rows = large_rows
    report = LintReport(context=ctx)
    if adapter is not None:
        await fetch_version(adapter, dialect, ctx)
    raws = check_migrations(migrations, dialect, ctx, report)
    if adapter is not None:
        wanted = {"add-column-not-null"}
        tables = [
            r.hit.table
            for r in raws
            if r.hit.table and (r.earlier or RULES[r.hit.rule].size_matters or r.hit.rule in wanted)
        ]
        await fetch_tables(adapter, dialect, ctx, [t for t in tables if t])
    # A table an earlier migration of this run creates is new, unless the catalog already has
    # it (those migrations were applied long ago: `--all` on a live database).
    raws = [r for r in raws if not r.earlier or (r.hit.table or "").lower() in ctx.tables]
    for raw in raws:
        finding = weigh(raw, ctx)
        if raw.hit.rule in raw.allows:
            reason = raw.allows[raw.hit.rule]
            if reason:
                report.silenced.append(Silenced(raw.hit.rule, reason, raw.migration.name, raw.line))
                continue
            report.findings.append(
                weigh(
                    _Raw(
                        raw.migration,
                        raw.statement,
                        raw.line,
                        Hit(
                            "allow-without-reason",
                            f"covet:allow {raw.hit.rule} has no reason; not silenced",
                        ),
                        {},
                    ),
                    ctx,
                )
            )
        report.findings.append(finding)
    report.duration = time.perf_counter() - start
    return report
