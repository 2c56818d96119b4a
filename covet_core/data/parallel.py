"""ParallelDataMigration: chunks of the key range, claimed through the database itself.

The plan (chunk boundaries) lives in ``_covet_data_chunks``; workers claim a pending chunk in a
short transaction (``FOR UPDATE SKIP LOCKED`` where the database has it), so several processes
or machines running the same migration share the work. Inside a chunk a worker goes batch by
batch, and each batch's writes commit with the chunk's progress (last key, rows, heartbeat):
a worker that dies mid-chunk loses nothing, and its chunk is taken over from where it stopped —
at once when its process is provably gone (same host, pid gone), otherwise when its heartbeat
is older than ``takeover_after`` seconds.

Each batch's progress update is a compare-and-set on the chunk's owner and row count: the batch
commits only on top of exactly the progress it started from, or not at all. On a Galera
cluster that is what keeps a chunk's rows transformed once: runs on different nodes see each
other's claims only once their node has applied them, ``SKIP LOCKED`` is node-local, and two
nodes were seen to claim one chunk. Then the second batch built on the same progress either
finds the row changed or fails certification (MySQL error 1213); its worker hands the chunk
back and claims again, from the progress that did commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import Any

from covet_core.data.checkpoints import decode_key, encode_key
from covet_core.data.migration import BulkDataMigration, DataMigrationError
from covet_core.data.progress import Progress
from covet_core.errors import DatabaseError, IntegrityError
from covet_core.locking import RETRY_SQLSTATES, pid_alive
from covet_core.schema import Column, ColumnType, CreateTable, Table

CHUNK_TABLE = "_covet_data_chunks"
CONFLICT_RETRIES = 30
"""Attempts at a claim, or at a chunk, that lost to another worker's (bounded: one that never
wins is an error, not a hang)."""


class ChunkTaken(Exception):
    """The chunk's progress is no longer what this worker built its batch on: another worker
    has it. The batch rolls back and the chunk is claimed again."""


_COLS = (
    "name",
    "chunk_no",
    "lo_key",
    "hi_key",
    "state",
    "worker",
    "heartbeat",
    "last_key",
    "processed",
    "failed",
)


class ParallelDataMigration(BulkDataMigration):
    """``BulkDataMigration`` over ``max_workers`` connections (and any other process running it).

    ``chunk_rows`` rows per chunk (default ten batches). Needs a single-column primary key.
    """

    def __init__(self, *args: Any, max_workers: int = 4, chunk_rows: int | None = None,
                 takeover_after: float = 300.0, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        if max_workers < 1:
            raise DataMigrationError("max_workers must be at least 1")
        self.max_workers = max_workers
        self.chunk_rows = chunk_rows or self.batch_size * 10
        self.takeover_after = takeover_after
        self.worker_id = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._t = self._q(CHUNK_TABLE)
        self._stopping = False  # set when a worker fails: the others stop at their next batch

    # -- the plan ----------------------------------------------------------------------------

    async def _ensure_table(self, adapter: Any) -> None:
        stmt = self.dialect.table_exists_sql(CHUNK_TABLE)
        if await adapter.fetch_one(stmt.text, stmt.params) is not None:
            return
        t = ColumnType
        table = Table(CHUNK_TABLE, (
            Column("name", t("string", 255), nullable=False), Column("chunk_no", t("integer"), nullable=False),
            Column("lo_key", t("text")), Column("hi_key", t("text")),
            Column("state", t("string", 16), nullable=False), Column("worker", t("string", 255)),
            Column("heartbeat", t("timestamptz")), Column("last_key", t("text")),
            Column("processed", t("bigint"), nullable=False), Column("failed", t("bigint"), nullable=False),
        ), primary_key=("name", "chunk_no"))  # fmt: skip
        try:
            for sql in self.plugins.render_operation(
                CreateTable(table, if_not_exists=True), self.dialect
            ):
                await adapter.execute(sql)
        except Exception:
            if await adapter.fetch_one(stmt.text, stmt.params) is None:
                raise  # not the harmless race of two processes creating it at once

    async def forget_progress(self) -> None:
        stmt = self.dialect.table_exists_sql(CHUNK_TABLE)
        if await self.adapter.fetch_one(stmt.text, stmt.params) is not None:
            await self.adapter.execute(
                f"DELETE FROM {self._t} WHERE {self._q('name')} = {self.dialect.placeholder(1)}",
                (self.name,),
            )

    async def _chunks(self, adapter: Any) -> list[dict[str, Any]]:
        cols = ", ".join(map(self._q, _COLS))
        p = self.dialect.placeholder
        return await adapter.fetch_all(
            f"SELECT {cols} FROM {self._t} WHERE {self._q('name')} = {p(1)} ORDER BY {self._q('chunk_no')}",
            (self.name,),
        )

    async def _plan(self, key: str, fresh: bool) -> None:
        chunks = await self._chunks(self.adapter)
        if chunks and (not fresh or any(c["state"] != "done" for c in chunks)):
            return  # join the plan in progress (other processes may be working on it)
        bounds: list[Any] = []
        after: Any = None
        q, p = self._q, self.dialect.placeholder
        while True:  # one key every chunk_rows rows: short index scans, no full read
            # The user's where (and its numbered parameters) first, as in DataMigration._page.
            cond = [f"({self.where})"] if self.where else []
            params = list(self.where_params)
            if after is not None:
                cond.append(f"{q(key)} > {p(len(params) + 1)}")
                params.append(after)
            where = f" WHERE {' AND '.join(cond)}" if cond else ""
            found = await self.adapter.fetch_value(
                f"SELECT {q(key)} FROM {q(self.table_name)}{where} ORDER BY {q(key)} "
                f"LIMIT 1 OFFSET {int(self.chunk_rows) - 1}",
                params,
            )
            if found is None:
                break
            bounds.append(found)
            after = found
        edges = [None, *bounds, None]
        rows = [
            (self.name, i, None if lo is None else encode_key((lo,)), None if hi is None else encode_key((hi,)),
             "pending", None, None, None, 0, 0)
            for i, (lo, hi) in enumerate(pairwise(edges))
        ]  # fmt: skip
        cols = ", ".join(map(q, _COLS))
        marks = ", ".join(self.dialect.params(len(_COLS)))
        try:
            async with self.adapter.transaction():
                if chunks:  # a finished run, started again from scratch
                    await self.adapter.execute(
                        f"DELETE FROM {self._t} WHERE {q('name')} = {p(1)}", (self.name,)
                    )
                # Insert only: a plan another process just made (and may already be working
                # on) is never replaced; this insert then fails on its key and we join it.
                await self.adapter.executemany(
                    f"INSERT INTO {self._t} ({cols}) VALUES ({marks})", rows
                )
        except IntegrityError:
            pass
        except DatabaseError as exc:
            # Another node inserted the same plan at once: certification let its insert win.
            if exc.sqlstate not in RETRY_SQLSTATES:
                raise

    # -- claiming ----------------------------------------------------------------------------

    def _takeable(self, chunk: dict[str, Any]) -> bool:
        if chunk["state"] == "pending":
            return True
        if chunk["state"] != "claimed" or not chunk["worker"]:
            return False
        host, _, rest = str(chunk["worker"]).partition("/")
        pid = int(rest.split("/")[0]) if rest.split("/")[0].isdigit() else -1
        if host == socket.gethostname() and pid > 0 and not pid_alive(pid):
            return True  # its process is gone: take over now
        beat = chunk["heartbeat"]
        if beat is not None and not isinstance(beat, datetime):
            beat = datetime.fromisoformat(str(beat))
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        return beat is None or datetime.now(UTC) - beat > timedelta(seconds=self.takeover_after)

    async def _claim(self, adapter: Any, me: str) -> dict[str, Any] | None:
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await self._claim_once(adapter, me)
            except (DatabaseError, ChunkTaken) as exc:
                if not _conflict(exc) or attempt == CONFLICT_RETRIES - 1:
                    raise
            await _back_off(attempt)
        return None  # not reached: the last attempt raises

    async def _claim_once(self, adapter: Any, me: str) -> dict[str, Any] | None:
        q, p = self._q, self.dialect.placeholder
        skip = " FOR UPDATE SKIP LOCKED" if self.dialect.capabilities.skip_locked else ""
        cols = ", ".join(map(q, _COLS))
        async with adapter.transaction():
            rows = await adapter.fetch_all(
                f"SELECT {cols} FROM {self._t} WHERE {q('name')} = {p(1)} AND {q('state')} <> 'done' "
                f"ORDER BY {q('chunk_no')}{skip}",
                (self.name,),
            )
            chunk = next((c for c in rows if self._takeable(c)), None)
            if chunk is None:
                return None
            # Only as read: a row another worker changed since (a stale read) is not ours.
            changed = await adapter.execute(
                f"UPDATE {self._t} SET {q('state')} = 'claimed', {q('worker')} = {p(1)}, "
                f"{q('heartbeat')} = {p(2)} WHERE {q('name')} = {p(3)} AND {q('chunk_no')} = {p(4)} "
                f"AND {q('state')} = {p(5)} AND {q('processed')} = {p(6)}",
                (me, datetime.now(UTC), self.name, chunk["chunk_no"], chunk["state"],
                 chunk["processed"]),
            )  # fmt: skip
            if changed == 0:
                raise ChunkTaken(chunk["chunk_no"])
        return chunk

    # -- working -------------------------------------------------------------------------------

    async def _work(self, adapter: Any, key: str, progress: Progress) -> None:
        me = f"{self.worker_id}-{id(adapter)}"
        writer = await self._open_writer(adapter)
        q, p = self._q, self.dialect.placeholder
        lost = 0
        while not self._stopping and (chunk := await self._claim(adapter, me)) is not None:
            try:
                finished = await self._work_chunk(adapter, writer, key, chunk, progress, me)
            except Exception as exc:
                await self._unclaim(adapter, chunk, me)
                if _conflict(exc) and lost < CONFLICT_RETRIES:
                    lost += 1  # another worker has it, or had it: claim again
                    await _back_off(lost)
                    continue
                self._stopping = True  # the other workers stop at their next batch
                raise
            if not finished:
                await self._unclaim(adapter, chunk, me)
                return
            lost = 0  # bounded are the conflicts in a row, not over a long run
            await adapter.execute(
                f"UPDATE {self._t} SET {q('state')} = 'done' WHERE {q('name')} = {p(1)} "
                f"AND {q('chunk_no')} = {p(2)} AND {q('worker')} = {p(3)}",
                (self.name, chunk["chunk_no"], me),
            )

    async def _unclaim(self, adapter: Any, chunk: dict[str, Any], me: str) -> None:
        """Hand a chunk back (its committed progress stays): a resume in this same process,
        whose pid is alive, could otherwise not take it over until ``takeover_after``."""
        q, p = self._q, self.dialect.placeholder
        with contextlib.suppress(Exception):  # a broken connection: takeover handles it later
            await adapter.execute(
                f"UPDATE {self._t} SET {q('state')} = 'pending', {q('worker')} = NULL "
                f"WHERE {q('name')} = {p(1)} AND {q('chunk_no')} = {p(2)} AND {q('worker')} = {p(3)}",
                (self.name, chunk["chunk_no"], me),
            )

    def _not_the_batch(self, error: Exception) -> bool:
        return super()._not_the_batch(error) or _conflict(error)

    async def _work_chunk(
        self, adapter: Any, writer: Any, key: str, chunk: dict[str, Any], progress: Progress,
        me: str,
    ) -> bool:  # fmt: skip
        """Batches of one claimed chunk; False if the run is stopping before its end."""
        q, p = self._q, self.dialect.placeholder
        start = chunk["last_key"] or chunk["lo_key"]  # resume inside a taken-over chunk
        after = decode_key(start) if start else None
        hi = decode_key(chunk["hi_key"])[0] if chunk["hi_key"] else None
        processed, failed = int(chunk["processed"]), int(chunk["failed"])
        while not self._stopping:
            sql, params = self._page([key], after, None if hi is None else (hi,))
            batch = await self._fetch(adapter, writer, sql, params)
            names, rows, before = batch
            if not rows:
                return True
            last = (before[-1][names.index(key)],)
            done = processed + len(rows)

            async def record(
                lost: int, last: tuple[Any, ...] = last, done: int = done, failed: int = failed,
                base: int = processed,
            ) -> None:  # fmt: skip
                changed = await adapter.execute(
                    f"UPDATE {self._t} SET {q('last_key')} = {p(1)}, {q('processed')} = {p(2)}, "
                    f"{q('failed')} = {p(3)}, {q('heartbeat')} = {p(4)} "
                    f"WHERE {q('name')} = {p(5)} AND {q('chunk_no')} = {p(6)} "
                    f"AND {q('worker')} = {p(7)} AND {q('processed')} = {p(8)}",
                    (encode_key(last), done, failed + lost, datetime.now(UTC), self.name,
                     chunk["chunk_no"], me, base),
                )  # fmt: skip
                if changed == 0:  # rolls the batch back with it
                    raise ChunkTaken(chunk["chunk_no"])

            refetch = partial(self._reread, adapter, writer, [key], after, last)
            lost = await self._run_batch(adapter, batch, [key], writer, refetch, record)
            processed, failed, after = done, failed + lost, last
            progress.processed_rows += len(rows)
            progress.failed_rows += lost
            progress.batches += 1
            await self._report(progress)
        return False

    async def _open_workers(self) -> list[Any]:
        opener = getattr(self.adapter, "open_sibling", None)
        extra = []
        for _ in range(self.max_workers - 1):
            sibling = await opener() if opener is not None else None
            if sibling is None:
                break  # a wrapped connection: covet cannot open more; work with what there is
            await sibling.connect()
            extra.append(sibling)
        return [self.adapter, *extra]

    async def execute(self, resume: bool = False) -> Progress:
        self._monitor: Any = None
        try:
            await self._open_monitor()
            return await self._execute(resume)
        finally:
            throttle, self._throttle = self._throttle, None
            try:
                if throttle is not None:
                    await throttle.close()
            finally:
                if self._monitor is not None:
                    await self._monitor.disconnect()

    async def _open_monitor(self) -> None:
        """Replica positions are read on a connection of their own: the workers' are busy
        with their batches, and one connection cannot run two statements at once."""
        if self.max_replica_lag is None:
            return
        if self.dialect.replica_lag is None:
            self._open_throttle()  # raises: the dialect cannot watch replicas
        opener = getattr(self.adapter, "open_sibling", None)
        monitor = await opener() if opener is not None else None
        if monitor is None:
            raise DataMigrationError(
                "ParallelDataMigration with max_replica_lag needs a second connection to watch "
                "the replicas, and this adapter cannot open one; use BulkDataMigration"
            )
        await monitor.connect()
        self._monitor = monitor
        self._throttle = self._open_throttle(monitor)
        if self._throttle is not None:
            await self._throttle.check()

    async def _execute(self, resume: bool) -> Progress:
        keys = await self._keys()
        if len(keys) != 1:
            raise DataMigrationError(
                f"ParallelDataMigration needs a single-column primary key; {self.table_name!r} has "
                f"{len(keys)} columns: use DataMigration or BulkDataMigration"
            )
        await self._ensure_table(self.adapter)
        await self._plan(keys[0], fresh=not resume)
        progress = self.progress = await self._start_progress()
        already = sum(int(c["processed"]) for c in await self._chunks(self.adapter))
        progress.processed_rows = progress.resumed_from = already
        workers = await self._open_workers()
        self._stopping = False
        delay = 0.05
        try:
            while True:
                results = await asyncio.gather(
                    *(self._work(a, keys[0], progress) for a in workers), return_exceptions=True
                )
                failures = [r for r in results if isinstance(r, BaseException)]
                if failures:
                    raise failures[0]
                left = [c for c in await self._chunks(self.adapter) if c["state"] != "done"]
                if not left:
                    break
                # Chunks another process is still working on: done only when they are (or
                # when they can be taken over), never "applied" with rows left untransformed.
                if not any(self._takeable(c) for c in left):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
        finally:
            for sibling in workers[1:]:
                await sibling.disconnect()
        if progress.total_is_estimate:
            progress.total_rows, progress.total_is_estimate = progress.processed_rows, False
        return progress


def _conflict(error: BaseException) -> bool:
    """Lost to another worker: a changed chunk, a serialization failure or deadlock (on
    Galera, a certification conflict with another node's commit)."""
    return isinstance(error, ChunkTaken) or (
        isinstance(error, DatabaseError) and error.sqlstate in RETRY_SQLSTATES
    )


async def _back_off(attempt: int) -> None:
    # Jittered, growing: the winner's commit reaches this node meanwhile.
    await asyncio.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 6)))
