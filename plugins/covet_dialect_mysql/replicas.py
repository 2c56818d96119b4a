"""Replica positions for data migrations' ``max_replica_lag`` on MySQL / MariaDB.

A MySQL primary does not know how far its replicas are (``SHOW REPLICAS`` lists them, not their
positions), so covet connects to the replicas listed in ``replicas = [...]`` and asks each:

- a replica of this very server (its ``Master_Server_Id`` is our ``@@server_id``) reports the
  primary's binlog file and position it has executed, comparable with ``SHOW MASTER STATUS``
  here: the throttle's marks measure the lag, and a stopped SQL thread shows as a position
  that stays put while the marks age;
- a replica of another server (chained replication) can only report its own
  ``Seconds_Behind_Master``; NULL there means replication is stopped, and the migration waits,
  as pt-online-schema-change does.

On a Galera node, ``wsrep_last_committed`` is one sequence for the whole cluster: each node's
is how far it has applied the cluster's writes, and a node with a receive queue (the cause of
flow control, which would stall every writer) is behind in it. Without ``replicas``, covet
watches every node in ``wsrep_incoming_addresses`` with the migration's own credentials.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from covet_core.data import DataMigrationError
from covet_core.data.throttle import ReplicaState, close_replicas, open_replicas, replica_name
from covet_core.errors import DatabaseError
from covet_dialect_mysql.galera import on_galera

_PRIMARY_STATUS = ("SHOW BINLOG STATUS", "SHOW BINARY LOG STATUS", "SHOW MASTER STATUS")
"""The primary's binlog position: MariaDB 10.5.2+, MySQL 8.2+, then the old spelling (gone
from MySQL 8.4)."""
_REPLICA_STATUS = (
    "SHOW ALL REPLICAS STATUS",  # MariaDB 10.5.1+: every source connection, multi-source too
    "SHOW ALL SLAVES STATUS",  # MariaDB before 10.5
    "SHOW REPLICA STATUS",  # MySQL 8.0.22+: one row per channel
    "SHOW SLAVE STATUS",
)
_SYNTAX = 1064
_GRANT = (
    "GRANT REPLICATION CLIENT (MariaDB 10.5+: BINLOG MONITOR on the primary, SLAVE MONITOR on "
    "replicas) to the migration user, or unset max_replica_lag"
)


def binlog_position(file: str, offset: int) -> int:
    """``('mysql-bin.000012', 4711)`` as one number ordered like the binlog itself."""
    _, _, index = str(file).rpartition(".")
    if not index.isdigit():
        raise DataMigrationError(f"cannot read the binlog file name {file!r} as a position")
    return (int(index) << 40) | int(offset)


def _col(row: dict[str, Any], master: str) -> Any:
    """A column under MariaDB's / old MySQL's name or MySQL 8's ``Source`` spelling."""
    if master in row:
        return row[master]
    return row.get(master.replace("Master", "Source"))


async def _first(adapter: Any, statements: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
    """The rows of the first statement this server knows; a refusal names the grant."""
    last: DatabaseError | None = None
    for sql in statements:
        try:
            return sql, await adapter.fetch_all(sql)
        except DatabaseError as exc:
            if f"error {_SYNTAX})" not in str(exc):
                raise DataMigrationError(
                    f"cannot read replication status on {replica_name(adapter)} ({exc}); {_GRANT}"
                ) from None
            last = exc
    raise DataMigrationError(
        f"{replica_name(adapter)} answers none of {', '.join(statements)}: {last}"
    )


async def _status(adapter: Any, name: str) -> str | None:
    row = await adapter.fetch_one("SHOW GLOBAL STATUS LIKE %s", (name,))
    return None if row is None else str(row.get("Value", list(row.values())[-1]))


class MySQLReplicaLag:
    """``Dialect.replica_lag`` for MySQL and MariaDB (replication or Galera)."""

    def __init__(
        self, adapter: Any, replicas: Sequence[str], open_url: Callable[[str], Any]
    ) -> None:
        self.adapter, self.urls, self._open_url = adapter, list(replicas), open_url
        self._watched: list[Any] | None = None
        self._galera = False
        self._cluster: str | None = None
        self._server_id: int | None = None
        self._statement: dict[int, str] = {}

    # -- set-up ----------------------------------------------------------------------------

    async def _start(self) -> list[Any]:
        if self._watched is not None:
            return self._watched
        # The same test the lock uses, so the two never disagree about a server.
        self._galera = await on_galera(self.adapter)
        self._server_id = int(await self.adapter.fetch_value("SELECT @@server_id"))
        if self._galera:
            self._cluster = await _status(self.adapter, "wsrep_cluster_state_uuid")
        if self.urls:
            self._watched = await open_replicas(self.urls, self._open_url)
        elif self._galera:
            nodes = await self._cluster_nodes()
            self._watched = await open_replicas(nodes, lambda node: node)
        else:
            raise DataMigrationError(
                "max_replica_lag on MySQL / MariaDB needs the replicas to watch: list their "
                'URLs in covet.toml (replicas = ["mysql://user@replica:3306/db"]) or pass '
                "replicas= to the data migration"
            )
        return self._watched

    async def _cluster_nodes(self) -> list[Any]:
        addresses = await _status(self.adapter, "wsrep_incoming_addresses") or ""
        sibling = getattr(self.adapter, "_sibling", lambda _name: None)
        nodes = []
        for address in filter(None, (a.strip() for a in addresses.split(","))):
            host, _, port = address.rpartition(":")
            node = sibling(None)
            if node is None or not port.isdigit() or host in ("", "AUTO"):
                raise DataMigrationError(
                    f"cannot tell how to reach the Galera nodes (wsrep_incoming_addresses is "
                    f"{addresses!r}); list them in covet.toml: replicas = [...]"
                )
            node.host, node.port = host.strip("[]"), int(port)
            nodes.append(node)
        return nodes

    # -- ReplicaLag ------------------------------------------------------------------------

    async def position(self) -> int:
        await self._start()
        if self._galera:
            return int(await _status(self.adapter, "wsrep_last_committed") or 0)
        _, rows = await _first(self.adapter, _PRIMARY_STATUS)
        if not rows:  # binlog off: nothing replicates from here, so no position is compared
            return 0
        return binlog_position(rows[0]["File"], rows[0]["Position"])

    async def replicas(self) -> list[tuple[str, int] | ReplicaState]:
        states: list[tuple[str, int] | ReplicaState] = []
        for replica in await self._start():
            try:
                states.append(await self._read(replica))
            except DatabaseError as exc:
                raise DataMigrationError(
                    f"cannot read replica {replica_name(replica)}: {exc}"
                ) from None
        return states

    async def _read(self, replica: Any) -> tuple[str, int] | ReplicaState:
        name = replica_name(replica)
        if self._galera and await _status(replica, "wsrep_cluster_state_uuid") == self._cluster:
            if await _status(replica, "wsrep_ready") != "ON":
                return ReplicaState(name, behind=math.inf)  # not applying: wait for it
            return name, int(await _status(replica, "wsrep_last_committed") or 0)
        known = self._statement.get(id(replica))
        sql, rows = await _first(replica, (known,) if known else _REPLICA_STATUS)
        self._statement[id(replica)] = sql
        if not rows:
            raise DataMigrationError(
                f"{name} is not a replica (no replication is configured there); remove it from "
                f"replicas"
            )
        # On Galera our position is the cluster's seqno, which no binlog position compares with.
        ours = [r for r in rows if str(_col(r, "Master_Server_Id")) == str(self._server_id)]
        if ours and not self._galera:
            row = ours[0]
            file = _col(row, "Relay_Master_Log_File")
            return name, binlog_position(file, int(_col(row, "Exec_Master_Log_Pos")))
        behind = [_col(r, "Seconds_Behind_Master") for r in rows]
        worst = math.inf if None in behind else float(max(int(s) for s in behind))
        return ReplicaState(name, behind=worst)

    async def close(self) -> None:
        watched, self._watched = self._watched or [], None
        await close_replicas(watched)
