"""The portable ``table`` lock on DuckDB, within one process (across processes DuckDB's own
file lock refuses the second process first: see test_duckdb_cli)."""

from __future__ import annotations

import os
import socket

import pytest
from covet_dialect_duckdb.adapter import DuckDBAdapter

from covet_core.dialect import Dialect
from covet_core.errors import LockTimeoutError
from covet_core.locking import TableLock
from covet_core.plugins import Plugins

pytest_plugins = ["duckdb_support"]


async def test_the_table_lock_excludes_a_second_connection_and_names_the_holder(
    adapter: DuckDBAdapter, dialect: Dialect
) -> None:
    assert dialect.default_lock == "table"
    plugins = Plugins.load(())
    other = DuckDBAdapter(adapter.path)
    await other.connect()
    first, second = TableLock(adapter, dialect, plugins), TableLock(other, dialect, plugins)
    try:
        await first.acquire(timeout=5)
        with pytest.raises(LockTimeoutError, match=f"held by {socket.gethostname()}/{os.getpid()}"):
            await second.acquire(timeout=0.2)
        holder = await second.holder()
        assert holder is not None and holder.pid == os.getpid()
        await first.release()
        await second.acquire(timeout=5)  # free again: the other connection takes it
        assert await second.still_held(adapter)
        await second.release()
        assert await first.holder() is None
    finally:
        await other.disconnect()
