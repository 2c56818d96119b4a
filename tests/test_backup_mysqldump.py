"""The ``mysqldump`` backup strategy against a real MySQL / MariaDB server and real client tools.

Each test gets a fresh database from the conftest ``mysql`` fixture (skipped without a server
outside CI, a failure with ``CI=true``). Users made here are dropped afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomysql
import pytest
import structlog
from conftest import SERVERS, Target, database_target, mysql_admin, write_migration
from covet_backup_mysqldump import tools
from covet_dialect_mysql.adapter import MySQLAdapter

from covet.database.migrations import MigrationManager
from covet_core.backup import sha256_of
from covet_core.errors import BackupError

SERVER = urlsplit(SERVERS["mysql"])
HOST, PORT = SERVER.hostname or "127.0.0.1", SERVER.port or 3306
ROOT, ROOT_PASSWORD = SERVER.username or "root", SERVER.password or ""
CREATE = "2024_01_01_000000_create_items"
LABEL = "2024_01_02_000000_next"
UNICODE = "héllo wörld ✓ 日本語 🎉 'quote' \"dq\" back\\slash\nnew line\ttab \x00nul"
BLOB = bytes(range(256))


admin = mysql_admin  # one statement as the server's admin user, through the raw driver


@pytest.fixture
async def db(mysql: Target) -> AsyncIterator[MySQLAdapter]:
    adapter = mysql.new_adapter()
    await adapter.connect()
    yield adapter
    await adapter.disconnect()


def manager_for(adapter: Any, directory: Path, backups: Path, **kwargs: Any) -> MigrationManager:
    write_migration(
        directory, CREATE, ["CREATE TABLE items (id INT PRIMARY KEY)"], ["DROP TABLE items"]
    )
    return MigrationManager(adapter, "mysql", directory, backup_dir=backups, **kwargs)


async def fill(adapter: Any) -> None:
    """Tables with unicode text, NULLs, arbitrary bytes and a foreign key."""
    await adapter.execute(
        "CREATE TABLE parents (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, note TEXT NULL) "
        "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )
    await adapter.execute(
        "CREATE TABLE children (id INT PRIMARY KEY, parent_id INT NOT NULL, data BLOB NULL, "
        "amount DECIMAL(12, 4) NULL, at DATETIME(6) NULL, "
        "FOREIGN KEY (parent_id) REFERENCES parents (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )
    await adapter.executemany(
        "INSERT INTO parents (id, name, note) VALUES (%s, %s, %s)",
        [(1, UNICODE, None), (2, "plain", ""), (3, "ß", UNICODE * 3)],
    )
    # Bytes go in as hex: aiomysql 0.3 cannot bind bytes with PyMySQL >= 1.2.
    await adapter.executemany(
        "INSERT INTO children (id, parent_id, data, amount, at) VALUES (%s, %s, UNHEX(%s), %s, %s)",
        [
            (1, 1, BLOB.hex(), "12345678.1234", "2024-02-29 23:59:59.123456"),
            (2, 1, "", None, None),
            (3, 3, None, "-0.0001", "1970-01-01 00:00:01"),
            (4, 2, (BLOB[::-1] * 40).hex(), "0", None),
        ],
    )


async def tables(adapter: Any) -> list[str]:
    rows = await adapter.fetch_all(
        "SELECT table_name AS t FROM information_schema.tables "
        "WHERE table_schema = DATABASE() ORDER BY table_name"
    )
    return [r["t"] for r in rows]


async def checksums(adapter: Any) -> dict[str, str]:
    """Each table's rows, ordered by primary key, as a sha256 of their repr.

    ``_covet_migration_lock`` is left out: the lock taken around a restore writes its own note.
    """
    sums = {}
    for table in await tables(adapter):
        if table == "_covet_migration_lock":
            continue
        keys = await adapter.fetch_all(
            "SELECT column_name AS c FROM information_schema.key_column_usage WHERE "
            "table_schema = DATABASE() AND table_name = %s AND constraint_name = 'PRIMARY' "
            "ORDER BY ordinal_position",
            (table,),
        )
        order = ", ".join(f"`{k['c']}`" for k in keys) or "1"
        rows = await adapter.fetch_all(f"SELECT * FROM `{table}` ORDER BY {order}")
        sums[table] = hashlib.sha256(repr([sorted(r.items()) for r in rows]).encode()).hexdigest()
    return sums


async def drop_all(adapter: Any) -> None:
    await adapter.execute("SET FOREIGN_KEY_CHECKS = 0")
    for table in await tables(adapter):
        await adapter.execute(f"DROP TABLE `{table}`")
    await adapter.execute("SET FOREIGN_KEY_CHECKS = 1")


# -- round trips ------------------------------------------------------------------------------


async def test_backup_and_restore_round_trip(db, mysql, migrations_dir, tmp_path):
    backups = tmp_path / "backups"
    manager = manager_for(db, migrations_dir, backups)
    assert (await manager.migrate_up())["success"]
    await fill(db)
    before = await checksums(db)
    assert {"parents", "children", "items", "_covet_migrations"} <= set(before)

    info = await manager.backup(LABEL)

    assert info.strategy == "mysqldump" and info.database == mysql.url.rsplit("/", 1)[1]
    assert info.path.exists() and info.path.parent == backups
    assert info.database in info.path.name and f"before-{LABEL}" in info.path.name
    assert info.path.suffix == ".sql"
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert info.manifest_path.exists()
    assert stat.S_IMODE(info.manifest_path.stat().st_mode) == 0o600
    assert info.sha256 == sha256_of(info.path) and info.size == info.path.stat().st_size
    assert info.extra["server_version"] == await db.fetch_value("SELECT VERSION()")
    assert tools.series(info.extra["tool_version"])
    assert manager.list_backups() == [info]

    await drop_all(db)
    assert await tables(db) == []
    restored = await manager.restore_backup(info.path)

    assert restored.path == info.path
    assert await checksums(db) == before
    status = await manager.get_status()
    assert [(s.name, s.applied) for s in status] == [(CREATE, True)]
    blob = await db.fetch_value("SELECT data FROM children WHERE id = 1")
    assert bytes(blob) == BLOB
    assert await db.fetch_value("SELECT name FROM parents WHERE id = 1") == UNICODE


async def test_restore_over_existing_tables_replaces_them(db, migrations_dir, tmp_path):
    manager = manager_for(db, migrations_dir, tmp_path / "backups")
    assert (await manager.migrate_up())["success"]
    await fill(db)
    before = await checksums(db)
    info = await manager.backup()
    await db.execute("DELETE FROM children WHERE id > 1")
    await db.execute("UPDATE parents SET note = 'changed'")

    await manager.restore_backup(info.path)

    assert await checksums(db) == before


@pytest.fixture
def other(mysql: Target, tmp_path: Path) -> Iterator[Target]:
    """A second fresh database on the same server."""
    (tmp_path / "other").mkdir()
    with database_target("mysql", tmp_path / "other") as made:
        yield made


async def test_restore_into_another_database(db, other, migrations_dir, tmp_path):
    manager = manager_for(db, migrations_dir, tmp_path / "backups")
    assert (await manager.migrate_up())["success"]
    await fill(db)
    before = await checksums(db)
    info = await manager.backup("copy")
    target = other.new_adapter()

    await manager.restore_backup(info.path, target=target)

    await target.connect()
    try:
        assert await checksums(target) == before
        assert await target.fetch_value("SELECT COUNT(*) FROM _covet_migrations") == 1
    finally:
        await target.disconnect()
    assert await checksums(db) == before  # the source is untouched


async def test_restore_failure_says_what_failed(db, migrations_dir, tmp_path):
    manager = manager_for(db, migrations_dir, tmp_path / "backups")
    info = await manager.backup()
    missing = f"covet_missing_{uuid.uuid4().hex[:8]}"
    target = MySQLAdapter(
        host=HOST, port=PORT, user=ROOT, password=ROOT_PASSWORD or None, database=missing
    )

    with pytest.raises(BackupError, match=f"restoring {info.path.name} into .*{missing}") as caught:
        await manager.restore_backup(info.path, target=target)

    assert "partly restored" in str(caught.value) and "--no-backup" not in str(caught.value)


# -- before migrating -------------------------------------------------------------------------


async def test_enable_backup_dumps_before_applying(db, migrations_dir, tmp_path):
    backups = tmp_path / "backups"
    manager = manager_for(db, migrations_dir, backups, enable_backup=True)

    result = await manager.migrate_up()

    assert result["success"], result["error"]
    [info] = manager.list_backups()
    assert result["backup"] == str(info.path)
    assert info.strategy == "mysqldump" and info.label == CREATE
    dump = info.path.read_text()
    assert "CREATE TABLE `_covet_migrations`" in dump
    assert "CREATE TABLE `items`" not in dump  # taken before the migration ran
    assert await db.fetch_value("SELECT COUNT(*) FROM items") == 0


async def test_missing_tool_fails_closed(db, mysql, migrations_dir, tmp_path, monkeypatch):
    backups, empty = tmp_path / "backups", tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    manager = manager_for(db, migrations_dir, backups, enable_backup=True)

    result = await manager.migrate_up()

    assert result["success"] is False and result["applied"] == []
    assert "not found on PATH" in result["error"] and "--no-backup" in result["error"]
    assert "mariadb-dump" in result["error"] and result["backup"] is None
    assert not await mysql.table_exists(db, "items")
    if await mysql.table_exists(db, "_covet_migrations"):
        assert await db.fetch_value("SELECT COUNT(*) FROM _covet_migrations") == 0
    assert not backups.exists() or list(backups.iterdir()) == []


async def test_tool_older_than_server_is_refused(db, migrations_dir, tmp_path, monkeypatch):
    server = await db.fetch_value("SELECT VERSION()")
    old = "Ver 10.19 Distrib 5.5.0-MariaDB, for x" if "MariaDB" in server else "Ver 5.7.0 for x"
    shims = tmp_path / "shims"
    for name in ("mariadb-dump", "mysqldump"):
        shim(shims / name, f"echo '{name}  {old}'\nexit 0")
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    backups = tmp_path / "backups"
    manager = manager_for(db, migrations_dir, backups)

    with pytest.raises(BackupError, match=r"is older than the .* server") as caught:
        await manager.backup("x")

    assert "--no-backup" in str(caught.value)
    assert not backups.exists() or list(backups.iterdir()) == []


async def test_incomplete_dump_is_refused(db, migrations_dir, tmp_path, monkeypatch):
    real, shims = shutil.which("mariadb-dump") or shutil.which("mysqldump"), tmp_path / "shims"
    for name in ("mariadb-dump", "mysqldump"):
        shim(
            shims / name,
            f"""\
            [ "$1" = --version ] && exec '{real}' --version
            printf -- '-- MariaDB dump\\nCREATE TABLE `t` (\\n'
            """,
        )
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    backups = tmp_path / "backups"
    manager = manager_for(db, migrations_dir, backups)

    with pytest.raises(BackupError, match="dump is incomplete"):
        await manager.backup("x")

    assert list(backups.iterdir()) == []


async def test_wrapped_connection_fails_closed(mysql, migrations_dir, tmp_path):
    database = mysql.url.rsplit("/", 1)[1]
    conn = await aiomysql.connect(
        host=HOST, port=PORT, user=ROOT, password=ROOT_PASSWORD, db=database, autocommit=True
    )
    try:
        adapter = MySQLAdapter(connection=conn)
        await adapter.connect()
        assert adapter.connection_parameters() is None
        manager = manager_for(adapter, migrations_dir, tmp_path / "backups")
        with pytest.raises(BackupError, match="wraps an aiomysql connection or pool"):
            await manager.backup()
    finally:
        conn.close()
    assert not (tmp_path / "backups").exists()


# -- secrets ----------------------------------------------------------------------------------


def shim(path: Path, body: str) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body) + "\n")
    path.chmod(0o755)


@pytest.fixture
def secret_user(mysql: Target) -> Iterator[tuple[str, str]]:
    """A user with a password (quotes, #, backslash, spaces) on the test's database only."""
    import asyncio

    user = f"covet_bk_{uuid.uuid4().hex[:8]}"
    password = f"Sec 'r\"e#t\\{uuid.uuid4().hex[:12]} "
    database = mysql.url.rsplit("/", 1)[1]
    asyncio.run(admin(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,)))
    try:
        asyncio.run(admin(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'"))
        yield user, password
    finally:
        asyncio.run(admin(f"DROP USER IF EXISTS '{user}'@'%'"))


async def test_password_never_reaches_argv_or_logs(
    mysql, secret_user, migrations_dir, tmp_path, monkeypatch
):
    user, password = secret_user
    database = mysql.url.rsplit("/", 1)[1]
    real = {name: shutil.which(name) for name in ("mariadb-dump", "mysqldump", "mariadb", "mysql")}
    shims, log = tmp_path / "shims", tmp_path / "argv.log"
    for name, path in real.items():
        if path:
            shim(
                shims / name,
                f"""\
                printf '%s\\n' "$0" "$@" >> "$COVET_SHIM_LOG"
                tr '\\000' '\\n' < /proc/$$/cmdline >> "$COVET_SHIM_LOG"
                exec '{path}' "$@"
                """,
            )
    monkeypatch.setenv("COVET_SHIM_LOG", str(log))
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
    adapter = MySQLAdapter(host=HOST, port=PORT, user=user, password=password, database=database)
    await adapter.connect()
    try:
        await adapter.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
        await adapter.execute("INSERT INTO t VALUES (1, 'x')")
        manager = manager_for(adapter, migrations_dir, tmp_path / "backups")
        with structlog.testing.capture_logs() as events:
            info = await manager.backup("secret")
            await adapter.execute("DROP TABLE t")
            await manager.restore_backup(info.path)
        assert await adapter.fetch_value("SELECT v FROM t WHERE id = 1") == "x"

        logged = log.read_text()
        assert f"--user={user}" in logged and password not in logged
        assert logged.count(database) == 4  # dump and restore, each as argv and cmdline
        # The password went through options files, and those are gone again.
        options_files = [a for a in logged.split("\n") if a.startswith("--defaults-extra-file=")]
        assert len(options_files) == 4
        assert not any(Path(a.split("=", 1)[1]).exists() for a in options_files)
        assert {"backup.run", "backup.created", "backup.restored"} <= {e["event"] for e in events}
        assert password not in repr(events)
        assert password not in info.path.read_text() + info.manifest_path.read_text()

        # A failing tool: the adapter is connected, the parameters the tool gets are wrong.
        adapter.port = closed_port()
        with pytest.raises(BackupError) as caught:
            await manager.backup("fails")
        assert "failed" in str(caught.value) and password not in str(caught.value)
        assert str(adapter.port) in log.read_text()  # the tool itself did fail
        assert manager.list_backups() == [info] and len(list(info.path.parent.iterdir())) == 2
    finally:
        await adapter.disconnect()

    # Not connected at all: the version check fails, again without the password.
    unreachable = MySQLAdapter(
        host=HOST, port=closed_port(), user=user, password=password, database=database
    )
    with pytest.raises(BackupError) as caught:
        await manager_for(unreachable, migrations_dir, tmp_path / "backups").backup("x")
    assert "cannot connect" in str(caught.value) and password not in str(caught.value)


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- version parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("mysqldump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)", "10.11.19-MariaDB"),
        ("mariadb-dump from 11.4.2-MariaDB, client 10.19 for debian-linux-gnu (x86_64)", "11.4.2-MariaDB"),
        ("mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)", "8.0.36"),
        ("mysqldump  Ver 10.13 Distrib 5.7.44, for Linux (x86_64)", "5.7.44"),
        ("mysql  Ver 15.1 Distrib 10.6.18-MariaDB, for Linux (x86_64) using readline 5.1", "10.6.18-MariaDB"),
    ],
)  # fmt: skip
def test_tool_release(output: str, expected: str) -> None:
    assert tools.release(output) == expected


@pytest.mark.parametrize(
    ("tool", "server", "refused"),
    [
        ("10.11.19-MariaDB", "10.11.6-MariaDB-0+deb12u1", False),  # same series: patch levels
        ("10.6.18-MariaDB", "10.11.6-MariaDB-log", True),
        ("11.4.2-MariaDB", "10.11.6-MariaDB", False),
        ("8.0.36", "8.4.0", True),
        ("8.4.0", "8.0.36", False),
        ("8.0.36", "10.11.6-MariaDB", False),  # across flavours nothing is compared
        ("10.11.19-MariaDB", "8.4.0", False),
    ],
)
def test_tool_version_check(tool: str, server: str, refused: bool) -> None:
    if refused:
        with pytest.raises(BackupError, match="older than"):
            tools.check_tool_version("/usr/bin/mysqldump", tool, server)
    else:
        tools.check_tool_version("/usr/bin/mysqldump", tool, server)
