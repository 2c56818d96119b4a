"""What the mysqldump strategy needs to know about the MySQL / MariaDB client tools.

Versions and flavours from ``--version`` output, the command-line arguments for a set of
connection parameters, and the private options file that carries the password (a password on a
command line is visible to every user of the machine through ``ps``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from covet_core.backup import SKIP_HINT, version_tuple
from covet_core.errors import BackupError

MARIADB, MYSQL = "MariaDB", "MySQL"

# Each option of mysqldump and mariadb-dump alike (MySQL 5.7+ / MariaDB 10.x+).
DUMP_OPTIONS = (
    "--single-transaction",  # a consistent InnoDB snapshot, without locking tables
    "--routines",
    "--triggers",
    "--events",
    "--hex-blob",  # binary columns as hex literals: no byte depends on the client charset
    "--default-character-set=utf8mb4",
    "--no-tablespaces",  # MySQL 8 needs the PROCESS privilege to dump tablespaces
    "--comments",  # "-- Dump completed" at the end, even if an options file skips comments
)
DUMP_COMPLETED = b"-- Dump completed"

# "mysqldump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)" (10.19 is the
# client's own number), "mariadb-dump from 11.4.2-MariaDB, client 10.19 for ...", or
# "mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)".
_RELEASES = (
    re.compile(r"\b(?:Distrib|from)\s+(\d+\.\d+[^\s,]*)"),
    re.compile(r"\bVer\s+(\d+\.\d+[^\s,]*)"),
)


def release(version_output: str) -> str:
    """The server release a client tool belongs to (``10.11.19-MariaDB``), from ``--version``."""
    for pattern in _RELEASES:
        match = pattern.search(version_output)
        if match:
            return match.group(1)
    return " ".join(version_output.split())


def flavour(text: str) -> str:
    """``MariaDB`` or ``MySQL`` (Percona and other MySQL builds count as MySQL)."""
    return MARIADB if "mariadb" in text.lower() else MYSQL


def series(text: str) -> tuple[int, ...]:
    """``(10, 11)`` of ``10.11.19-MariaDB``: what decides whether a dump tool is too old."""
    return version_tuple(text)[:2]


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def check_tool_version(tool: str, tool_release: str, server_version: str) -> None:
    """Refuse a dump tool of an older series than the server of the same flavour.

    An older mysqldump may not know the server's newer syntax and features and write a dump
    that does not restore. Across flavours (a MariaDB tool and a MySQL server) the numbers are
    not comparable, and nothing is checked.
    """
    kind = flavour(tool_release)
    if kind != flavour(server_version):
        return
    have, need = series(tool_release), series(server_version)
    if have and need and have < need:
        name = Path(tool).name
        raise BackupError(
            f"{name} {tool_release} ({tool}) is older than the {kind} {server_version} server "
            f"it would dump; install a {kind} {dotted(need)} or newer client, or put it first on "
            f"PATH; {SKIP_HINT}"
        )


def dump_options(tool_release: str, server_version: str) -> list[str]:
    """``DUMP_OPTIONS`` plus what this tool needs for this server."""
    options = list(DUMP_OPTIONS)
    if flavour(tool_release) == MYSQL:
        # Else a dump of a GTID server sets GTID_PURGED, which needs SUPER to restore and
        # fails on a server that has executed transactions.
        options.append("--set-gtid-purged=OFF")
        if flavour(server_version) == MARIADB and series(tool_release) >= (8, 0):
            options.append("--column-statistics=0")  # MariaDB has no COLUMN_STATISTICS table
    return options


def connection_options(params: Mapping[str, Any], tool_release: str) -> list[str]:
    """``--host --port --user`` (and SSL) for a client tool; never the password."""
    options = [
        f"--host={params['host']}",
        f"--port={params['port']}",
        f"--user={params['user']}",
        # "localhost" means a Unix socket to the clients, but TCP to aiomysql: use the server
        # the adapter uses.
        "--protocol=TCP",
    ]
    if params.get("ssl"):
        # MySQL 8 clients dropped --ssl; --ssl-mode=REQUIRED encrypts, like MariaDB's --ssl.
        options.append("--ssl" if flavour(tool_release) == MARIADB else "--ssl-mode=REQUIRED")
    return options


_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _option_value(value: str) -> str:
    # Option files strip unquoted trailing spaces and cut at "#"; inside double quotes the
    # clients undo these backslash escapes (MySQL and MariaDB alike).
    for char, escaped in _ESCAPES:
        value = value.replace(char, escaped)
    return f'"{value}"'


@contextmanager
def password_options(password: str | None) -> Iterator[list[str]]:
    """``["--defaults-extra-file=<file>"]`` holding ``password``, or ``[]`` without one.

    The file is 0600 in a fresh 0700 directory, and both are gone when the block ends, however
    it ends. The option must come first on the tool's command line.
    """
    if not password:
        yield []
        return
    directory = tempfile.mkdtemp(prefix="covet-mysql-")
    try:
        path = os.path.join(directory, "client.cnf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"[client]\npassword={_option_value(password)}\n")
        yield [f"--defaults-extra-file={path}"]
    finally:
        shutil.rmtree(directory, ignore_errors=True)
