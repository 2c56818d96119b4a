"""``pg_dump`` backups (custom format), restored with ``pg_restore``.

The tools run as argument lists (no shell); the password travels in ``PGPASSWORD`` in the
child's environment, never on its command line. A ``pg_dump`` older than the server is refused
up front: it cannot dump a newer server reliably, and finding out during an incident is late.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from covet_core import hookimpl
from covet_core.backup import (
    SKIP_HINT,
    BackupInfo,
    discard,
    find_tool,
    finish_backup,
    new_backup_file,
    run_tool,
    version_tuple,
)
from covet_core.errors import BackupError

NAME = "pg_dump"
_HINT = "install the PostgreSQL client tools (e.g. postgresql-client) for the server's version"


def _connection(adapter: Any) -> tuple[list[str], dict[str, str], str, str]:
    """Command-line connection options, environment, password (for masking), database."""
    getter = getattr(adapter, "connection_parameters", None)
    params = getter() if getter is not None else None
    if not params or not params.get("database"):
        raise BackupError(
            "pg_dump needs the host, user and database, and this adapter wraps a connection "
            f"or pool whose parameters covet does not know; build it from keywords or a URL; "
            f"{SKIP_HINT}"
        )
    args = ["--host", str(params["host"]), "--port", str(params["port"]), "--no-password"]
    if params.get("user"):
        args += ["--username", str(params["user"])]
    env: dict[str, str] = {}
    password = params.get("password") or ""
    if password:
        env["PGPASSWORD"] = password
    if isinstance(params.get("ssl"), str):
        env["PGSSLMODE"] = params["ssl"]
    return args, env, password, str(params["database"])


class PgDumpBackup:
    name = NAME

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def create(self, directory: Path, label: str) -> BackupInfo:
        args, env, password, database = _connection(self.adapter)
        tool = find_tool("pg_dump", install_hint=_HINT)
        tool_version = (await run_tool([tool, "--version"])).decode().strip()
        server_version = str(await self.adapter.fetch_value("SHOW server_version"))
        if version_tuple(tool_version)[:1] < version_tuple(server_version)[:1]:
            raise BackupError(
                f"{tool_version} is older than the server (PostgreSQL {server_version}) and "
                f"cannot dump it reliably; {_HINT}; {SKIP_HINT}"
            )
        path = new_backup_file(directory, database, label, ".dump")
        try:
            with path.open("r+b") as out:
                await run_tool(
                    [tool, "--format=custom", *args, "--dbname", database],
                    env=env, stdout=out, secrets=[password],
                )  # fmt: skip
            return finish_backup(
                path,
                strategy=NAME,
                database=database,
                label=label,
                extra={"server_version": server_version, "tool_version": tool_version},
            )
        except BaseException:
            discard(path)
            raise

    async def restore(self, path: Path, target: Any = None) -> None:
        """``pg_restore --clean --if-exists`` in one transaction: objects in the backup are
        replaced; objects created after it are left alone."""
        args, env, password, database = _connection(target if target is not None else self.adapter)
        hint = f"restoring into database {database!r} did not complete"
        tool = find_tool("pg_restore", install_hint=_HINT, hint=hint)
        await run_tool(
            [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--exit-on-error", *args, "--dbname", database, str(path)],
            env=env, secrets=[password], hint=hint,
        )  # fmt: skip


def _factory(*, adapter: Any, **_: Any) -> PgDumpBackup:
    return PgDumpBackup(adapter)


@hookimpl
def covet_register_backup_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register(NAME, _factory)
