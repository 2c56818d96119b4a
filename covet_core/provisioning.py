"""ServerProvisioner: scratch databases on a database server, for any dialect that has one.

``CREATE DATABASE`` / ``DROP DATABASE`` run through the dialect's own adapter on the base
URL's connection (the admin account), outside any transaction (PostgreSQL refuses
``CREATE DATABASE`` in one). A dialect passes how to make an adapter from a URL and how to
quote a name; ``drop_suffix`` adds what its ``DROP DATABASE`` needs, e.g. PostgreSQL's
``WITH (FORCE)``, so that a session a failed test left open cannot keep the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from covet_core.urls import split_url, with_database


class ServerProvisioner:
    """``Dialect.provisioner`` for a server database (see ``covet_core.dialect.Provisioner``)."""

    def __init__(
        self,
        adapter_from_url: Callable[[str], Any],
        quote: Callable[[str], str],
        *,
        drop_suffix: str = "",
    ) -> None:
        self.adapter_from_url = adapter_from_url
        self.quote = quote
        self.drop_suffix = drop_suffix

    async def create(self, base_url: str, name: str, workdir: Path) -> str:
        await self._admin(base_url, f"CREATE DATABASE {self.quote(name)}")
        return with_database(base_url, name)

    async def drop(self, base_url: str, url: str) -> None:
        name = unquote(split_url(url).path.lstrip("/"))
        if not name:
            raise ValueError("create() always returns a URL naming the database")
        await self._admin(base_url, f"DROP DATABASE IF EXISTS {self.quote(name)}{self.drop_suffix}")

    async def _admin(self, base_url: str, sql: str) -> None:
        adapter = self.adapter_from_url(base_url)
        await adapter.connect()
        try:
            await adapter.execute(sql)
        finally:
            await adapter.disconnect()
