"""Scratch databases for MySQL / MariaDB: CREATE / DROP DATABASE through covet's adapter."""

from __future__ import annotations

from typing import Any

from covet_core.provisioning import ServerProvisioner


def _adapter(url: str) -> Any:
    from covet_dialect_mysql.adapter import MySQLAdapter

    return MySQLAdapter.from_url(url)


def _quote(name: str) -> str:
    from covet_dialect_mysql import quote

    return quote(name)


PROVISIONER = ServerProvisioner(_adapter, _quote)
