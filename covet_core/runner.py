"""Running one migration in one direction, with its history row.

Where DDL is transactional and the migration is atomic, statements and history row commit
together, so a failure leaves no trace. Otherwise statements run one at a time and the history
row is moved forward *before* each statement (``partial``, ``statements_done = k``): after a
crash or an error the row says exactly which statement was running.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from covet_core.errors import MigrationFailedError
from covet_core.history import APPLIED, PARTIAL, HistoryRecord, MigrationHistory
from covet_core.log import get_logger
from covet_core.migration import Migration

if TYPE_CHECKING:
    from covet_core.adapter import Adapter
    from covet_core.dialect import Dialect
    from covet_core.plugins import Plugins

log = get_logger()


@dataclass
class MigrationResult:
    """What ``covet_after_migration`` receives for each migration run."""

    name: str
    direction: str
    success: bool
    duration: float
    transactional: bool
    statements_run: int = 0
    error: str | None = None
    failed_statement: str | None = None
    sql: list[str] = field(default_factory=list)


@dataclass
class _Step:
    label: str
    sql: str | None  # None: the migration's Python method


class _StepFailed(Exception):
    def __init__(self, index: int, step: _Step, cause: BaseException) -> None:
        self.index = index
        self.step = step
        self.cause = cause


def steps_for(migration: Migration, direction: str) -> list[_Step]:
    """SQL statements and the Python method, in the order they run in ``direction``."""
    sql = [_Step(s, s) for s in migration.statements(direction)]
    cls = type(migration).__name__
    if direction == "up":
        python = [_Step(f"{cls}.forward()", None)] if migration.has_python_forward else []
        return sql + python
    python = [_Step(f"{cls}.backward()", None)] if migration.has_python_backward else []
    return python + sql


def plan_text(migration: Migration, direction: str) -> list[str]:
    """What a dry run shows: each statement, and a comment line for Python steps."""
    return [
        s.sql if s.sql is not None else f"-- python: {s.label}"
        for s in steps_for(migration, direction)
    ]


def uses_transaction(migration: Migration, dialect: Dialect) -> bool:
    return bool(migration.atomic) and dialect.capabilities.transactional_ddl


class MigrationRunner:
    def __init__(
        self, adapter: Adapter, dialect: Dialect, plugins: Plugins, history: MigrationHistory
    ) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.plugins = plugins
        self.history = history

    async def run(self, migration: Migration, direction: str) -> MigrationResult:
        """Run ``migration``; raise ``MigrationFailedError`` (after the after-hook) on failure."""
        steps = steps_for(migration, direction)
        transactional = uses_transaction(migration, self.dialect)
        bound = log.bind(migration=migration.name, dialect=self.dialect.name, direction=direction)
        self.plugins.before_migration(migration, direction)
        bound.debug("migration.started", transactional=transactional, statements=len(steps))
        before = await self.history.get(migration.name) if direction == "down" else None
        start = time.monotonic()
        done = 0
        try:
            if transactional:
                async with self.adapter.transaction():
                    done = await self._run_steps(migration, steps, direction, track=False)
                    await self._finish(migration, direction, time.monotonic() - start)
            else:
                done = await self._run_steps(migration, steps, direction, track=True)
                await self._finish(migration, direction, time.monotonic() - start)
        except _StepFailed as failed:
            duration = time.monotonic() - start
            partial = not transactional and failed.index > 0
            if not transactional:
                await self._record_failure(migration, direction, failed, partial, before)
            cause = (
                f"{type(failed.cause).__name__}: {failed.cause}"
                if failed.step.sql is None
                else str(failed.cause)
            )
            result = MigrationResult(
                migration.name,
                direction,
                False,
                duration,
                transactional,
                statements_run=failed.index,
                error=cause,
                failed_statement=failed.step.label,
                sql=[s.label for s in steps],
            )
            self.plugins.after_migration(migration, direction, result)
            bound.error(
                "migration.failed", statement=failed.index + 1, error=cause, partial=partial
            )
            raise MigrationFailedError(
                migration.name,
                direction=direction,
                statement_index=failed.index,
                statement=failed.step.label,
                cause=cause,
                partial=partial,
            ) from failed.cause
        duration = time.monotonic() - start
        result = MigrationResult(
            migration.name,
            direction,
            True,
            duration,
            transactional,
            statements_run=done,
            sql=[s.label for s in steps],
        )
        self.plugins.after_migration(migration, direction, result)
        event = "migration.applied" if direction == "up" else "migration.rolled_back"
        bound.info(event, duration=round(duration, 6), statements=done)
        return result

    async def _run_steps(
        self, migration: Migration, steps: list[_Step], direction: str, *, track: bool
    ) -> int:
        checksum = migration.checksum()
        for index, step in enumerate(steps):
            if track:
                await self._progress(migration.name, checksum, direction, index)
            try:
                if step.sql is not None:
                    await self.adapter.execute(step.sql)
                elif direction == "up":
                    await migration.forward(self.adapter)
                else:
                    await migration.backward(self.adapter)
            except Exception as exc:  # a user's Python step may raise anything
                raise _StepFailed(index, step, exc) from exc
        return len(steps)

    async def _progress(self, name: str, checksum: str, direction: str, done: int) -> None:
        # Before the first "up" statement the row does not exist; writing it now means a crash
        # mid-statement still leaves a row saying which statement was running.
        async with self.adapter.transaction():
            await self.history.write(
                name, state=PARTIAL, checksum=checksum, direction=direction, statements_done=done
            )

    async def _finish(self, migration: Migration, direction: str, duration: float) -> None:
        if direction == "up":
            await self._write_final(migration, duration)
        else:
            async with self.adapter.transaction():
                await self.history.delete(migration.name)

    async def _write_final(self, migration: Migration, duration: float) -> None:
        async with self.adapter.transaction():
            await self.history.write(
                migration.name,
                state=APPLIED,
                checksum=migration.checksum(),
                duration=duration,
                direction="up",
            )

    async def _record_failure(
        self,
        migration: Migration,
        direction: str,
        failed: _StepFailed,
        partial: bool,
        before: HistoryRecord | None,
    ) -> None:
        if partial:
            async with self.adapter.transaction():
                await self.history.write(
                    migration.name,
                    state=PARTIAL,
                    checksum=migration.checksum(),
                    direction=direction,
                    statements_done=failed.index,
                    error=f"statement {failed.index + 1}: {failed.cause}",
                )
        elif direction == "up":
            # Statement 1 failed and nothing ran: leave no trace, as a transaction would.
            async with self.adapter.transaction():
                await self.history.delete(migration.name)
        elif before is not None:
            # Nothing of the rollback ran: put the applied row back exactly as it was.
            async with self.adapter.transaction():
                await self.history.write(
                    before.name,
                    state=before.state,
                    checksum=before.checksum,
                    duration=before.duration,
                    direction=before.direction,
                    applied_at=before.applied_at,
                )
