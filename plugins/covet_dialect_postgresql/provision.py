"""Scratch databases for PostgreSQL: CREATE / DROP DATABASE through covet's own adapter."""

from __future__ import annotations

from pathlib import Path

from covet_core.urls import with_database


class PostgreSQLProvisioner:
    """Runs on the base URL's database (the admin connection), never inside a transaction:
    PostgreSQL refuses CREATE DATABASE in one."""

    async def create(self, base_url: str, name: str, workdir: Path) -> str:
        from covet_dialect_postgresql import quote

        await _admin(base_url, f"CREATE DATABASE {quote(name)}")
        return with_database(base_url, name)

    async def drop(self, base_url: str, url: str) -> None:
        from covet_dialect_postgresql import quote
        from covet_dialect_postgresql.adapter import PostgreSQLAdapter

        name = PostgreSQLAdapter.from_url(url).database
        assert name is not None, "create() always returns a URL naming the database"
        # FORCE: a test that failed may leave a session open; it must not keep the database.
        await _admin(base_url, f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")


async def _admin(base_url: str, sql: str) -> None:
    from covet_dialect_postgresql.adapter import PostgreSQLAdapter

    adapter = PostgreSQLAdapter.from_url(base_url)
    await adapter.connect()
    try:
        await adapter.execute(sql)
    finally:
        await adapter.disconnect()


PROVISIONER = PostgreSQLProvisioner()
