"""Running one migration in one direction, with its history row.

Where DDL is transactional and the migration is atomic, statements and history row commit
together, so a failure leaves no trace. Otherwise statements run one at a time and the history
row is moved forward *before* each statement (``partial``, ``statements_done = k``): after a
crash or an error the row says exactly which statement was running.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from covet_core.errors import CovetError, LockLostError, MigrationFailedError
from covet_core.history import APPLIED, PARTIAL, HistoryRecord, MigrationHistory
from covet_core.log import get_logger
from covet_core.migration import Migration
from covet_core.planning import describe_kept
from covet_core.steps import Step as _Step
from covet_core.steps import steps_for

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


class _StepFailed(Exception):
    def __init__(
        self, index: int, step: _Step, cause: BaseException, kept: str | None = None
    ) -> None:
        self.index = index
        self.step = step
        self.cause = cause
        self.kept = kept  # what the failed step itself committed before failing, if anything


def uses_transaction(migration: Migration, dialect: Dialect, direction: str = "up") -> bool:
    # Data steps commit batch by batch (that is what makes them resumable), so a migration
    # holding one runs step by step with its progress recorded, like atomic = False. They
    # run going up only: going down such a migration is as transactional as any other.
    data = bool(migration.data_steps) and direction == "up"
    if data or not (migration.atomic and dialect.capabilities.transactional_ddl):
        return False
    detect = dialect.needs_no_transaction
    if migration.atomic_declared or detect is None:
        return True
    return not any(detect(s) for d in ("up", "down") for s in migration.statements(d))


class MigrationRunner:
    """Runs migrations one by one for a manager that holds the migration lock.

    ``records`` is the history as read under that lock; the runner keeps it current, so each
    history write is a single statement with no look-ups.
    """

    def __init__(
        self,
        adapter: Adapter,
        dialect: Dialect,
        plugins: Plugins,
        history: MigrationHistory,
        records: Iterable[HistoryRecord] = (),
        guard: Callable[[Adapter], Awaitable[None]] | None = None,
    ) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.plugins = plugins
        self.history = history
        self._records = {r.name: r for r in records}
        self._next_order = max((r.execution_order for r in self._records.values()), default=0) + 1
        self.share_commits = False
        self.max_replica_lag: float | None = None
        self.replicas: tuple[str, ...] = ()
        self.ddl_lock_timeout: float | None = None
        """Seconds a migration's statements may wait for a lock (``Dialect.lock_timeout``)."""
        self._deferred: tuple[str, dict[str, Any]] | None = None
        # Raises LockLostError once the migration lock was taken away (`unlock --force`):
        # asked before each commit, so a process that lost the lock commits nothing more.
        self.guard = guard

    async def check_lock(self, adapter: Adapter | None = None) -> None:
        if self.guard is not None:
            await self.guard(adapter or self.adapter)

    async def flush(self) -> None:
        """Write a deferred "applied" mark (see ``share_commits``). Call when a run ends."""
        if self._deferred is not None:
            name, fields = self._deferred
            self._deferred = None
            await self.check_lock()
            await self.history.update(name, **fields)

    async def _with_deferred(self, write: Any) -> None:
        """Run ``write`` (a coroutine function) together with any deferred mark, in one commit.

        With ``share_commits`` (a manager running a plan), a non-transactional migration's
        final "applied" mark waits for the next migration's first "started" mark, and both
        commit together: one commit per migration instead of two, which on MySQL is the
        difference between 2 and 3 commits per migration. Until then the finished migration
        reads "partial, last statement running": conservative, never the reverse.
        """
        await self.check_lock()
        if self._deferred is None:
            await write()
            return
        async with self.adapter.transaction():
            await self.flush()
            await write()

    def bounded(self) -> AbstractAsyncContextManager[None]:
        """The lock timeout for the migrations this runner runs, where the dialect has one:
        entered once around a whole plan (a session setting: a few statements per command,
        not per migration), after covet's own lock is held, so it never cuts that wait."""
        if self.ddl_lock_timeout is None or self.dialect.lock_timeout is None:
            return nullcontext()
        return self.dialect.lock_timeout(self.adapter, self.ddl_lock_timeout)

    async def run(
        self, migration: Migration, direction: str, start_at: int = 0, *, resume: bool = False
    ) -> MigrationResult:
        """Run ``migration``; raise ``MigrationFailedError`` (after the after-hook) on failure.

        ``start_at`` skips steps already done; ``resume`` says this continues a partial
        migration, whose first part is committed already: it runs step by step, and a data
        step at ``start_at`` continues from its checkpoint instead of starting over.
        """
        job = _Job(self, migration, direction, start_at, resume)
        bound = log.bind(migration=migration.name, dialect=self.dialect.name, direction=direction)
        self.plugins.before_migration(migration, direction)
        bound.debug("migration.started", transactional=job.transactional, statements=len(job.steps))
        start = time.monotonic()
        try:
            if job.transactional:
                await self.flush()  # never inside this transaction: its failure would undo it
                async with self.adapter.transaction():
                    await job.run_steps(track=False)
                    await job.finish(time.monotonic() - start)
                    await self.check_lock()  # last thing before the commit
            else:
                if direction == "up" and not job.resume:
                    await job.forget_data_progress()
                await job.run_steps(track=True)
                await job.finish(time.monotonic() - start)
        except _StepFailed as failed:
            # Outside a transaction, anything committed before the failure stays: earlier
            # steps, an earlier run's part (resume), or the failed step's own commits.
            partial = not job.transactional and (
                failed.index > 0 or job.resume or failed.kept is not None
            )
            if not job.transactional:
                await job.record_failure(failed, partial)
            cause = str(failed.cause)
            if failed.step.sql is None:
                cause = f"{type(failed.cause).__name__}: {cause}"
            result = job.result(False, time.monotonic() - start, failed.index, cause, failed.step)
            self.plugins.after_migration(migration, direction, result)
            bound.error(
                "migration.failed", statement=failed.index + 1, error=cause, partial=partial
            )
            kept, remedy = describe_kept(migration, direction, failed.index, failed.kept)
            raise MigrationFailedError(
                migration.name,
                direction=direction,
                statement_index=failed.index,
                statement=failed.step.label,
                cause=cause,
                partial=partial,
                kept=kept if partial else None,
                remedy=remedy if partial else None,
            ) from failed.cause
        result = job.result(True, time.monotonic() - start, len(job.steps))
        try:
            self.plugins.after_migration(migration, direction, result)
        except CovetError as error:
            error.completed = migration.name  # type: ignore[attr-defined]  # it did run
            raise
        event = "migration.applied" if direction == "up" else "migration.rolled_back"
        bound.info(event, duration=round(result.duration, 6), statements=len(job.steps))
        return result


class _Job:
    """One migration in one direction: its steps and its history row."""

    def __init__(
        self,
        runner: MigrationRunner,
        migration: Migration,
        direction: str,
        start_at: int = 0,
        resume: bool = False,
    ) -> None:
        self.runner = runner
        self.history = runner.history
        self.adapter = runner.adapter
        self.migration = migration
        self.direction = direction
        self.steps = steps_for(migration, direction)
        self.start_at = start_at
        self.resume = resume
        self.transactional = (
            uses_transaction(migration, runner.dialect, direction) and start_at == 0 and not resume
        )
        self._data: Any = None  # the data step running now, to tell what it committed
        self.checksum = migration.checksum()
        self.before = runner._records.get(migration.name)
        self.order = self.before.execution_order if self.before else runner._next_order
        self.row_exists = self.before is not None

    async def run_steps(self, *, track: bool) -> None:
        for index, step in enumerate(self.steps):
            if index < self.start_at:
                continue
            if track:
                # Written *before* the statement: after a crash the row says which one ran.
                await self.write_shared(PARTIAL, statements_done=index, direction=self.direction)
            try:
                if step.sql is not None:
                    await self.adapter.execute(step.sql)
                elif step.data is not None:
                    await self._run_data(step.data, resume=self.resume and index == self.start_at)
                elif self.direction == "up":
                    await self.migration.forward(self.adapter)
                else:
                    await self.migration.backward(self.adapter)
            except LockLostError:
                raise  # not the step's failure: nothing more may be written, not even that
            except Exception as exc:  # a user's Python step may raise anything
                raise _StepFailed(index, step, exc, self._kept_by(step, track)) from exc

    def _kept_by(self, step: _Step, outside_transaction: bool) -> str | None:
        """What the failed ``step`` committed itself. A SQL statement is atomic on the server;
        a data step commits batch by batch; a Python step outside a transaction commits each
        of its statements, and covet cannot tell how many ran."""
        if not outside_transaction or step.sql is not None:
            return None
        if step.data is None:
            return (
                f"{step.label} ran outside a transaction, so whatever it did before failing "
                f"was kept"
            )
        progress = getattr(self._data, "progress", None)
        rows = progress.processed_rows if progress is not None else 0
        if not rows:
            return None
        name = step.data.__name__
        return f"the data step {name} committed {rows} row(s) before it failed (checkpointed)"

    def _data_step(self, step: type, report: Any = None) -> Any:
        return step(
            adapter=self.adapter,
            table_name=step.table_name,  # type: ignore[attr-defined]
            batch_size=getattr(step, "batch_size", 1000),
            name=f"{self.migration.name}:{step.__name__}",
            progress_callback=report,
            plugins=self.runner.plugins,
            resume_hint=f"`covet migrate resolve {self.migration.name} --applied --run`",
            max_replica_lag=(
                self.runner.max_replica_lag
                if getattr(step, "max_replica_lag", None) is None
                else step.max_replica_lag  # type: ignore[attr-defined]
            ),
            replicas=getattr(step, "replicas", None) or self.runner.replicas,
        )

    async def forget_data_progress(self) -> None:
        """Before a fresh run's first history mark: drop what earlier applications of this
        migration left (a completed checkpoint survives a rollback). Otherwise a run killed
        before its data step started would be resumed from that old checkpoint, and the
        step would be marked applied having transformed nothing. Cleared before the mark is
        written, never after: a kill in between leaves the migration pending, not partial."""
        for step in self.migration.data_steps:
            await self._data_step(step).forget_progress()

    async def _run_data(self, step: type, resume: bool) -> None:
        """A data step: checkpointed under the migration's name, so ``resolve --applied --run``
        after a failure continues it exactly where its last batch committed."""
        from covet_core.data.progress import throttle_fields

        bound = log.bind(migration=self.migration.name, data_step=step.__name__)

        def report(progress: Any) -> None:
            self.runner.plugins.data_progress(self.migration, step.__name__, progress)
            throttled = throttle_fields(progress)
            bound.info("data.progress", processed=progress.processed_rows, total=progress.total_rows,
                       rows_per_second=round(progress.rows_per_second), eta=round(progress.eta_seconds, 1),
                       **throttled)  # fmt: skip

        migration = self._data_step(step, report)
        migration.commit_guard = self.runner.guard
        self._data = migration
        await migration.execute(resume=resume)

    async def write(self, state: str, **fields: Any) -> None:
        # One statement either way, atomic on its own: inside the migration's transaction it
        # commits with it, outside (non-transactional DDL) it is one commit, never two.
        name = self.migration.name
        if self.row_exists:
            fields.setdefault("error", None)
            fields.setdefault("statements_done", None)
            await self.history.update(name, state=state, checksum=self.checksum, **fields)
        else:
            await self.history.write(
                name, state=state, checksum=self.checksum, order=self.order, fresh=True, **fields
            )
        self.row_exists = True

    async def write_shared(self, state: str, **fields: Any) -> None:
        """``write``, sharing its commit with a deferred mark of the previous migration."""
        await self.runner._with_deferred(lambda: self.write(state, **fields))

    async def delete(self) -> None:
        await self.history.delete(self.migration.name)
        self.row_exists = False

    async def finish(self, duration: float) -> None:
        records = self.runner._records
        if self.direction == "down":
            await self.delete()
            records.pop(self.migration.name, None)
            return
        fields = {"duration": duration, "direction": "up", "error": None, "statements_done": None}
        runner = self.runner
        # Defer only a mark whose row exists (an UPDATE of a missing row records nothing) and
        # never over another pending one: a migration with no statements writes no progress,
        # so it shares its own commit with the previous migration's mark instead.
        if (
            not self.transactional
            and runner.share_commits
            and self.row_exists
            and runner._deferred is None
        ):
            runner._deferred = (
                self.migration.name, {"state": APPLIED, "checksum": self.checksum, **fields}
            )  # fmt: skip
        else:
            await self.write_shared(APPLIED, **fields)
        records[self.migration.name] = HistoryRecord(
            self.migration.name, self.checksum, APPLIED, None, duration, None, self.order
        )
        self.runner._next_order = max(self.runner._next_order, self.order + 1)

    async def record_failure(self, failed: _StepFailed, partial: bool) -> None:
        if partial:
            error = f"statement {failed.index + 1}: {failed.cause}"
            await self.write(
                PARTIAL, direction=self.direction, statements_done=failed.index, error=error
            )
        elif self.direction == "up":
            await self.delete()  # statement 1 failed, nothing ran: no trace, as a transaction
        elif self.before is not None:
            # Nothing of the rollback ran: put the applied row back exactly as it was.
            before = self.before
            await self.history_restore(before)

    async def history_restore(self, before: HistoryRecord) -> None:
        async with self.adapter.transaction():
            await self.history.write(
                before.name,
                state=before.state,
                checksum=before.checksum,
                duration=before.duration,
                direction=before.direction,
                applied_at=before.applied_at,
                order=before.execution_order,
            )

    def result(
        self,
        success: bool,
        duration: float,
        statements_run: int,
        error: str | None = None,
        step: _Step | None = None,
    ) -> MigrationResult:
        return MigrationResult(
            self.migration.name,
            self.direction,
            success,
            duration,
            self.transactional,
            statements_run=statements_run,
            error=error,
            failed_statement=step.label if step else None,
            sql=[s.label for s in self.steps],
        )
