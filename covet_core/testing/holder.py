"""``python -m covet_core.testing.holder URL MIGRATIONS``: take the dialect's migration lock,
print ``locked`` and hold it until stdin closes or the process is killed.

The suite's lock tests synchronise on that line, never on time.
"""

from __future__ import annotations

import asyncio
import sys

from covet_core.manager import MigrationManager
from covet_core.plugins import Plugins


async def hold(url: str, migrations: str) -> None:
    plugins = Plugins.load()
    dialect = plugins.dialect_for_url(url)
    adapter = dialect.adapter_from_url(url, None)
    await adapter.connect()
    manager = MigrationManager(adapter, dialect, migrations, plugins=plugins)
    async with manager.locked():
        print("locked", flush=True)
        await asyncio.to_thread(sys.stdin.readline)


if __name__ == "__main__":
    asyncio.run(hold(sys.argv[1], sys.argv[2]))
