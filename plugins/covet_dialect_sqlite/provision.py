"""Scratch databases for SQLite: a new file in the caller's work folder."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import quote, unquote


class SQLiteProvisioner:
    """Each scratch database is its own file; there is no server to ask."""

    async def create(self, base_url: str, name: str, workdir: Path) -> str:
        path = workdir / f"{name}.db"
        if path.exists():
            # A leftover with the same name would hand a test someone else's tables.
            raise FileExistsError(f"scratch database {path} already exists")
        return "sqlite:///" + quote(str(path))

    async def drop(self, base_url: str, url: str) -> None:
        path = unquote(url.removeprefix("sqlite:///"))
        # The journal files go with it: a -wal left behind would be replayed into a new file.
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)


PROVISIONER = SQLiteProvisioner()
