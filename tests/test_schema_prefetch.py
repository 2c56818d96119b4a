"""Prefetch: catalog queries in turn on one connection, the next one on the wire while the
caller maps the rows of the one before; never a connection left with a query in flight."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from covet_core.errors import DatabaseError
from covet_core.schema.prefetch import Prefetch


async def test_rows_come_in_order_and_the_connection_is_free_whatever_happens(adapter: Any):
    queries = [(f"SELECT {n} AS n", None) for n in (1, 2, 3)]
    async with Prefetch(adapter.fetch_all, queries) as rows:
        got = [(await rows.next())[0]["n"] for _ in queries]
        with pytest.raises(IndexError):
            await rows.next()
    assert got == [1, 2, 3]

    # The caller gives up while the second query is in flight: it is read to its end.
    with pytest.raises(RuntimeError, match="mapping failed"):
        async with Prefetch(adapter.fetch_all, queries) as rows:
            await rows.next()
            raise RuntimeError("mapping failed")
    assert await adapter.fetch_value("SELECT 7") == 7

    # A query that fails raises its own error where its rows are asked for.
    failing = [queries[0], ("SELECT * FROM no_such_table", None), queries[2]]
    async with Prefetch(adapter.fetch_all, failing) as rows:
        assert (await rows.next())[0]["n"] == 1
        with pytest.raises(DatabaseError, match="no_such_table"):
            await rows.next()
    assert await adapter.fetch_value("SELECT 8") == 8


async def test_the_next_query_runs_on_the_server_while_the_caller_maps_rows(pg: Any):
    """The second query waits for an advisory lock another session holds: it is seen waiting
    on the server while the caller still holds the first query's rows, before asking for
    the second's. Sent only when asked for, it would never be seen."""
    reader, blocker = pg.new_adapter(), pg.new_adapter()
    await reader.connect()
    await blocker.connect()
    try:
        pid = await reader.fetch_value("SELECT pg_backend_pid()")
        await blocker.execute("SELECT pg_advisory_lock(4242)")
        queries = [("SELECT 1 AS n", None), ("SELECT pg_advisory_lock(4242) AS locked", None)]
        async with Prefetch(reader.fetch_all, queries) as rows:
            assert (await rows.next())[0]["n"] == 1
            waiting, deadline = None, time.monotonic() + 10
            while waiting != "Lock" and time.monotonic() < deadline:
                waiting = await blocker.fetch_value(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", (pid,)
                )
            assert waiting == "Lock", "the second query was not on the server"
            await blocker.execute("SELECT pg_advisory_unlock(4242)")
            assert len(await asyncio.wait_for(rows.next(), 10)) == 1
    finally:
        await blocker.disconnect()
        await reader.disconnect()
