"""``lock_timeout`` around a migration's statements (``Dialect.lock_timeout``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from covet_core.errors import DatabaseError


@asynccontextmanager
async def lock_timeout(adapter: Any, seconds: float) -> AsyncIterator[None]:
    wanted = max(int(seconds * 1000), 1)  # 0 would mean "wait forever"
    current = int(
        await adapter.fetch_value("SELECT setting FROM pg_settings WHERE name = 'lock_timeout'")
    )
    if 0 < current <= wanted:
        yield  # a shorter timeout set on purpose (the URL's lock_timeout) stays
        return
    value = f"{wanted}ms"
    if adapter.in_transaction:
        # Local: it ends with the migration's transaction, whatever the outcome.
        await adapter.execute("SELECT set_config('lock_timeout', $1, true)", (value,))
        yield
        return
    if getattr(adapter, "pooler", "none") == "transaction":
        # A session setting would stay on a pooled server connection for the application to
        # inherit; each statement outside a transaction keeps the URL's own lock_timeout.
        yield
        return
    before = f"{current}ms"
    await adapter.execute("SELECT set_config('lock_timeout', $1, false)", (value,))
    try:
        yield
    finally:
        # A lost connection takes the setting with it; the statement's error is the news.
        with suppress(DatabaseError):
            await adapter.execute("SELECT set_config('lock_timeout', $1, false)", (before,))
