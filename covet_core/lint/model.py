"""What a lint run produces: rules as documented objects, findings, and the live context.

Rules are data (id, base severity, why it hurts, the safe rewrite) so that docs/lint.md, the
SARIF rule table and the text output all say the same thing. Rule checkers live in the
parser-specific modules (``pg``, ``generic``); this module imports no parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR, WARNING = "error", "warning"
SEVERITIES = (ERROR, WARNING)
DEFAULT_LARGE_TABLE_ROWS = 100_000
BYTES_PER_ROW_GUESS = 100
"""Where the catalog has a size but no row estimate (SQLite, a PostgreSQL table never
analysed) the size is compared with ``rows threshold * BYTES_PER_ROW_GUESS``."""


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    why: str
    rewrite: str
    dialects: tuple[str, ...]
    """Parser families the rule runs on: ``postgres``, ``mysql``, ``sqlite``."""
    size_matters: bool = False
    """The harm grows with the table (a lock held while rows are scanned or copied): with live
    context it is an error on a large table, a warning on a small one, nothing on a new one."""


@dataclass(frozen=True)
class TableStats:
    rows: int | None
    bytes: int | None

    def describe(self) -> str:
        parts = []
        if self.rows is not None:
            parts.append(f"~{self.rows:,} rows")
        if self.bytes is not None:
            parts.append(_size(self.bytes))
        return ", ".join(parts) or "size unknown"


@dataclass
class Context:
    """What the database says about the tables a lint run names, fetched once per run."""

    live: bool = False
    version: tuple[int, ...] | None = None
    version_text: str | None = None
    tables: dict[str, TableStats] = field(default_factory=dict)
    large_rows: int = DEFAULT_LARGE_TABLE_ROWS
    note: str | None = None
    """Why the context is partial or static (no database, a catalog query failed)."""
    queries: int = 0
    """Catalog queries made: constant per run, whatever the number of migrations."""

    def at_least(self, *version: int) -> bool | None:
        """Whether the server is at least ``version``; ``None`` when unknown (static lint)."""
        return None if self.version is None else self.version >= version

    def is_large(self, stats: TableStats) -> bool | None:
        if stats.rows is not None:
            return stats.rows >= self.large_rows
        if stats.bytes is not None:
            return stats.bytes >= self.large_rows * BYTES_PER_ROW_GUESS
        return None


@dataclass
class Finding:
    rule: str
    severity: str
    migration: str
    path: str | None
    line: int
    statement: str
    message: str
    why: str
    rewrite: str
    table: str | None = None
    context: str | None = None
    """What the live context said (``~2,000,000 rows, 310 MB``), or ``None``."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "migration": self.migration,
            "path": self.path,
            "line": self.line,
            "statement": self.statement,
            "message": self.message,
            "why": self.why,
            "rewrite": self.rewrite,
            "table": self.table,
            "context": self.context,
        }


@dataclass
class Hit:
    """What a checker reports about one statement; the engine turns it into a ``Finding``."""

    rule: str
    message: str
    table: str | None = None
    severity: str | None = None
    """Overrides the rule's base severity (a checker that knows better from the version)."""
    renamed_to: str | None = None
    """For ``rename-table``: the new name (a rebuild renames, recreates, copies and drops)."""


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
