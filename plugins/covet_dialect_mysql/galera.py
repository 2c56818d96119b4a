"""``mysql_get_lock`` on a Galera cluster: the table lock, because ``GET_LOCK`` is node-local.

Three processes on three nodes of one cluster each "held" ``GET_LOCK`` at once, and the losers
then stopped with a false "partial, repair by hand" about a migration another node was running
normally. A row in ``_covet_migration_lock`` is cluster-wide: Galera certifies the insert
against every node's commits, and a conflict (error 1213) is retried as contention. Once the
lock is held, the migration session waits for the cluster to catch up before each read
(``wsrep_sync_wait``), so the history it reads includes every commit made before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from covet_core.errors import DatabaseError
from covet_core.locking import LOCK_TABLE, LockHolder, TableLock
from covet_core.log import get_logger
from covet_dialect_mysql.lock import MySQLGetLock

log = get_logger()


async def on_galera(adapter: Any) -> bool:
    """Whether the server is a Galera cluster node (MySQL has no ``wsrep_on``: not one)."""
    try:
        return bool(await adapter.fetch_value("SELECT @@wsrep_on"))
    except DatabaseError:
        return False


class ClusterAwareLock:
    """``GET_LOCK`` on a single server, the table lock on a Galera node."""

    def __init__(
        self, adapter: Any, options: Mapping[str, Any], dialect: Any = None, plugins: Any = None
    ) -> None:
        self.adapter, self.options, self.dialect, self.plugins = adapter, options, dialect, plugins
        self._chosen: Any = None
        self.cluster = False

    async def _lock(self) -> Any:
        if self._chosen is None:
            self.cluster = self.dialect is not None and await on_galera(self.adapter)
            if self.cluster:
                log.info("lock.cluster", lock="table", reason="Galera: GET_LOCK is node-local")
                table = self.options.get("lock_table", LOCK_TABLE)
                self._chosen = TableLock(self.adapter, self.dialect, self.plugins, table=table)
            else:
                self._chosen = MySQLGetLock(self.adapter, self.options, self.dialect, self.plugins)
        return self._chosen

    @property
    def effective(self) -> str | None:
        """The lock actually used, once chosen (``covet -v`` logs it)."""
        if self._chosen is None:
            return None
        return (
            "table (Galera cluster: GET_LOCK is node-local)" if self.cluster else "mysql_get_lock"
        )

    async def acquire(self, timeout: float) -> None:
        lock = await self._lock()
        await lock.acquire(timeout)
        if self.cluster:
            # Reads wait until this node has applied every write certified before them.
            await self.adapter.execute("SET SESSION wsrep_sync_wait = 1")

    async def release(self) -> None:
        if self._chosen is not None:
            await self._chosen.release()

    async def holder(self) -> LockHolder | None:
        holder: LockHolder | None = await (await self._lock()).holder()
        return holder

    async def force_release(self, force: bool = False) -> LockHolder | None:
        holder: LockHolder | None = await (await self._lock()).force_release(force=force)
        return holder

    async def still_held(self, adapter: Any) -> bool:
        return self._chosen is not None and bool(await self._chosen.still_held(adapter))
