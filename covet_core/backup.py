"""Backups taken before migrating: the strategy protocol, files, manifests and retention.

Strategies are registered by plugins through ``covet_register_backup_strategies`` and chosen
by name. A backup that was asked for and cannot be made stops the run before any migration.
Every backup file is created 0600, named from the database, the time and the migration it
precedes (never from anything secret), and has a manifest ``<file>.json`` beside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from covet_core.errors import BackupError

MANIFEST_SUFFIX = ".json"
SKIP_HINT = "nothing was migrated; fix it, or migrate without a backup deliberately (--no-backup)"


@dataclass(frozen=True)
class BackupInfo:
    """One backup file, as passed to ``covet_backup_created`` and listed by ``covet backup list``."""

    path: Path
    strategy: str
    database: str
    created_at: datetime
    size: int
    label: str = ""
    sha256: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """``server_version``, ``tool_version`` and anything else the strategy records."""

    @property
    def manifest_path(self) -> Path:
        return self.path.with_name(self.path.name + MANIFEST_SUFFIX)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "strategy": self.strategy,
            "database": self.database,
            "created_at": self.created_at.isoformat(),
            "size": self.size,
            "label": self.label,
            "sha256": self.sha256,
            **self.extra,
        }


class BackupStrategy(Protocol):
    """What ``factory(adapter=, dialect=, options=, plugins=)`` of a backup strategy returns."""

    name: str

    async def create(self, directory: Path, label: str) -> BackupInfo:
        """Write a backup into ``directory`` (use ``new_backup_file``) and return its info.

        Raise ``BackupError`` saying why it failed (tool missing or too old, disk full, ...).
        """

    async def restore(self, path: Path, target: Any = None) -> None:
        """Restore ``path`` into the strategy's database, or into ``target`` (an adapter)."""


# -- files ------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(part: str) -> str:
    return _UNSAFE.sub("_", part).strip("._") or "db"


def new_backup_file(directory: Path, database: str, label: str, suffix: str) -> Path:
    """A fresh, empty 0600 file ``<database>-<UTC time>-before-<label><suffix>``."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"{_safe(Path(database).name)}-{stamp}"
    if label:
        name += f"-before-{_safe(label)}"
    path = directory / f"{name}{suffix}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise BackupError(
            f"cannot create backup file in {directory}: {exc.strerror}; {SKIP_HINT}"
        ) from exc
    os.close(fd)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def finish_backup(
    path: Path, *, strategy: str, database: str, label: str, extra: Mapping[str, Any]
) -> BackupInfo:
    """Checksum the written file and write its 0600 manifest beside it."""
    info = BackupInfo(
        path=path,
        strategy=strategy,
        database=database,
        created_at=datetime.now(UTC),
        size=path.stat().st_size,
        label=label,
        sha256=sha256_of(path),
        extra=dict(extra),
    )
    fd = os.open(info.manifest_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(info.to_json(), handle, indent=2)
    return info


def discard(path: Path) -> None:
    """Remove a half-written backup and its manifest (a failed backup leaves nothing behind)."""
    for candidate in (path, path.with_name(path.name + MANIFEST_SUFFIX)):
        candidate.unlink(missing_ok=True)


_MANIFEST_TYPES: dict[str, type | tuple[type, ...]] = {
    "file": str,
    "strategy": str,
    "database": str,
    "created_at": str,
    "size": int,
    "label": str,
    "sha256": (str, type(None)),
}


def read_manifest(manifest: Path) -> BackupInfo | None:
    """The manifest's backup, or ``None`` when it is missing, unreadable or edited into
    something that is not a manifest (a strategy that is not a name, a size that is text)."""
    try:
        data = json.loads(manifest.read_text())
        if not isinstance(data, dict) or not all(
            isinstance(data.get(key, ""), kind) for key, kind in _MANIFEST_TYPES.items()
        ):
            return None
        if not data["strategy"] or isinstance(data["size"], bool):
            return None
        path = manifest.with_name(data["file"])
        known = {"file", "strategy", "database", "created_at", "size", "label", "sha256"}
        return BackupInfo(
            path=path,
            strategy=data["strategy"],
            database=data["database"],
            created_at=datetime.fromisoformat(data["created_at"]),
            size=int(data["size"]),
            label=data.get("label", ""),
            sha256=data.get("sha256"),
            extra={k: v for k, v in data.items() if k not in known},
        )
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def list_backups(directory: Path) -> list[BackupInfo]:
    """Backups with a readable manifest in ``directory``, newest first."""
    if not directory.is_dir():
        return []
    found = [read_manifest(m) for m in directory.glob(f"*{MANIFEST_SUFFIX}")]
    return sorted(
        (b for b in found if b and b.path.exists()), key=lambda b: b.created_at, reverse=True
    )


def apply_retention(directory: Path, keep: int) -> list[BackupInfo]:
    """Delete all but the newest ``keep`` backups (with manifests); return the deleted ones."""
    removed = list_backups(directory)[keep:] if keep > 0 else []
    for backup in removed:
        discard(backup.path)
    return removed


def verify(backup: BackupInfo) -> None:
    """Raise ``BackupError`` unless the file still has the size and sha256 of its manifest."""
    if not backup.path.exists():
        raise BackupError(f"backup file {backup.path} is missing")
    if backup.sha256 and sha256_of(backup.path) != backup.sha256:
        raise BackupError(f"backup file {backup.path} does not match its manifest's sha256")


# -- external tools -----------------------------------------------------------------------------


def find_tool(*names: str, install_hint: str, hint: str = SKIP_HINT) -> str:
    """The first of ``names`` on PATH, or a ``BackupError`` saying how to get one.

    ``hint`` ends the message: the default suits taking a backup before migrating.
    """
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"{' / '.join(names)} not found on PATH; {install_hint}; {hint}")


async def run_tool(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    secrets: Sequence[str] = (),
    hint: str = SKIP_HINT,
) -> bytes:
    """Run an external tool (argument list, never a shell); return its stdout if not redirected.

    Secrets go through ``env`` or files, never ``argv``; any secret that shows up in the tool's
    error output is masked before it reaches a message.
    """
    for secret in secrets:
        if secret and any(secret in arg for arg in argv):
            raise BackupError("refusing to pass a password on a command line")
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=stdin if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=stdout if stdout is not None else asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
    except OSError as exc:
        raise BackupError(f"cannot run {Path(argv[0]).name}: {exc.strerror}; {hint}") from exc
    try:
        out, err = await proc.communicate()
    except BaseException:
        # Cancelled (Ctrl-C, timeout): do not leave a dump running into a discarded file.
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        message = " ".join(err.decode(errors="replace").split()) or f"exit status {proc.returncode}"
        for secret in secrets:
            if secret:
                message = message.replace(secret, "***")
        raise BackupError(f"{Path(argv[0]).name} failed: {message[:500]}; {hint}")
    return out or b""


def version_tuple(text: str) -> tuple[int, ...]:
    """``(15, 20)`` from ``"pg_dump (PostgreSQL) 15.20 (Debian...)"`` or ``"10.11.19-MariaDB"``."""
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not match:
        return ()
    return tuple(int(g) for g in match.groups() if g is not None)
