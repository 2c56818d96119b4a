"""``covet migrate lint``: migrations checked for statements that lock or break production.

Parsers (pglast, sqlglot) are imported only when a lint runs, never by ``import covet_core``.
"""

from __future__ import annotations

from covet_core.lint.engine import LEVELS, LintReport, lint
from covet_core.lint.model import Context, Finding, Rule, TableStats
from covet_core.lint.rules import RULES

__all__ = ["LEVELS", "RULES", "Context", "Finding", "LintReport", "Rule", "TableStats", "lint"]
