"""Transforming the next batch while the previous one is still being written.

A batch is two kinds of work that wait on each other: the client's (decoding the page, the
transform, finding what changed, encoding the write) and the server's (the UPDATE, the
checkpoint, the commit). Done in turn, the server idles while the client works and the other
way round. With the next page read on a second connection (``prefetch``), they overlap: batch
N+1 is transformed while batch N is being written, so the client's work hides behind the
server's (measured on PostgreSQL: covet's per-row Python time, twice the raw driver's, no
longer shows in the wall time).

What stays exactly as it was:

- Writes go strictly in order on the main connection, each with its checkpoint in one
  transaction, and batch N+1's write starts only after batch N committed. A crash loses the
  batches not committed, and ``execute(resume=True)`` redoes them: every row once.
- A transform that uses the database sees what it saw before. It is handed an ``AdapterGuard``
  (as its ``adapter`` argument and as ``self.adapter``): touching it while a write is in flight
  raises ``AdapterBusy``, that batch's work is thrown away and redone once the write committed,
  and from then on batches run in turn. A transform that touches it with no write in flight
  (the first batch) is served normally and also switches overlapping off: a migration whose
  transform reads or writes through the adapter always runs it after the previous commit.
- A write that fails is retried, skipped or stops the run as ``on_failure`` says; the batch
  transformed meanwhile is thrown away and read again.
- ``pause`` (throttling) runs batches in turn: the pause is meant to leave the database idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from covet_core.data.changes import DataMigrationError


class AdapterBusy(DataMigrationError):
    """The transform touched the adapter while the previous batch was still being written."""


class AdapterGuard:
    """Stands in for the adapter while a batch may be transformed during the previous write.

    Every attribute goes through ``__getattr__`` (the guard has only private slots), which
    notes that the transform uses the database and refuses while a write is in flight.
    """

    __slots__ = ("_covet_adapter", "_covet_busy", "_covet_touched")

    def __init__(self, adapter: Any) -> None:
        self._covet_adapter = adapter
        self._covet_busy = False
        self._covet_touched = False

    def __getattr__(self, name: str) -> Any:
        self._covet_touched = True
        if self._covet_busy:
            raise AdapterBusy(
                "the adapter is writing the previous batch; covet runs this transform again "
                "once that batch is committed"
            )
        return getattr(self._covet_adapter, name)

    def __repr__(self) -> str:
        return f"AdapterGuard({self._covet_adapter!r})"


@dataclass
class InFlight:
    """A batch whose write (with its checkpoint) runs as a task beside the next transform."""

    task: asyncio.Task[None]
    batch: Any = field(repr=False)
    done: int
    """``processed_rows`` once it is committed."""
    refetch: Callable[[], Awaitable[Any]] = field(repr=False)
    record: Callable[[int], Awaitable[None]] = field(repr=False)

    async def cancel(self) -> None:
        """Stop it (the transaction rolls back, or it had committed with its checkpoint)."""
        if not self.task.done():
            self.task.cancel()
        await asyncio.wait([self.task])
        if not self.task.cancelled():
            self.task.exception()  # retrieved: a failure here was superseded by the caller's
