"""Replica-lag throttling for data migrations (what gh-ost and pt-online-schema-change do).

A data migration can write WAL / binlog faster than replicas apply it. With
``max_replica_lag`` set, the migration notes the primary's write position after each batch
commits, and before the next batch it waits while any replica has not yet applied a position
noted more than ``max_replica_lag`` seconds ago. Measuring lag against our own marks (rather
than a lag figure the server reports) keeps it right when a replica stops applying
altogether: its position stays put, our marks age, and the migration waits. A replica whose
position cannot be compared with the primary's (it replicates from another server) reports
the lag it sees itself instead (``ReplicaState.behind``, MySQL's ``Seconds_Behind_Master``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from covet_core.data.changes import DataMigrationError
from covet_core.errors import CovetError
from covet_core.log import get_logger

log = get_logger()


@dataclass(frozen=True)
class ReplicaState:
    """One replica as a ``ReplicaLag`` source sees it: the primary's position it has applied,
    or, where positions are not comparable, the seconds it says it is behind."""

    name: str
    applied: int | None = None
    behind: float | None = None

    def __post_init__(self) -> None:
        if (self.applied is None) == (self.behind is None):
            raise ValueError("a ReplicaState has either applied or behind, not both or neither")


class ReplicaLag(Protocol):
    """What a dialect offers (``Dialect.replica_lag(adapter)``) to throttle on its replicas."""

    async def position(self) -> int:
        """The primary's current write position (a WAL LSN, a binlog offset), comparable."""
        ...

    async def replicas(self) -> list[tuple[str, int] | ReplicaState]:
        """Each replica's name and the position it has applied (or a ``ReplicaState``).
        Raises ``DataMigrationError`` when a replica cannot be read: throttling must never
        pass silently. A replica that has stopped applying is ``behind=math.inf``."""
        ...


def _state(replica: tuple[str, int] | ReplicaState) -> ReplicaState:
    if isinstance(replica, ReplicaState):
        return replica
    name, applied = replica
    return ReplicaState(name, applied=applied)


def replica_name(adapter: Any) -> str:
    """``host:port`` of a replica's adapter: what messages call it (never its URL, which may
    hold a password)."""
    return f"{getattr(adapter, 'host', '?')}:{getattr(adapter, 'port', '?')}"


async def open_replicas(urls: Sequence[str], open_url: Callable[[str], Any]) -> list[Any]:
    """Connected adapters to the replicas at ``urls``; one that cannot be reached is a
    ``DataMigrationError`` naming it, with those already opened closed again."""
    opened: list[Any] = []
    try:
        for url in urls:
            replica = open_url(url)
            opened.append(replica)
            try:
                await replica.connect()
            except CovetError as exc:
                raise DataMigrationError(
                    f"cannot watch replica {replica_name(replica)}: {exc}"
                ) from None
    except BaseException:
        await close_replicas(opened)
        raise
    return opened


async def close_replicas(adapters: Sequence[Any]) -> None:
    for adapter in adapters:
        with contextlib.suppress(CovetError):  # one that went away while watched: closed
            await adapter.disconnect()


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

    async def check(self) -> None:
        """Before the first batch: every replica can be read (a typo or a missing grant stops
        the migration before it writes anything, not after its first batch)."""
        async with self._reading:
            await self.source.replicas()

    async def close(self) -> None:
        """Disconnect what the source opened to watch replicas (if it opened anything)."""
        close = getattr(self.source, "close", None)
        if close is not None:
            await close()

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
                replicas = [_state(r) for r in await self.source.replicas()]
            now = time.monotonic()
            lags = {
                r.name: self._behind(r.applied, now) if r.applied is not None else r.behind
                for r in replicas
            }
            worst = max((lag for lag in lags.values() if lag is not None), default=0.0)
            positions = [r.applied for r in replicas if r.applied is not None]
            if positions:
                oldest = min(positions)
                while self._marks and self._marks[0][1] <= oldest:  # applied everywhere
                    self._marks.popleft()
            if worst <= self.max_lag:
                return
            if not logged:
                slowest = max(lags, key=lambda name: lags[name] or 0.0)
                log.info("data.throttled", replica=slowest, behind=round(worst, 1),
                         max_replica_lag=self.max_lag)  # fmt: skip
                logged = True
            progress.replica_lag = worst
            await asyncio.sleep(self.poll)
            progress.throttled_seconds += time.monotonic() - now
            await report()
