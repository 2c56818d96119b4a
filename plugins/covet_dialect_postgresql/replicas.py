"""Replica positions for data migrations' ``max_replica_lag``, read on the primary.

``pg_stat_replication`` lists every standby streaming from this server with the WAL position
it has replayed. A role without ``pg_read_all_stats`` (``pg_monitor``) sees those columns as
NULL; throttling blind would pass silently, so that is an error naming the grant.

Standbys that stream from another standby (cascading) are not in the primary's view: list them
in ``replicas = [...]`` and covet asks each for ``pg_last_wal_replay_lsn()``, which counts in the
same WAL as the primary's position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from covet_core.data import DataMigrationError
from covet_core.data.throttle import close_replicas, open_replicas, replica_name
from covet_core.errors import CovetError

_REPLICAS = """
SELECT coalesce(nullif(application_name, ''), client_addr::text, 'local') AS name,
       replay_lsn::text AS replayed
FROM pg_stat_replication
"""


def lsn(text: str) -> int:
    """``'16/B374D848'`` as one comparable number."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class PgReplicaLag:
    def __init__(
        self,
        adapter: Any,
        replicas: Sequence[str] = (),
        open_url: Callable[[str], Any] | None = None,
    ) -> None:
        self.adapter, self.urls, self._open_url = adapter, list(replicas), open_url
        self._listed: list[Any] | None = None

    async def _standbys(self) -> list[Any]:
        if self._listed is None:
            assert self._open_url is not None or not self.urls
            opened = await open_replicas(self.urls, self._open_url)  # type: ignore[arg-type]
            try:
                for standby in opened:
                    if not await standby.fetch_value("SELECT pg_is_in_recovery()"):
                        raise DataMigrationError(
                            f"{replica_name(standby)} is not a standby (pg_is_in_recovery() "
                            f"is false); remove it from replicas"
                        )
            except BaseException:
                await close_replicas(opened)
                raise
            self._listed = opened
        return self._listed

    async def close(self) -> None:
        listed, self._listed = self._listed or [], None
        await close_replicas(listed)

    async def position(self) -> int:
        return lsn(str(await self.adapter.fetch_value("SELECT pg_current_wal_lsn()::text")))

    async def replicas(self) -> list[tuple[str, int]]:
        rows = await self.adapter.fetch_all(_REPLICAS)
        unreadable = [r["name"] for r in rows if r["replayed"] is None]
        if unreadable:
            raise DataMigrationError(
                f"cannot read how far replica(s) {', '.join(unreadable)} have replayed "
                f"(pg_stat_replication shows NULL to this role, or the replica is starting); "
                f"GRANT pg_monitor to the migration role, or unset max_replica_lag"
            )
        states = [(str(r["name"]), lsn(r["replayed"])) for r in rows]
        for standby in await self._standbys():
            try:
                replayed = await standby.fetch_value("SELECT pg_last_wal_replay_lsn()::text")
            except CovetError as exc:
                raise DataMigrationError(
                    f"cannot read replica {replica_name(standby)}: {exc}"
                ) from None
            states.append((replica_name(standby), lsn(str(replayed))))
        return states
