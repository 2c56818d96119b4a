"""Replica-lag throttling for data migrations (what gh-ost and pt-online-schema-change do).

A data migration can write WAL / binlog faster than replicas apply it. With
``max_replica_lag`` set, the migration notes the primary's write position after each batch
commits, and before the next batch it waits while any replica has not yet applied a position
noted more than ``max_replica_lag`` seconds ago. Measuring lag against our own marks (rather
than a lag figure the server reports) keeps it right when a replica stops applying
altogether: its position stays put, our marks age, and the migration waits.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from covet_core.data.changes import DataMigrationError
from covet_core.log import get_logger

log = get_logger()


class ReplicaLag(Protocol):
    """What a dialect offers (``Dialect.replica_lag(adapter)``) to throttle on its replicas."""

    async def position(self) -> int:
        """The primary's current write position (a WAL LSN, a binlog offset), comparable."""
        ...

    async def replicas(self) -> list[tuple[str, int]]:
        """Each replica's name and the position it has applied. Raises ``DataMigrationError``
        when a replica's position cannot be read: throttling must never pass silently."""
        ...


def check_max_lag(value: float | None) -> float | None:
    if value is not None and not (0 <= value < math.inf):
        raise DataMigrationError(
            f"max_replica_lag must be a finite number of seconds >= 0, not {value!r}"
        )
    return value


class ReplicaThrottle:
    def __init__(self, source: ReplicaLag, max_lag: float) -> None:
        self.source = source
        self.max_lag = max_lag
        self._marks: deque[tuple[float, int]] = deque()
        self.poll = min(max(max_lag / 4, 0.05), 1.0)
        # Parallel workers share one throttle and its one connection.
        self._reading = asyncio.Lock()

    async def mark(self) -> None:
        """After a batch committed: where the primary's writes stand now."""
        async with self._reading:
            position = await self.source.position()
        self._marks.append((time.monotonic(), position))

    def _behind(self, applied: int, now: float) -> float:
        """Seconds since the oldest mark this replica has not applied yet (0: caught up)."""
        for at, position in self._marks:
            if position > applied:
                return now - at
        return 0.0

    async def wait(self, progress: Any, report: Callable[[], Awaitable[None]]) -> None:
        """Return once every replica is within ``max_lag``; count the time spent waiting."""
        logged = False
        while True:
            async with self._reading:
                replicas = await self.source.replicas()
            now = time.monotonic()
            lags = {name: self._behind(applied, now) for name, applied in replicas}
            worst = max(lags.values(), default=0.0)
            if replicas:
                oldest = min(applied for _, applied in replicas)
                while self._marks and self._marks[0][1] <= oldest:  # applied everywhere
                    self._marks.popleft()
            if worst <= self.max_lag:
                return
            if not logged:
                slowest = max(lags, key=lambda name: lags[name])
                log.info("data.throttled", replica=slowest, behind=round(worst, 1),
                         max_replica_lag=self.max_lag)  # fmt: skip
                logged = True
            progress.replica_lag = worst
            await asyncio.sleep(self.poll)
            progress.throttled_seconds += time.monotonic() - now
            await report()
