"""Live context: the server version and the catalog's size of every table a run names, in two
catalog queries whatever the number of migrations or findings (the dialect supplies the SQL)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from covet_core.dialect import Dialect
from covet_core.lint.model import Context, TableStats

_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")  # a version string, not SQL


def parse_version(text: str) -> tuple[int, ...] | None:
    match = _VERSION.search(text)
    return tuple(int(g) for g in match.groups() if g is not None) if match else None


async def fetch_version(adapter: Any, dialect: Dialect, ctx: Context) -> None:
    if dialect.server_version_sql is None:
        return
    stmt = dialect.server_version_sql
    ctx.queries += 1
    try:
        text = await adapter.fetch_value(stmt.text, stmt.params)
    except Exception as exc:  # any failure: a lint must never be why a deploy fails
        ctx.note = f"server version unavailable ({type(exc).__name__}: {_first_line(exc)})"
        return
    if text is not None:
        ctx.version_text = str(text)
        ctx.version = parse_version(ctx.version_text)


async def fetch_tables(adapter: Any, dialect: Dialect, ctx: Context, tables: Sequence[str]) -> None:
    if dialect.table_stats_sql is None or not tables:
        return
    stmt = dialect.table_stats_sql(sorted(set(tables)))
    ctx.queries += 1
    try:
        rows = await adapter.fetch_all(stmt.text, stmt.params)
    except Exception as exc:
        ctx.note = f"table sizes unavailable ({type(exc).__name__}: {_first_line(exc)})"
        return
    for row in rows:
        name, count, size = list(row.values())[:3]  # columns: table, rows, bytes
        ctx.tables[str(name).lower()] = TableStats(
            int(count) if count is not None else None, int(size) if size is not None else None
        )


def _first_line(exc: Exception) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else ""
