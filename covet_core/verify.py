"""Verified dry runs: every pending migration run for real, then rolled back.

A dry run that only prints SQL cannot tell that statement 3 fails on the production schema.
Where DDL is transactional (PostgreSQL, SQLite) ``up --dry-run --verify`` runs the plan inside
one transaction, in order, each migration seeing the ones before it, notes per migration its
duration and the table locks it took (where the dialect can list them), stops at the first
error, and rolls everything back: the database is left as it was, history included. Where DDL
commits implicitly (MySQL/MariaDB) nothing can be undone, so it refuses and says why, and
``--verify=scratch`` (``covet_core.verify_scratch``) runs the plan on a scratch copy instead.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from covet_core.errors import ConfigError, CovetError
from covet_core.migration import Migration
from covet_core.steps import steps_for


@dataclass
class Verified:
    """One migration of a verified dry run."""

    name: str
    success: bool | None
    """``True`` ran without error, ``False`` failed, ``None`` not run (after a failure, or a
    migration that cannot run inside a transaction)."""
    duration: float = 0.0
    locks: list[str] = field(default_factory=list)
    """Table locks it took, e.g. ``AccessExclusiveLock on users`` (where the dialect says)."""
    error: str | None = None
    statement: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _RollBack(Exception):
    """Ends the verification transaction: everything in it is undone."""


def refuse_unverifiable(dialect: Any) -> None:
    if not dialect.capabilities.transactional_ddl:
        raise ConfigError(
            f"cannot verify on {dialect.name}: its DDL commits implicitly, so a migration run "
            f"to check it could not be undone; verify on a scratch copy of the schema with "
            f'--verify=scratch (verify="scratch"), or use --dry-run to see the SQL'
        )


async def _locks(adapter: Any, dialect: Any) -> set[str]:
    stmt = dialect.held_locks_sql
    if stmt is None:
        return set()
    return {
        f"{r['mode']} on {r['relation']}" for r in await adapter.fetch_all(stmt.text, stmt.params)
    }


async def run_one(adapter: Any, dialect: Any, plugins: Any, migration: Migration) -> None:
    for step in steps_for(migration, "up"):
        if step.sql is not None:
            try:
                await adapter.execute(step.sql)
            except CovetError as exc:
                exc.statement = step.sql  # type: ignore[attr-defined]
                raise
        elif step.data is not None:
            data = step.data(
                adapter=adapter,
                table_name=step.data.table_name,  # type: ignore[attr-defined]
                batch_size=getattr(step.data, "batch_size", 1000),
                checkpoint_enabled=False,
                plugins=plugins,
            )
            await data.execute()
        else:
            await migration.forward(adapter)


async def attempt(line: Verified, run: Awaitable[None]) -> bool:
    """Run one migration's check, noting on ``line`` its duration, or the error and the
    statement that stopped it; whether it ran cleanly."""
    start = time.monotonic()
    try:
        await run
    except Exception as exc:  # a migration's Python step may raise anything
        line.success, line.duration = False, time.monotonic() - start
        line.error = str(exc) if isinstance(exc, CovetError) else f"{type(exc).__name__}: {exc}"
        line.statement = getattr(exc, "statement", None)
        return False
    line.success, line.duration = True, time.monotonic() - start
    return True


async def _savepointed(adapter: Any, dialect: Any, plugins: Any, migration: Migration) -> None:
    async with adapter.transaction():  # a savepoint: the error is reported, the rest goes on
        await run_one(adapter, dialect, plugins, migration)


async def verify_plan(
    adapter: Any, dialect: Any, plugins: Any, plan: list[Migration], needs_no_transaction: Any
) -> list[Verified]:
    """Run ``plan`` in one transaction that is always rolled back; a report per migration."""
    refuse_unverifiable(dialect)
    report = [Verified(m.name, None) for m in plan]
    try:
        async with adapter.transaction():
            held = await _locks(adapter, dialect)
            for line, migration in zip(report, plan, strict=True):
                if needs_no_transaction(migration):
                    line.error = "runs outside a transaction (atomic = False): not verified"
                    break  # what follows may depend on it
                if not await attempt(line, _savepointed(adapter, dialect, plugins, migration)):
                    break
                now = await _locks(adapter, dialect)
                line.locks, held = sorted(now - held), now
            raise _RollBack
    except _RollBack:
        pass
    return report
