"""``sqlite_file``: an OS file lock (``flock``) on ``<database>-covet-lock`` beside the database.

The kernel drops the lock when the holding process exits for any reason, SIGKILL included, so a
dead holder never blocks the next run and there is nothing to clean up. The file also holds the
holder's host, pid and start time for the "held by" message; that text is informational only.
The file is never deleted: removing a lock file races with a process that has just opened it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from covet_core.errors import LockError
from covet_core.locking import LockHolder, busy_error, poll_until

LOCK_SUFFIX = "-covet-lock"


class SQLiteFileLock:
    def __init__(self, adapter: Any, options: Mapping[str, Any]) -> None:
        self.adapter = adapter
        self.options = options
        self._fd: int | None = None

    async def _lock_path(self) -> Path | None:
        rows = await self.adapter.fetch_all("PRAGMA database_list")
        main = next((r["file"] for r in rows if r["name"] == "main"), "")
        # In-memory and temporary databases are private to one connection: nothing to share.
        return Path(main + LOCK_SUFFIX) if main else None

    def _open(self, path: Path) -> int:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockError(f"cannot open lock file {path}: {exc.strerror}") from exc

    async def acquire(self, timeout: float) -> None:
        path = await self._lock_path()
        if path is None or self._fd is not None:
            return
        fd = self._open(path)

        async def attempt() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        async def timed_out(waited: float) -> Exception:
            return busy_error(_read_holder(fd), waited)

        try:
            await poll_until(attempt, timeout, timed_out)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)

    async def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def holder(self) -> LockHolder | None:
        path = await self._lock_path()
        if path is None or not path.exists():
            return None
        fd = self._open(path)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_holder(fd) or LockHolder("unknown host", 0, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    async def force_release(self, force: bool = False) -> LockHolder | None:
        holder = await self.holder()
        if holder is not None:
            raise LockError(
                f"the SQLite migration lock is held by running process {holder.describe()}; "
                f"the OS releases it when that process exits, so stop that process instead"
            )
        return None


def _read_holder(fd: int) -> LockHolder | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        data = json.loads(os.pread(fd, 4096, 0).decode() or "null")
        if data:
            return LockHolder(
                str(data["host"]), int(data["pid"]), datetime.fromisoformat(data["since"])
            )
    return None
