"""DataMigration and BulkDataMigration: batched, resumable transforms of a table's rows.

The table is walked in primary-key order with keyset pagination (``WHERE key > last ORDER BY key
LIMIT n``; never OFFSET, whose cost grows with every page). Each batch goes through
``transform_batch(rows, adapter)``; only rows and columns whose values changed are written back,
and the writes commit together with the checkpoint row, so ``execute(resume=True)`` after a
crash continues exactly after the last committed batch: every row is transformed once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from covet_core.data.batches import BatchMethods, Row
from covet_core.data.changes import DataMigrationError
from covet_core.data.checkpoints import Checkpoints, decode_key
from covet_core.data.progress import Progress
from covet_core.data.throttle import ReplicaThrottle, check_max_lag
from covet_core.data.walk import Walk
from covet_core.log import get_logger

log = get_logger()


__all__ = ["BulkDataMigration", "DataMigration", "DataMigrationError"]


class DataMigration(BatchMethods):
    """Subclass it and override ``transform_batch``; then ``await migration.execute()``.

    ``where`` (SQL, with ``where_params``) limits the rows visited; ``pause`` sleeps between
    batches (throttling); a failing batch is retried ``retries`` times, then ``on_failure``
    decides: ``"stop"`` raises ``DataMigrationError``, ``"skip"`` counts its rows as failed and
    moves on.
    """

    max_replica_lag: float | None = None
    """Seconds replicas may fall behind before batches wait for them (``None``: never
    wait). Set it on the class, pass it, or set ``max_replica_lag`` in covet.toml."""

    replicas: Sequence[str] = ()
    """URLs of replicas to watch beside those the primary reports itself (on MySQL/MariaDB,
    which reports none: the replicas to watch). ``replicas`` in covet.toml for data steps."""

    estimate_above: int | None = 500_000
    """An unfiltered table the catalog estimates at this many rows or more gets its
    ``total_rows`` from the estimate (``progress.total_is_estimate``); ``None``: always count."""

    def __init__(
        self,
        adapter: Any,
        table_name: str,
        batch_size: int = 1000,
        progress_callback: Callable[[Progress], Any] | None = None,
        checkpoint_enabled: bool = True,
        *,
        name: str | None = None,
        where: str | None = None,
        where_params: Sequence[Any] = (),
        pause: float = 0.0,
        retries: int = 0,
        on_failure: str = "stop",
        plugins: Any = None,
        resume_hint: str = "execute(resume=True)",
        max_replica_lag: float | None = None,
        replicas: Sequence[str] | None = None,
    ) -> None:
        if batch_size < 1:
            raise DataMigrationError("batch_size must be at least 1")
        if on_failure not in ("stop", "skip"):
            raise DataMigrationError('on_failure must be "stop" or "skip"')
        from covet_core.plugins import Plugins

        self.adapter = adapter
        self.table_name = table_name
        self.batch_size = batch_size
        self.progress_callback = progress_callback
        self.checkpoint_enabled = checkpoint_enabled
        self.name = name or f"{type(self).__name__}:{table_name}"
        self.where, self.where_params = where, tuple(where_params)
        self.pause, self.retries, self.on_failure = pause, retries, on_failure
        self.plugins = plugins if isinstance(plugins, Plugins) else Plugins.load(plugins or ())
        self.dialect = self.plugins.dialect(adapter.dialect_name)
        self._q = self.dialect.quote
        if max_replica_lag is not None:
            self.max_replica_lag = max_replica_lag
        check_max_lag(self.max_replica_lag)
        if replicas is not None:
            self.replicas = tuple(replicas)
        self._throttle: ReplicaThrottle | None = None
        # How the caller continues after a failure: a migration's data step is continued by
        # a `covet` command, a data migration run from Python by ``execute(resume=True)``.
        self.resume_hint = resume_hint
        self.progress: Progress | None = None
        self.commit_guard: Callable[[Any], Awaitable[None]] | None = None
        """Called with the connection inside each batch's transaction, before its checkpoint:
        a migration's data step stops there once the migration lock was taken away."""
        """The running (or last) execution's progress: what has been committed so far."""

    async def forget_progress(self) -> None:
        """Drop this data migration's saved progress: the next ``execute`` starts over even
        with ``resume=True``."""
        checkpoints = Checkpoints(self.adapter, self.dialect, self.plugins)
        await checkpoints.ensure()
        await checkpoints.clear(self.name)

    async def transform_batch(self, rows: list[Row], adapter: Any) -> list[Row] | None:
        """Return the rows with their new values (changing them in place is fine)."""
        return rows

    # -- the walk -----------------------------------------------------------------------------

    async def _keys(self) -> list[str]:
        if self.dialect.primary_key_sql is None:
            raise DataMigrationError(f"dialect {self.dialect.name} cannot tell primary keys")
        stmt = self.dialect.primary_key_sql(self.table_name)
        keys = [r["name"] for r in await self.adapter.fetch_all(stmt.text, stmt.params)]
        if not keys:
            raise DataMigrationError(
                f"table {self.table_name!r} has no primary key (or does not exist); a data "
                f"migration walks rows in key order to resume exactly, so add one first"
            )
        return keys

    def _page(
        self, keys: list[str], after: tuple[Any, ...] | None,
        upto: tuple[Any, ...] | None = None, *, limit: bool = True,
    ) -> tuple[str, tuple[Any, ...]]:  # fmt: skip
        """The rows after key ``after`` (all from the start when None), in key order, at most
        ``batch_size`` of them unless ``limit`` is false; with ``upto``, only keys up to it.
        A retried batch is read as ``(after, last]`` without a limit: the same rows, even if
        rows were inserted or deleted in between meanwhile."""
        conditions, params = [], list(self.where_params)
        if self.where:
            conditions.append(f"({self.where})")
        for bound, op in ((after, ">"), (upto, "<=")):
            if bound is None:
                continue
            p = self.dialect.params(len(keys), start=len(params) + 1)
            if len(keys) == 1:
                conditions.append(f"{self._q(keys[0])} {op} {p[0]}")
            else:  # a row-value comparison keeps composite keys index-friendly
                conditions.append(f"({', '.join(map(self._q, keys))}) {op} ({', '.join(p)})")
            params += bound
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        order = ", ".join(map(self._q, keys))
        tail = f" LIMIT {int(self.batch_size)}" if limit else ""
        sql = f"SELECT * FROM {self._q(self.table_name)}{where} ORDER BY {order}{tail}"
        return sql, tuple(params)

    async def _count(self) -> int:
        where = f" WHERE {self.where}" if self.where else ""
        sql = f"SELECT COUNT(*) FROM {self._q(self.table_name)}{where}"
        return int(await self.adapter.fetch_value(sql, self.where_params) or 0)

    async def _start_progress(self) -> Progress:
        """``total_rows`` from the catalog's estimate for a large, unfiltered table (an exact
        count of tens of millions of InnoDB rows takes seconds); exact otherwise."""
        estimate_sql = self.dialect.row_estimate_sql
        if self.estimate_above is not None and not self.where and estimate_sql is not None:
            stmt = estimate_sql(self.table_name)
            estimate = await self.adapter.fetch_value(stmt.text, stmt.params)
            if estimate is not None and int(estimate) >= self.estimate_above:
                return Progress(total_rows=int(estimate), total_is_estimate=True)
        return Progress(total_rows=await self._count())

    async def execute(self, resume: bool = False) -> Progress:
        """Run to the end (or, with ``resume``, from the last committed checkpoint)."""
        self._check_nesting()
        self._throttle = self._open_throttle()
        try:
            if self._throttle is not None:
                await self._throttle.check()
            return await self._run(resume)
        finally:
            throttle, self._throttle = self._throttle, None
            if throttle is not None:
                await throttle.close()

    async def _run(self, resume: bool) -> Progress:
        keys = await self._keys()
        checkpoints = Checkpoints(self.adapter, self.dialect, self.plugins)
        progress = self.progress = await self._start_progress()
        after: tuple[Any, ...] | None = None
        if self.checkpoint_enabled:
            await checkpoints.ensure()
            saved = await checkpoints.load(self.name) if resume else None
            if saved is not None:
                if saved["completed"]:
                    progress.processed_rows = progress.resumed_from = int(saved["processed"])
                    progress.failed_rows = int(saved["failed"])
                    return progress
                after = decode_key(saved["last_key"]) if saved["last_key"] else None
                progress.processed_rows = progress.resumed_from = int(saved["processed"])
                progress.failed_rows = int(saved["failed"])
            elif not resume:
                await checkpoints.clear(self.name)
        walk = Walk(self, keys, checkpoints, progress)
        await walk.open()
        try:
            after = await walk.run(after)
        finally:
            await walk.close()
        if self.checkpoint_enabled:
            async with self.adapter.transaction():
                await checkpoints.save(
                    self.name, self.table_name, after, progress.processed_rows,
                    progress.failed_rows, completed=True,
                )  # fmt: skip
        log.info(
            "data.completed", data_migration=self.name, table=self.table_name,
            processed=progress.processed_rows, failed=progress.failed_rows,
        )  # fmt: skip
        if progress.total_is_estimate:  # the walk counted every row: the total is now known
            progress.total_rows, progress.total_is_estimate = progress.processed_rows, False
        return progress

    def _check_nesting(self) -> None:
        """Inside a caller's transaction each batch is a savepoint, which is what lets one
        failed batch be undone alone for a retry or a skip. Without savepoints the failure
        would undo the caller's whole transaction, earlier batches included, while the
        retry went on as if they were kept."""
        if (
            (self.retries or self.on_failure == "skip")
            and not self.dialect.capabilities.savepoints
            and getattr(self.adapter, "in_transaction", False)
        ):
            raise DataMigrationError(
                f"{self.name}: dialect {self.dialect.name} has no savepoints, so a failed batch "
                f"inside your open transaction cannot be undone alone for retries= or "
                f'on_failure="skip"; run it outside the transaction, or with retries=0 and '
                f'on_failure="stop"'
            )

    def _open_throttle(self, adapter: Any = None) -> ReplicaThrottle | None:
        if self.max_replica_lag is None:
            return None
        if self.dialect.replica_lag is None:
            raise DataMigrationError(
                f"max_replica_lag is set, but dialect {self.dialect.name} cannot read its "
                f"replicas' positions; unset it (or use pause= to slow down)"
            )
        source = self.dialect.replica_lag(adapter or self.adapter, tuple(self.replicas))
        return ReplicaThrottle(source, self.max_replica_lag)

    async def _call_back(self, progress: Progress) -> None:
        if self.progress_callback is not None:
            outcome = self.progress_callback(progress)
            if asyncio.iscoroutine(outcome):
                await outcome

    async def _report(self, progress: Progress) -> None:
        if progress.total_is_estimate and progress.processed_rows > progress.total_rows:
            progress.total_rows = progress.processed_rows  # never report more than 100%
        await self._call_back(progress)
        if self.pause:
            await asyncio.sleep(self.pause)
        if self._throttle is not None:
            await self._throttle.mark()
            await self._throttle.wait(progress, partial(self._call_back, progress))


class BulkDataMigration(DataMigration):
    """The same contract, written back with the dialect's fastest path: one statement per
    batch where the dialect has one (PostgreSQL ``UPDATE ... FROM unnest``, MySQL ``UPDATE ...
    JOIN``), ``executemany`` in the batch's transaction otherwise."""

    _bulk_write = True
