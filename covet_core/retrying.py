"""Retrying a migration that gave up waiting for a lock.

Each migration's statements wait at most ``ddl_lock_timeout`` seconds for a table lock: an
``ALTER TABLE`` queued behind a long transaction would otherwise make every query on that
table queue behind it, which is how a correct migration takes a site down. A migration that
timed out is retried, after a backoff with jitter, up to ``ddl_retries`` times; only when
nothing of it was kept (a rolled-back transaction, or a failure at its first statement on a
database without transactional DDL), so a retry never runs a statement twice.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from covet_core.errors import LOCK_TIMEOUT, DatabaseError, MigrationFailedError
from covet_core.log import get_logger
from covet_core.migration import Migration

log = get_logger()

DEFAULT_DDL_LOCK_TIMEOUT = 5.0
DEFAULT_DDL_RETRIES = 3


def timed_out_cleanly(error: MigrationFailedError) -> bool:
    cause = error.__cause__
    return isinstance(cause, DatabaseError) and cause.sqlstate == LOCK_TIMEOUT and not error.partial


def backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s ... up to 10 s, each scaled by a random 0.5-1.5 so that several
    deploys waiting on the same blocker do not all come back at the same moment."""
    return min(0.5 * 2**attempt, 10.0) * random.uniform(0.5, 1.5)


async def run_retrying(runner: Any, migration: Migration, direction: str, retries: int) -> Any:
    """``runner.run(migration, direction)``, retried on a clean lock timeout."""
    attempt = 0
    while True:
        try:
            return await runner.run(migration, direction)
        except MigrationFailedError as error:
            if attempt >= retries or not timed_out_cleanly(error):
                raise
            delay = backoff(attempt)
            attempt += 1
            log.warning(
                "migration.lock_timeout", migration=migration.name, direction=direction,
                attempt=attempt, of=retries, retry_in=round(delay, 2), error=error.cause,
            )  # fmt: skip
            await asyncio.sleep(delay)
