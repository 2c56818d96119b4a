"""Scratch databases for MySQL / MariaDB: CREATE / DROP DATABASE through covet's adapter."""

from __future__ import annotations

from pathlib import Path

from covet_core.urls import with_database


class MySQLProvisioner:
    """Runs on the base URL's connection (the admin account); DDL commits by itself."""

    async def create(self, base_url: str, name: str, workdir: Path) -> str:
        from covet_dialect_mysql import quote

        await _admin(base_url, f"CREATE DATABASE {quote(name)}")
        return with_database(base_url, name)

    async def drop(self, base_url: str, url: str) -> None:
        from covet_dialect_mysql import parse_url, quote

        name = parse_url(url)["database"]
        assert name is not None, "create() always returns a URL naming the database"
        await _admin(base_url, f"DROP DATABASE IF EXISTS {quote(name)}")


async def _admin(base_url: str, sql: str) -> None:
    from covet_dialect_mysql.adapter import MySQLAdapter

    adapter = MySQLAdapter.from_url(base_url)
    await adapter.connect()
    try:
        await adapter.execute(sql)
    finally:
        await adapter.disconnect()


PROVISIONER = MySQLProvisioner()
