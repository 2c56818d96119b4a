"""Scratch databases for PostgreSQL: CREATE / DROP DATABASE through covet's own adapter."""

from __future__ import annotations

from typing import Any

from covet_core.provisioning import ServerProvisioner


def _adapter(url: str) -> Any:
    from covet_dialect_postgresql.adapter import PostgreSQLAdapter

    return PostgreSQLAdapter.from_url(url)


def _quote(name: str) -> str:
    from covet_dialect_postgresql import quote

    return quote(name)


# FORCE: a test that failed may leave a session open; it must not keep the database.
PROVISIONER = ServerProvisioner(_adapter, _quote, drop_suffix=" WITH (FORCE)")
