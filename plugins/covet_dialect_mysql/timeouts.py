"""Lock wait timeouts around a migration's statements (``Dialect.lock_timeout``).

DDL waits for a metadata lock (``lock_wait_timeout``), row changes for InnoDB row locks
(``innodb_lock_wait_timeout``); both count whole seconds, at least 1. They are session
settings either way (MySQL has no per-transaction form), so the previous values come back on
exit.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from covet_core.errors import DatabaseError

_NAMES = ("lock_wait_timeout", "innodb_lock_wait_timeout")


@asynccontextmanager
async def lock_timeout(adapter: Any, seconds: float) -> AsyncIterator[None]:
    wait = max(math.ceil(seconds), 1)
    row = await adapter.fetch_one(
        "SELECT @@SESSION.lock_wait_timeout AS a, @@SESSION.innodb_lock_wait_timeout AS b"
    )
    before = (int(row["a"]), int(row["b"])) if row else (wait, wait)
    # Only ever shorter: a lower value set on purpose for the session stays.
    await adapter.execute(
        "SET SESSION lock_wait_timeout = %s, SESSION innodb_lock_wait_timeout = %s",
        (min(wait, before[0]), min(wait, before[1])),
    )
    try:
        yield
    finally:
        # A lost connection takes the settings with it; the statement's error is the news.
        with suppress(DatabaseError):
            await adapter.execute(
                "SET SESSION lock_wait_timeout = %s, SESSION innodb_lock_wait_timeout = %s",
                before,
            )
