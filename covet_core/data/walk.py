"""One run of a data migration over its table: pages read (ahead where the dialect can), each
batch transformed and written with its checkpoint, in key order, batches overlapped where it is
safe (``overlap``), progress reported after each commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from covet_core.data.overlap import AdapterGuard, InFlight
from covet_core.data.prefetch import Prefetcher
from covet_core.data.progress import Progress
from covet_core.log import get_logger

log = get_logger()

Key = tuple[Any, ...]


class Walk:
    def __init__(
        self, migration: Any, keys: list[str], checkpoints: Any, progress: Progress
    ) -> None:
        self.m, self.keys, self.checkpoints, self.progress = migration, keys, checkpoints, progress
        self.adapter = migration.adapter
        self.writer: Any = None
        self.prefetch: Prefetcher | None = None
        self.guard: AdapterGuard | None = None
        self.inflight: InFlight | None = None
        self.log = log.bind(data_migration=migration.name, table=migration.table_name)

    async def open(self) -> None:
        m = self.m
        self.writer = await m._open_writer(self.adapter)
        if m._prefetch:
            self.prefetch = await Prefetcher.open(m, self.writer)
        if self.prefetch is not None and m._overlap and not m.pause and m._throttle is None:
            self.guard = AdapterGuard(self.adapter)

    async def close(self) -> None:
        if self.inflight is not None:  # an error or a cancellation left a write running
            await self.inflight.cancel()
            self.inflight = None
        if self.prefetch is not None:
            await self.prefetch.close()

    async def run(self, after: Key | None) -> Key | None:
        """Every batch after key ``after``; returns the last key walked."""
        m, keys = self.m, self.keys
        while True:
            sql, params = m._page(keys, after)
            batch = await self.prefetch.take(sql, params) if self.prefetch is not None else None
            if batch is None:  # the main connection reads it: the write in flight goes first
                await self._settle()
                batch = await m._fetch(self.adapter, self.writer, sql, params)
            names, rows, before = batch
            if not rows:
                await self._settle()
                return after
            last = tuple(before[-1][names.index(k)] for k in keys)
            refetch = partial(m._reread, self.adapter, self.writer, keys, after, last)
            ahead = None
            if self.prefetch is not None:
                ahead = partial(self.prefetch.start, *m._page(keys, last))
            if self.guard is None or self.guard._covet_touched:
                await self._settle()
                await self._in_turn(batch, refetch, last, ahead)
            else:
                await self._overlapped(batch, refetch, last, ahead)
            after = last

    # -- one batch ------------------------------------------------------------------------------

    async def _in_turn(
        self, batch: Any, refetch: Callable[[], Awaitable[Any]], last: Key,
        ahead: Callable[[], None] | None,
    ) -> None:  # fmt: skip
        done, record = self._record(len(batch[1]), last)
        lost = await self.m._run_batch(
            self.adapter, batch, self.keys, self.writer, refetch, record, ahead
        )
        await self._done(done, lost)

    async def _overlapped(
        self, batch: Any, refetch: Callable[[], Awaitable[Any]], last: Key,
        ahead: Callable[[], None] | None,
    ) -> None:  # fmt: skip
        """Transform this batch while the previous one (if any) is written; then, once that one
        committed, start this one's write and return without waiting for it."""
        m, guard = self.m, self.guard
        assert guard is not None and ahead is not None
        busy = guard._covet_busy = self.inflight is not None
        m.adapter = guard  # a transform may reach the database as self.adapter too
        error: Exception | None = None
        try:
            changed = await m._prepare(guard, batch, self.keys)
        except Exception as exc:  # the user's transform, or AdapterBusy
            error = exc
        finally:
            m.adapter, guard._covet_busy = self.adapter, False
        if error is None:
            if not guard._covet_touched:
                ahead()
            try:  # encoded now, while the previous batch is still being written
                steps = m._plan_write(self.adapter, self.writer, self.keys, changed, batch)
            except Exception as exc:  # e.g. a value the writer cannot encode
                error = exc
        clean = await self._settle()
        if not clean or (busy and guard._covet_touched):
            # Thrown away: the previous write failed (so this batch is read again after its
            # retry), or the transform needed the adapter while it was busy. In turn, fresh.
            assert self.prefetch is not None
            self.prefetch.discard()
            await self._in_turn(await refetch(), refetch, last, ahead)
            return
        done, record = self._record(len(batch[1]), last)
        if error is not None:  # the transform's own failure: retry, skip or stop, as in turn
            lost = await m._recover(
                self.adapter, self.writer, self.keys, batch, refetch, record, error
            )
            await self._done(done, lost)
            return
        if guard._covet_touched:
            # It used the adapter with nothing in flight: its work stands, and from now on
            # batches run in turn (``run``), its queries always after the previous commit.
            ahead()
            lost = await m._commit_or_recover(
                self.adapter, self.writer, self.keys, batch, steps, refetch, record
            )
            await self._done(done, lost)
            return
        sending = asyncio.Event()
        commit = m._commit(self.adapter, steps, record, sending)
        self.inflight = InFlight(asyncio.ensure_future(commit), batch, done, refetch, record)
        # Let the write reach the server before returning: the next transform is the caller's
        # code, which holds the event loop until it returns, so a write still waiting for its
        # turn would start only after it (measured: no overlap at all without this).
        sent = asyncio.ensure_future(sending.wait())
        await asyncio.wait([self.inflight.task, sent], return_when=asyncio.FIRST_COMPLETED)
        sent.cancel()  # the write may have failed before it got there
        await asyncio.sleep(0)  # the set() came just before the statement was sent: send it

    async def _settle(self) -> bool:
        """Wait for the write in flight and report it; False if it failed (and was retried,
        skipped or stopped the run, as ``on_failure`` says)."""
        inflight = self.inflight
        if inflight is None:
            return True
        await asyncio.wait([inflight.task])
        self.inflight = None
        if inflight.task.cancelled():
            raise asyncio.CancelledError
        error = inflight.task.exception()
        lost = 0
        if error is not None:
            if not isinstance(error, Exception):
                raise error  # KeyboardInterrupt and the like: not a batch failure
            lost = await self.m._recover(
                self.adapter, self.writer, self.keys, inflight.batch, inflight.refetch,
                inflight.record, error,
            )  # fmt: skip
        await self._done(inflight.done, lost)
        return error is None

    # -- bookkeeping ----------------------------------------------------------------------------

    def _record(self, rows: int, last: Key) -> tuple[int, Callable[[int], Awaitable[None]]]:
        """The batch's count once done, and its checkpoint write (given its failed rows)."""
        m, progress = self.m, self.progress
        done, failed_before = progress.processed_rows + rows, progress.failed_rows

        async def record(lost: int) -> None:
            if m.checkpoint_enabled:
                await self.checkpoints.save(m.name, m.table_name, last, done, failed_before + lost)

        return done, record

    async def _done(self, done: int, lost: int) -> None:
        progress = self.progress
        progress.processed_rows = done
        progress.failed_rows += lost
        progress.batches += 1
        self.log.debug("data.batch", processed=done, failed=lost)
        await self.m._report(progress)
