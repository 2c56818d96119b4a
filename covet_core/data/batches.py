"""A data migration's batches: fetch a page, transform it, find what changed, write it back
with the checkpoint in one transaction, and retry, skip or stop when that fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from covet_core.data.changes import Changes, DataMigrationError, bounds, detect, gc_paused
from covet_core.errors import LockLostError
from covet_core.log import get_logger

if TYPE_CHECKING:
    from covet_core.dialect import Dialect

log = get_logger()

Row = dict[str, Any]
Batch = tuple[tuple[str, ...], list[Row], Sequence[Sequence[Any]]]


class BatchMethods:
    """Mixed into ``DataMigration``, which provides these attributes."""

    dialect: Dialect
    table_name: str
    name: str
    retries: int
    on_failure: str
    resume_hint: str
    commit_guard: Callable[[Any], Awaitable[None]] | None
    _q: Callable[[str], str]

    if TYPE_CHECKING:  # provided by DataMigration

        async def transform_batch(self, rows: list[Row], adapter: Any) -> list[Row] | None: ...

        def _page(
            self, keys: list[str], after: tuple[Any, ...] | None,
            upto: tuple[Any, ...] | None = None, *, limit: bool = True,
        ) -> tuple[str, tuple[Any, ...]]: ...  # fmt: skip

    async def _fetch(self, adapter: Any, writer: Any, sql: str, params: Sequence[Any]) -> Batch:
        """One page: column names, the rows as dicts (for the transform), and each row's values
        as read (what changes are detected against). A dialect's writer may fetch it faster."""
        fetch = getattr(writer, "fetch", None)
        if fetch is not None:
            return cast(Batch, await fetch(sql, params))
        rows = await adapter.fetch_all(sql, params)
        with gc_paused():
            before = list(map(tuple, map(dict.values, rows)))
        return (tuple(rows[0]) if rows else ()), rows, before

    async def _prepare(self, adapter: Any, batch: Batch, keys: list[str]) -> Changes:
        """Transform a batch and find what changed."""
        names, rows, before = batch
        if not rows:  # a retried range whose rows were all deleted meanwhile
            return {}
        new_rows = await self.transform_batch(rows, adapter) or rows
        with gc_paused():
            return detect(names, before, new_rows, keys)

    async def _commit(
        self, adapter: Any, steps: list[Callable[[], Awaitable[Any]]],
        record: Callable[[int], Awaitable[None]], sending: asyncio.Event | None = None,
    ) -> None:  # fmt: skip
        """Run a batch's planned writes and its checkpoint in one transaction. ``sending`` is
        set as the last write starts (``overlap``: the caller waits for it before running the
        next transform, which holds the event loop)."""
        async with adapter.transaction():
            for i, step in enumerate(steps, 1):
                if sending is not None and i == len(steps):
                    sending.set()
                await step()
            if sending is not None:
                sending.set()
            if self.commit_guard is not None:
                await self.commit_guard(adapter)
            await record(0)

    async def _reread(
        self, adapter: Any, writer: Any, keys: list[str], after: tuple[Any, ...] | None,
        last: tuple[Any, ...],
    ) -> Batch:  # fmt: skip
        """A batch's rows read again for a retry: exactly ``(after, last]``, no limit."""
        sql, params = self._page(keys, after, last, limit=False)
        return await self._fetch(adapter, writer, sql, params)

    async def _commit_or_recover(
        self, adapter: Any, writer: Any, keys: list[str], batch: Batch,
        steps: list[Callable[[], Awaitable[Any]]], refetch: Callable[[], Awaitable[Batch]],
        record: Callable[[int], Awaitable[None]],
    ) -> int:  # fmt: skip
        """Commit a transformed batch, or retry/skip/stop it if that fails; the rows failed."""
        try:
            await self._commit(adapter, steps, record)
        except Exception as exc:
            return await self._recover(adapter, writer, keys, batch, refetch, record, exc)
        return 0

    async def _run_batch(
        self, adapter: Any, batch: Batch, keys: list[str], writer: Any,
        refetch: Callable[[], Awaitable[Batch]], record: Callable[[int], Awaitable[None]],
        ahead: Callable[[], None] | None = None,
    ) -> int:  # fmt: skip
        """Transform and write one batch, with ``record(failed_rows)`` in the same transaction
        (the checkpoint); retry or skip per the options. Returns how many rows failed.
        ``ahead()`` starts reading the next page; it is called once the transform is done.
        ``refetch()`` reads the batch's rows again for a retry."""
        try:
            changed = await self._prepare(adapter, batch, keys)
            if ahead is not None:
                ahead()
            steps = self._plan_write(adapter, writer, keys, changed, batch)
        except Exception as exc:  # a user's transform may raise anything
            return await self._recover(adapter, writer, keys, batch, refetch, record, exc)
        return await self._commit_or_recover(adapter, writer, keys, batch, steps, refetch, record)

    def _not_the_batch(self, error: Exception) -> bool:
        """Errors that say this process may not commit the batch at all (the migration lock
        was taken away): neither retried nor skipped."""
        return isinstance(error, LockLostError)

    async def _recover(
        self, adapter: Any, writer: Any, keys: list[str], batch: Batch,
        refetch: Callable[[], Awaitable[Batch]], record: Callable[[int], Awaitable[None]],
        error: Exception,
    ) -> int:  # fmt: skip
        """A batch failed once with ``error``: retry it (fresh rows: the batch rolled back, and
        the transform may have changed them), then skip or stop. Returns the rows failed."""
        if self._not_the_batch(error):
            raise error  # retrying or skipping would commit more than it may
        attempt = 1
        while attempt <= self.retries:
            try:
                batch = await refetch()
                changed = await self._prepare(adapter, batch, keys)
                steps = self._plan_write(adapter, writer, keys, changed, batch)
                await self._commit(adapter, steps, record)
                return 0
            except Exception as exc:
                if self._not_the_batch(exc):
                    raise
                attempt, error = attempt + 1, exc
        names, rows, before = batch
        first = tuple(before[0][names.index(k)] for k in keys) if before else ()
        if self.on_failure == "skip":
            log.warning(
                "data.batch_skipped", rows=len(rows), first_key=repr(first), error=str(error)
            )
            async with adapter.transaction():
                await record(len(rows))
            return len(rows)
        raise DataMigrationError(
            f"{self.name}: the batch starting at key {first!r} failed after "
            f"{attempt} attempt(s): {type(error).__name__}: {error}; earlier batches are "
            f"committed; fix it and run {self.resume_hint} to continue from there"
        ) from error

    # -- writing ------------------------------------------------------------------------------

    _bulk_write = False
    """Write with the dialect's one-statement-per-batch path (``BulkDataMigration``)."""
    _prefetch = True
    """Read the next page beside the current write where the dialect can (``prefetch``)."""
    _overlap = True
    """With the read-ahead, transform the next batch while the previous one is being written,
    unless the transform uses the adapter (``overlap``)."""

    def _writer_for(self, adapter: Any) -> Any:
        factory = self.dialect.bulk_writer
        return factory(adapter, self.table_name) if factory is not None else None

    async def _open_writer(self, adapter: Any) -> Any:
        """The dialect's writer for ``adapter``, ready to encode (``prepare`` reads what it
        needs, such as column types, while the connection is free)."""
        writer = self._writer_for(adapter)
        prepare = getattr(writer, "prepare", None)
        if prepare is not None:
            await prepare()
        return writer

    def _plan_write(
        self, adapter: Any, writer: Any, keys: list[str], changed: Changes, batch: Batch
    ) -> list[Callable[[], Awaitable[Any]]]:
        """A batch's writes, encoded now and run later in its transaction: encoding (JSON,
        parameter tuples) is client work, done while the previous batch is still writing."""
        names, _, before = batch
        span = bounds(names, before, keys) if changed else None
        steps: list[Callable[[], Awaitable[Any]]] = []
        n = len(keys)
        for columns, arrays in changed.items():
            if self._bulk_write and writer is not None:
                encode = getattr(writer, "statements", None)
                if encode is None:  # a writer that only knows how to run its write
                    steps.append(partial(writer.update, keys, columns, arrays, span))
                    continue
                statements = encode(keys, columns, arrays, span)
                if statements is not None:  # None: the writer leaves these rows to us
                    for sql, params, many in statements:
                        run = adapter.executemany if many else adapter.execute
                        steps.append(partial(run, sql, params))
                    continue
            p = self.dialect.placeholder
            sets = ", ".join(f"{self._q(c)} = {p(i)}" for i, c in enumerate(columns, 1))
            match = " AND ".join(
                f"{self._q(k)} = {p(len(columns) + i)}" for i, k in enumerate(keys, 1)
            )
            steps.append(partial(
                adapter.executemany,
                f"UPDATE {self._q(self.table_name)} SET {sets} WHERE {match}",
                list(zip(*arrays[n:], *arrays[:n], strict=True)),
            ))  # fmt: skip
        return steps
