"""Reading the next page on a second connection while the current batch is being written.

A bulk batch is two waits on the server, the page's SELECT and the batch's UPDATE, with the
client's work (decoding rows, the transform, finding changes) in between. The next page's
SELECT does not depend on the current write, so it runs beside it on a sibling connection: the
server reads while it writes (and on MySQL, where the driver decodes rows in Python, the
decoding overlaps the write too).

Why it is safe: the next page is ``key > last key of this batch``, rows the current batch never
touches (its writes are limited to its own keys), so reading them before or after the batch
commits gives the same rows. The prefetch starts only after the transform returned, so anything
the transform itself wrote through the adapter (autocommitted) is visible to it. Checkpoints
are unaffected: each batch's writes still commit with its checkpoint in one transaction on the
main connection. The one difference is timing: a row of the next page is read up to one batch
earlier, so a concurrent change by another session in that window is seen one batch later —
the same race every keyset walk without row locks already has between its read and its write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from covet_core.log import get_logger

log = get_logger()


class Prefetcher:
    connect_within = 2.0
    """Seconds to wait for the second connection before reading pages in turn instead."""

    def __init__(self, migration: Any, reader: Any) -> None:
        self.migration, self.reader = migration, reader
        self.writer = migration._writer_for(reader)
        self._task: asyncio.Task[Any] | None = None
        self._page: tuple[str, tuple[Any, ...]] | None = None

    @classmethod
    async def open(cls, migration: Any, writer: Any) -> Prefetcher | None:
        """A prefetcher on a new connection, or None where the dialect does not read this way
        (no bulk reader) or no second connection can be had (a wrapped connection, a full
        pool): then pages are read in turn, as before."""
        if not getattr(writer, "reads_beside_writes", False):
            return None
        opener = getattr(migration.adapter, "open_sibling", None)
        sibling = await opener() if opener is not None else None
        if sibling is None:
            return None
        try:
            # Bounded: a sibling from a pool that is full waits for a free connection, which may
            # never come while this migration holds the pool's only one.
            await asyncio.wait_for(sibling.connect(), cls.connect_within)
        except Exception as exc:  # a second connection is an optimisation, never a requirement
            log.debug("data.prefetch_unavailable", error=str(exc) or type(exc).__name__)
            return None
        prefetcher = cls(migration, sibling)
        prepare = getattr(prefetcher.writer, "prepare_reader", None)
        if prepare is not None:  # the connection is covet's, for page reads only
            try:
                await prepare()
            except BaseException:
                await sibling.disconnect()
                raise
        return prefetcher

    def start(self, sql: str, params: Sequence[Any]) -> None:
        page = (sql, tuple(params))
        if self._page == page:
            return  # a retried batch: the page being read is still the next one
        self.discard()
        self._page = page
        self._task = asyncio.ensure_future(
            self.migration._fetch(self.reader, self.writer, sql, params)
        )

    async def take(self, sql: str, params: Sequence[Any]) -> Any:
        """The prefetched page if it is this one, else None (read it on the main connection).
        A failed prefetch also yields None: the main connection's read reports any real error."""
        task, page = self._task, self._page
        self._task = self._page = None
        if task is None or page != (sql, tuple(params)):
            if task is not None:
                task.cancel()
            return None
        try:
            return await task
        except Exception as exc:
            log.debug("data.prefetch_failed", error=str(exc))
            return None

    def discard(self) -> None:
        """Forget the page being read (its rows may be out of date)."""
        if self._task is not None:
            self._task.cancel()
        self._task = self._page = None

    async def close(self) -> None:
        task = self._task
        self.discard()
        if task is not None:
            await asyncio.wait([task])  # let a cancelled read finish before its connection goes
        release = getattr(self.writer, "release_reader", None)
        try:
            if release is not None:  # a pooled connection goes back as it came
                await release()
        except Exception as exc:
            log.debug("data.prefetch_release_failed", error=str(exc) or type(exc).__name__)
        finally:
            await self.reader.disconnect()
