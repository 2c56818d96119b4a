"""Catalog queries in turn on one connection, the next one sent before the last one's rows are
mapped: the server runs it while Python builds the model from the rows before.

A schema read is a handful of bulk queries and a model built from their rows; done one after
the other, the server and Python each wait for the other. One connection runs one query at a
time, so the overlap is one query deep: while the caller maps query *k*'s rows, query *k+1* is
already on the wire. Nothing else may use the connection meanwhile, and it is never left with a
query in flight: leaving the block waits for the one sent (its rows unused).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

__all__ = ["Prefetch"]

Fetch = Callable[[str, Any], Awaitable[Any]]


class Prefetch:
    """``async with Prefetch(adapter.fetch_all, [(sql, params), ...]) as rows:`` then
    ``await rows.next()`` once per query, in order."""

    def __init__(self, fetch: Fetch, queries: Sequence[tuple[str, Any]]) -> None:
        self._fetch = fetch
        self._queries = list(queries)
        self._sent = 0
        self._pending: asyncio.Future[Any] | None = None

    async def __aenter__(self) -> Prefetch:
        await self._send()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            # The caller stopped early (an error mapping rows): the query sent still owns the
            # connection until its answer is read. Its own failure is not news next to that.
            with contextlib.suppress(Exception):
                await pending

    async def next(self) -> Any:
        """The rows of the next query; the one after it is sent before they are returned."""
        pending, self._pending = self._pending, None
        if pending is None:
            raise IndexError("no query left to read")
        rows = await pending
        await self._send()
        return rows

    async def _send(self) -> None:
        if self._sent < len(self._queries):
            sql, params = self._queries[self._sent]
            self._sent += 1
            self._pending = asyncio.ensure_future(self._fetch(sql, params))
            # One turn of the loop: the task writes its query to the socket before the caller
            # goes on to map rows without yielding.
            await asyncio.sleep(0)
