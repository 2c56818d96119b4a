"""``MySQLDumpBackup``: a logical backup with ``mariadb-dump`` / ``mysqldump``, restored with the
``mariadb`` / ``mysql`` client.

The dump holds every table of the adapter's database (covet's own history and lock tables
included), with routines, triggers and events, from one consistent InnoDB snapshot. It names
no database, so it restores into any database. The password reaches the tools only through a
private options file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from covet_backup_mysqldump import tools
from covet_core.backup import (
    SKIP_HINT,
    BackupInfo,
    discard,
    find_tool,
    finish_backup,
    new_backup_file,
    run_tool,
)
from covet_core.errors import BackupError, ConnectionFailedError, CovetError
from covet_core.log import get_logger

log = get_logger()
NAME = "mysqldump"
DUMP_TOOLS = ("mariadb-dump", "mysqldump")
CLIENT_TOOLS = ("mariadb", "mysql")
INSTALL_HINT = "install the MariaDB/MySQL client"


class MySQLDumpBackup:
    name = NAME

    def __init__(
        self,
        adapter: Any,
        dialect: Any = None,
        options: Mapping[str, Any] | None = None,
        plugins: Any = None,
    ) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.options = dict(options or {})
        self.plugins = plugins

    # -- create -------------------------------------------------------------------------------

    async def create(self, directory: Path, label: str) -> BackupInfo:
        params = self._parameters(self.adapter, "back up")
        database, password = params["database"], params["password"]
        tool = find_tool(*DUMP_TOOLS, install_hint=INSTALL_HINT)
        tool_release = await _release(tool)
        server_version = await self._server_version()
        tools.check_tool_version(tool, tool_release, server_version)
        path = new_backup_file(Path(directory), database, label, ".sql")
        try:
            with tools.password_options(password) as extra, path.open("wb") as out:
                argv = [
                    tool,
                    *extra,  # --defaults-extra-file must come first
                    *tools.dump_options(tool_release, server_version),
                    *tools.connection_options(params, tool_release),
                    "--",
                    database,
                ]
                log.debug("backup.run", argv=argv)
                await run_tool(argv, stdout=out, secrets=[password or ""])
            _check_complete(path, tool)
            return finish_backup(
                path,
                strategy=NAME,
                database=database,
                label=label,
                extra={"server_version": server_version, "tool_version": tool_release},
            )
        except BaseException as exc:
            discard(path)  # fail closed: no half-written dump survives
            if isinstance(exc, Exception) and not isinstance(exc, BackupError):
                raise BackupError(f"the mysqldump backup failed ({exc}); {SKIP_HINT}") from exc
            raise

    async def _server_version(self) -> str:
        """``SELECT VERSION()``, on a connection of its own if the adapter is not connected."""
        try:
            try:
                return str(await self.adapter.fetch_value("SELECT VERSION()"))
            except ConnectionFailedError:  # not connected: ask through a sibling
                sibling = await self.adapter.open_sibling()
                if sibling is None:
                    raise
                await sibling.connect()
                try:
                    return str(await sibling.fetch_value("SELECT VERSION()"))
                finally:
                    await sibling.disconnect()
        except CovetError as exc:
            raise BackupError(
                f"cannot ask the MySQL server for its version before the backup ({exc}); "
                f"{SKIP_HINT}"
            ) from exc

    # -- restore ------------------------------------------------------------------------------

    async def restore(self, path: Path, target: Any = None) -> None:
        """Feed the dump to the ``mariadb`` / ``mysql`` client, into ``target``'s database
        (an adapter) or the strategy's own.

        Tables in the dump replace tables of the same name; other tables stay. The client stops
        at the first error, which may leave the database partly restored.
        """
        params = self._parameters(self.adapter if target is None else target, "restore")
        database, password = params["database"], params["password"]
        started = False
        try:
            client = find_tool(*CLIENT_TOOLS, install_hint=INSTALL_HINT)
            client_release = await _release(client)
            # Opening a file hardly blocks the loop; reading it is the client's job (its stdin).
            with (
                tools.password_options(password) as extra,
                open(path, "rb") as dump,  # noqa: ASYNC230
            ):
                argv = [
                    client,
                    *extra,  # --defaults-extra-file must come first
                    "--default-character-set=utf8mb4",
                    *tools.connection_options(params, client_release),
                    "--",
                    database,
                ]
                log.debug("backup.restore.run", argv=argv)
                started = True
                await run_tool(argv, stdin=dump, secrets=[password or ""])
        except BackupError as exc:
            # The core's advice is about skipping a backup before migrating: not this.
            reason = str(exc).removesuffix(f"; {SKIP_HINT}")
            partly = "; the database may be partly restored" if started else ""
            raise BackupError(
                f"restoring {Path(path).name} into MySQL database {database!r} failed: "
                f"{reason}{partly}"
            ) from None

    # -- parameters ---------------------------------------------------------------------------

    def _parameters(self, adapter: Any, action: str) -> dict[str, Any]:
        """The adapter's connection parameters, or a ``BackupError`` saying why there are none."""
        hint = f"; {SKIP_HINT}" if action == "back up" else ""
        dialect = getattr(self.dialect, "name", self.dialect) or "mysql"
        kind = getattr(adapter, "dialect_name", None)
        get = getattr(adapter, "connection_parameters", None)
        if dialect != "mysql" or kind != "mysql" or get is None:
            other = dialect if dialect != "mysql" else kind or type(adapter).__name__
            raise BackupError(
                f"cannot {action} with mysqldump: it is for MySQL / MariaDB adapters, not "
                f"{other!r}; choose the backup strategy of your database's dialect{hint}"
            )
        params: dict[str, Any] | None = get()
        if params is None:
            raise BackupError(
                f"cannot {action} with mysqldump: the MySQL adapter wraps an aiomysql connection "
                f"or pool, and covet does not know its host, user and password, which the "
                f"external tools need; build the adapter from a URL or from host=, user=, "
                f"password=, database= instead{hint}"
            )
        if not params.get("database"):
            raise BackupError(
                f"cannot {action} with mysqldump: the MySQL adapter names no database; put one "
                f"in the URL (mysql://user@host/database){hint}"
            )
        return params


async def _release(tool: str) -> str:
    """The release of a client tool (``10.11.19-MariaDB``) from its ``--version``."""
    output = await run_tool([tool, "--version"])
    return tools.release(output.decode(errors="replace"))


def _check_complete(path: Path, tool: str) -> None:
    """A dump that exited 0 but lacks mysqldump's closing comment is cut short: refuse it."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    if tools.DUMP_COMPLETED not in tail:
        raise BackupError(
            f"{Path(tool).name} exited without error but its dump is incomplete (no "
            f"{tools.DUMP_COMPLETED.decode()!r} line at the end); {SKIP_HINT}"
        )
