"""Adopting covet on a database that already has its schema: baseline and import.

``baseline`` records migrations as applied without running them. ``import`` first reads which
versions another tool applied, from that tool's own history table, and refuses when that
history says a migration is dirty or failed: covet must not start from a state the previous
tool itself did not trust.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from covet_core.errors import HistoryError
from covet_core.migration import Migration
from covet_core.sqlfiles import version_key


@dataclass
class Applied:
    """What another tool recorded: a set of versions, or (golang-migrate) everything up to one."""

    versions: set[tuple[int, ...]] = field(default_factory=set)
    up_to: tuple[int, ...] | None = None


Reader = Callable[[Any, Any], Awaitable[Applied]]


async def _golang_migrate(adapter: Any, dialect: Any) -> Applied:
    # One row: the latest version applied, and whether it stopped half-way ("dirty").
    t = dialect.quote("schema_migrations")
    row = await adapter.fetch_one(
        f"SELECT {dialect.quote('version')}, {dialect.quote('dirty')} FROM {t}"
    )
    if row is None:
        return Applied()
    if row["dirty"]:
        raise HistoryError(
            f"golang-migrate's schema_migrations says version {row['version']} is dirty (it "
            f"failed half-way); fix the database and `migrate force` it first, then import"
        )
    return Applied(up_to=version_key(str(row["version"])))


async def _goose(adapter: Any, dialect: Any) -> Applied:
    q = dialect.quote
    rows = await adapter.fetch_all(
        f"SELECT {q('version_id')}, {q('is_applied')} FROM {q('goose_db_version')} ORDER BY {q('id')}"
    )
    state: dict[int, bool] = {}
    for row in rows:  # the latest row per version wins (goose appends on up and on down)
        state[int(row["version_id"])] = bool(row["is_applied"])
    return Applied({(v,) for v, applied in state.items() if applied and v != 0})


async def _dbmate(adapter: Any, dialect: Any) -> Applied:
    rows = await adapter.fetch_all(
        f"SELECT {dialect.quote('version')} FROM {dialect.quote('schema_migrations')}"
    )
    return Applied({version_key(str(row["version"])) for row in rows})


async def _flyway(adapter: Any, dialect: Any) -> Applied:
    q = dialect.quote
    rows = await adapter.fetch_all(
        f"SELECT {q('version')}, {q('type')}, {q('success')}, {q('script')} "
        f"FROM {q('flyway_schema_history')} ORDER BY {q('installed_rank')}"
    )
    applied: set[tuple[int, ...]] = set()
    for row in rows:
        if not row["success"]:
            raise HistoryError(
                f"flyway_schema_history records a failed migration ({row['script']}); run "
                f"`flyway repair` after fixing the database, then import"
            )
        if row["version"] is None:
            continue  # baseline markers and repeatable migrations carry no version
        key = version_key(str(row["version"]))
        if str(row["type"]).upper().startswith("UNDO"):
            applied.discard(key)
        elif str(row["type"]).upper() != "BASELINE":
            applied.add(key)
    return Applied(applied)


READERS: dict[str, Reader] = {
    "golang-migrate": _golang_migrate,
    "goose": _goose,
    "dbmate": _dbmate,
    "flyway": _flyway,
}


async def applied_elsewhere(
    tool: str, adapter: Any, dialect: Any, migrations: list[Migration]
) -> list[Migration]:
    """The migrations ``tool`` recorded as applied, matched to files by version."""
    if tool not in READERS:
        raise HistoryError(f"unknown tool {tool!r}; covet imports from: {', '.join(READERS)}")
    found = await READERS[tool](adapter, dialect)
    if found.up_to is not None:
        up_to = found.up_to
        if not any(m.sort_key == up_to for m in migrations):
            found.versions = {up_to}  # reported as missing below
        else:
            # golang-migrate keeps only the latest version: everything up to it is applied.
            return [m for m in migrations if m.sort_key and m.sort_key <= up_to]
    chosen = [m for m in migrations if m.sort_key in found.versions]
    missing = found.versions - {m.sort_key for m in chosen}
    if missing:
        shown = ", ".join(".".join(map(str, v)) for v in sorted(missing))
        raise HistoryError(
            f"{tool} recorded version(s) {shown} as applied, but no migration file has that "
            f"version; point --dir at that tool's migrations"
        )
    return chosen
