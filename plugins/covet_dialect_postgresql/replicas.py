"""Replica positions for data migrations' ``max_replica_lag``, read on the primary.

``pg_stat_replication`` lists every standby streaming from this server with the WAL position
it has replayed. A role without ``pg_read_all_stats`` (``pg_monitor``) sees those columns as
NULL; throttling blind would pass silently, so that is an error naming the grant.
"""

from __future__ import annotations

from typing import Any

from covet_core.data import DataMigrationError

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
    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

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
        return [(r["name"], lsn(r["replayed"])) for r in rows]
