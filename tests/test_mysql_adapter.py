"""MySQLAdapter and the GET_LOCK strategy against a real MySQL / MariaDB server.

Each test that needs the server gets its own uniquely named database (created and dropped as
root with the raw driver). Without a reachable server these tests are skipped with the reason,
unless ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote
from urllib.parse import urlsplit

import aiomysql
import pytest
from conftest import SERVERS, database_target, mysql_admin, write_migration
from covet_dialect_mysql.adapter import MySQLAdapter
from covet_dialect_mysql.lock import lock_name

from covet.database.migrations import MigrationManager
from covet_core.errors import (
    ConfigError,
    ConnectionFailedError,
    DatabaseError,
    IntegrityError,
    LockError,
    LockTimeoutError,
)
from covet_core.plugins import Plugins
from covet_core.schema import Column, ColumnType, CreateTable, DropTable, Table

SERVER = urlsplit(SERVERS["mysql"])
HOST, PORT = SERVER.hostname or "127.0.0.1", SERVER.port or 3306
ROOT, ROOT_PASSWORD = SERVER.username or "root", SERVER.password or ""
PLUGINS = Plugins.load()
DIALECT = PLUGINS.dialect("mysql")
FAKE_PASSWORD = f"never-shown-{uuid.uuid4().hex[:8]}"  # must appear in no message or repr


admin = mysql_admin  # one statement as the admin (covet's adapter is what is under test)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A fresh database on the server (skipped when unreachable, failing under CI)."""
    with database_target("mysql", tmp_path) as target:
        yield urlsplit(target.url).path.lstrip("/")


@pytest.fixture
def url(database: str) -> str:
    password = f":{urlquote(ROOT_PASSWORD, safe='')}" if ROOT_PASSWORD else ""
    return f"mysql://{ROOT}{password}@{HOST}:{PORT}/{database}"


@pytest.fixture
async def mysql(url: str) -> AsyncIterator[MySQLAdapter]:
    adapter = MySQLAdapter.from_url(url)
    await adapter.connect()
    yield adapter
    await adapter.disconnect()


def get_lock(adapter: Any, **options: Any) -> Any:
    factory = PLUGINS.lock_strategies.get("mysql_get_lock")
    return factory(adapter=adapter, dialect=DIALECT, options=options, plugins=PLUGINS)


# -- construction (no server) ------------------------------------------------------------------


def test_kwargs_urls_and_repr_never_show_the_password():
    adapter = MySQLAdapter.from_url(
        "mariadb://app%40eu:p%40ss%3Aw%2Fd@db.example:3307/shop?connect_timeout=5&ssl=true"
    )
    assert (adapter.user, adapter.host, adapter.port, adapter.database) == (
        "app@eu", "db.example", 3307, "shop",
    )  # fmt: skip
    assert adapter._password == "p@ss:w/d"  # noqa: S105  # a made-up password, decoded
    assert (adapter.connect_timeout, adapter.ssl, adapter.charset) == (5.0, True, "utf8mb4")
    assert "p@ss" not in repr(adapter) and "db.example" in repr(adapter)
    plain = MySQLAdapter.from_url("mysql://localhost")
    assert (plain.user, plain.port, plain.database, plain._password, plain.ssl) == (
        "root", 3306, None, None, None,
    )  # fmt: skip
    kwargs = MySQLAdapter(host="h", port=1234, database="d", user="u", password=FAKE_PASSWORD)
    assert (kwargs.host, kwargs.port, kwargs.database, kwargs.user) == ("h", 1234, "d", "u")
    assert FAKE_PASSWORD not in repr(kwargs)
    with pytest.raises(ConfigError, match=r"unknown MySQL URL option\(s\): pool_size; known: "):
        MySQLAdapter.from_url("mysql://u@h/d?pool_size=3")
    for bad in (
        "postgresql://u@h/d",
        "mysql://u@h:port/d",
        "mysql://u@h/d/extra",
        "mysql://u@h/d?ssl=maybe",
        "mysql://u@h/d?connect_timeout=soon",
    ):
        with pytest.raises(ConfigError):
            MySQLAdapter.from_url(bad)
    with pytest.raises(ConfigError, match="not both"):
        MySQLAdapter(connection=object(), pool=object())


def test_dialect_quotes_with_backticks_and_loads_no_driver():
    assert DIALECT.quote("a`b") == "`a``b`"
    assert DIALECT.qualified("db", "t") == "`db`.`t`"
    with pytest.raises(ValueError, match="NUL"):
        DIALECT.quote("a\x00b")
    assert PLUGINS.dialect_for_url("mariadb://h/d") is DIALECT
    assert DIALECT.table_exists_sql("t").params == ("t",)
    probe = (
        "import sys; from covet_core.plugins import Plugins; "
        "d = Plugins.load().dialect('mysql'); d.quote('x'); "
        "assert 'aiomysql' not in sys.modules and 'pymysql' not in sys.modules, 'driver loaded'"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


ALL_TYPES = Table(
    "every`type",
    (
        Column("id", ColumnType("bigint"), nullable=False),
        Column("name", ColumnType("string", 80), nullable=False, default="'x'"),
        Column("code", ColumnType("string")),
        Column("body", ColumnType("text")),
        Column("n", ColumnType("integer")),
        Column("small", ColumnType("smallint")),
        Column("flag", ColumnType("boolean"), nullable=False, default="0"),
        Column("ratio", ColumnType("float")),
        Column("price", ColumnType("decimal", precision=12, scale=2)),
        Column("at", ColumnType("timestamp")),
        Column("day", ColumnType("date")),
        Column("blob", ColumnType("binary")),
    ),
    primary_key=("id", "name"),
)

ALL_TYPES_SQL = """CREATE TABLE IF NOT EXISTS `every``type` (
    `id` BIGINT NOT NULL,
    `name` VARCHAR(80) NOT NULL DEFAULT 'x',
    `code` VARCHAR(255),
    `body` TEXT,
    `n` INT,
    `small` SMALLINT,
    `flag` BOOLEAN NOT NULL DEFAULT 0,
    `ratio` DOUBLE,
    `price` DECIMAL(12,2),
    `at` DATETIME(6),
    `day` DATE,
    `blob` LONGBLOB,
    PRIMARY KEY (`id`, `name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def test_render_create_and_drop_table_with_every_portable_type():
    create = CreateTable(ALL_TYPES, if_not_exists=True)
    assert PLUGINS.render_operation(create, DIALECT) == [ALL_TYPES_SQL]
    drop = DropTable("t`1", schema="app", if_exists=True)
    assert PLUGINS.render_operation(drop, DIALECT) == ["DROP TABLE IF EXISTS `app`.`t``1`"]
    assert PLUGINS.render_operation(DropTable("t"), DIALECT) == ["DROP TABLE `t`"]
    # Another dialect's operations are not ours to render.
    assert PLUGINS.render_operation(drop, PLUGINS.dialect("sqlite")) != [
        "DROP TABLE IF EXISTS `app`.`t``1`"
    ]


def test_long_lock_names_are_shortened_stably():
    assert lock_name("shop", "_covet_migrations") == "covet:shop:_covet_migrations"
    long_a, long_b = lock_name("d" * 64, "h" * 40), lock_name("d" * 64, "h" * 41)
    assert len(long_a) == 64 and long_a == lock_name("d" * 64, "h" * 40) and long_a != long_b


# -- statements and transactions ---------------------------------------------------------------


async def test_rows_are_dicts_and_errors_are_translated(mysql):
    await mysql.execute("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))")
    assert await mysql.execute("INSERT INTO t VALUES (%s, %s), (2, 'b%%')", (1, "a")) == 2
    assert await mysql.fetch_all("SELECT id, name FROM t ORDER BY id") == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": "b%"},
    ]
    # No parameters: the SQL goes out untouched, so a literal % needs no escaping.
    assert await mysql.fetch_value("SELECT name FROM t WHERE name LIKE 'b%'") == "b%"
    assert await mysql.fetch_one("SELECT id FROM t WHERE id = %s", (99,)) is None
    assert await mysql.fetch_value("SELECT id FROM t WHERE id = %s", (99,)) is None
    with pytest.raises(DatabaseError, match="literal % as %%"):
        await mysql.execute("SELECT id FROM t WHERE name LIKE 'b%' AND id = %s", (2,))
    with pytest.raises(IntegrityError, match=r"Duplicate entry .*\(MySQL error 1062\)"):
        await mysql.execute("INSERT INTO t VALUES (1, 'again')")
    with pytest.raises(DatabaseError, match=r"doesn't exist \(MySQL error 1146\)") as info:
        await mysql.execute("SELECT * FROM missing")
    assert not isinstance(info.value, IntegrityError)
    await mysql.executemany("INSERT INTO t VALUES (%s, %s)", [(3, "c"), (4, "d")])
    await mysql.executemany("INSERT INTO t VALUES (%s, %s)", [])
    assert await mysql.fetch_value("SELECT count(*) FROM t") == 4
    with pytest.raises(IntegrityError):
        await mysql.executemany("INSERT INTO t VALUES (%s, %s)", [(5, "e"), (5, "e")])


async def test_transaction_commits_rolls_back_and_nests(mysql):
    await mysql.execute("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
    with pytest.raises(RuntimeError):
        async with mysql.transaction():
            await mysql.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("undo")
    assert await mysql.fetch_value("SELECT count(*) FROM t") == 0
    async with mysql.transaction():
        await mysql.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(IntegrityError):
            async with mysql.transaction():  # a savepoint: only the inner part is undone
                await mysql.execute("INSERT INTO t VALUES (2)")
                await mysql.execute("INSERT INTO t VALUES (1)")
        async with mysql.transaction():
            await mysql.execute("INSERT INTO t VALUES (3)")
    assert await mysql.fetch_all("SELECT id FROM t ORDER BY id") == [{"id": 1}, {"id": 3}]
    assert not mysql.connection.get_transaction_status()
    # DDL commits implicitly and drops the savepoint: leaving the blocks must not trip on that.
    async with mysql.transaction(), mysql.transaction():
        await mysql.execute("INSERT INTO t VALUES (4)")
        await mysql.execute("CREATE TABLE u (id INT)")
    with pytest.raises(RuntimeError):
        async with mysql.transaction(), mysql.transaction():
            await mysql.execute("DROP TABLE u")
            raise RuntimeError("too late to undo")
    assert await mysql.fetch_value("SELECT count(*) FROM t") == 3


async def test_aware_datetimes_are_stored_as_utc(mysql):
    await mysql.execute("CREATE TABLE e (at DATETIME(6))")
    berlin = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    await mysql.execute("INSERT INTO e VALUES (%s)", (berlin,))
    await mysql.executemany("INSERT INTO e VALUES (%s)", [(berlin,)])
    stored = [r["at"] for r in await mysql.fetch_all("SELECT at FROM e")]
    assert stored == [datetime(2024, 3, 1, 11, 30, 15, 123456)] * 2  # naive UTC
    assert stored[0].replace(tzinfo=UTC) == berlin
    assert await mysql.fetch_value("SELECT @@session.time_zone") == "+00:00"


async def test_rendered_ddl_runs_on_the_server(mysql):
    await mysql.execute(ALL_TYPES_SQL)
    stmt = DIALECT.table_exists_sql("every`type")
    assert await mysql.fetch_one(stmt.text, stmt.params) is not None
    for sql in PLUGINS.render_operation(DropTable("every`type", if_exists=True), DIALECT):
        await mysql.execute(sql)
    assert await mysql.fetch_one(stmt.text, stmt.params) is None


# -- whole migrations through the core ---------------------------------------------------------


async def test_migration_writes_history_and_records_partial_failures(mysql, migrations_dir):
    write_migration(
        migrations_dir,
        "2024_01_01_000000_create_a",
        ["CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(20))", "INSERT INTO a VALUES (1, 'x')"],
        ["DROP TABLE a"],
    )
    manager = MigrationManager(mysql, "mysql", migrations_dir)
    result = await manager.migrate_up()
    assert result["success"], result["error"]
    rows = await mysql.fetch_all("SELECT name, state, statements_done FROM _covet_migrations")
    assert rows == [
        {"name": "2024_01_01_000000_create_a", "state": "applied", "statements_done": None}
    ]
    assert await mysql.fetch_all("SELECT id, name FROM a") == [{"id": 1, "name": "x"}]
    # DDL is not transactional here: a failure after statement 1 is recorded as partial.
    write_migration(
        migrations_dir,
        "2024_01_02_000000_create_b",
        ["CREATE TABLE b (id INT)", "CREATE TABLE b (id INT)"],
        ["DROP TABLE b"],
    )
    failed = await manager.migrate_up()
    assert not failed["success"] and "partial" in failed["error"]
    row = await mysql.fetch_one(
        "SELECT state, statements_done FROM _covet_migrations WHERE name = %s",
        ("2024_01_02_000000_create_b",),
    )
    assert row == {"state": "partial", "statements_done": 1}


async def test_wraps_a_connection_the_caller_owns(database, migrations_dir):
    write_migration(
        migrations_dir, "2024_01_01_000000_a", ["CREATE TABLE a (id INT)"], ["DROP TABLE a"]
    )
    conn = await aiomysql.connect(
        host=HOST, port=PORT, user=ROOT, password=ROOT_PASSWORD, db=database
    )
    try:
        assert not conn.get_autocommit()  # aiomysql's default: manual commit
        adapter = MySQLAdapter(connection=conn)
        await adapter.connect()
        assert await adapter.open_sibling() is None  # its credentials are unknown
        result = await MigrationManager(adapter, "mysql", migrations_dir).migrate_up()
        assert result["success"], result["error"]
        # Without a sibling the lock lives on the adapter's own connection.
        lock = get_lock(adapter)
        await lock.acquire(0)
        own_id = await adapter.fetch_value("SELECT CONNECTION_ID()")
        holder = await lock.holder()
        assert holder.pid == os.getpid() and holder.owner == f"connection {own_id}"
        await lock.release()
        assert await lock.holder() is None
        await adapter.disconnect()
        # Still the caller's, still open, back in its own commit mode, and it sees the history.
        assert not conn.closed and not conn.get_autocommit()
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT count(*) FROM _covet_migrations")
            assert (await cursor.fetchone())[0] == 1
    finally:
        conn.close()


async def test_wraps_a_pool(database, migrations_dir):
    write_migration(
        migrations_dir, "2024_01_01_000000_a", ["CREATE TABLE a (id INT)"], ["DROP TABLE a"]
    )
    kwargs = dict(host=HOST, port=PORT, user=ROOT, password=ROOT_PASSWORD, db=database)
    pool = await aiomysql.create_pool(minsize=1, maxsize=3, **kwargs)
    small = await aiomysql.create_pool(minsize=1, maxsize=1, autocommit=True, **kwargs)
    try:
        adapter = MySQLAdapter(pool=pool)
        await adapter.connect()
        sibling = await adapter.open_sibling()
        assert sibling is not None and sibling._pool is pool
        result = await MigrationManager(adapter, "mysql", migrations_dir).migrate_up()
        assert result["success"], result["error"]
        await adapter.disconnect()
        assert pool.freesize == pool.size  # every connection went back
        async with pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute("SELECT count(*) FROM _covet_migrations")
            assert (await cursor.fetchone())[0] == 1
        # A full pool offers no sibling (waiting for one would deadlock): the lock falls back.
        full = MySQLAdapter(pool=small)
        await full.connect()
        assert await full.open_sibling() is None
        assert (await MigrationManager(full, "mysql", migrations_dir).migrate_down())["success"]
        await full.disconnect()
        assert small.freesize == 1
    finally:
        for p in (pool, small):
            p.terminate()  # close() would wait forever for a connection a failure leaked
            await p.wait_closed()


# -- connection failures -----------------------------------------------------------------------


@pytest.fixture
async def throwaway_user(database: str) -> AsyncIterator[tuple[str, str]]:
    """A user with a password (root has none here), dropped afterwards."""
    user, password = f"covet_u_{uuid.uuid4().hex[:8]}", f"R1ght@:/%{uuid.uuid4().hex[:8]}"
    await admin("CREATE USER %s@%s IDENTIFIED BY %s", (user, "%", password))
    try:
        await admin(f"GRANT ALL ON `{database}`.* TO %s@%s", (user, "%"))
        yield user, password
    finally:
        await admin("DROP USER IF EXISTS %s@%s", (user, "%"))


async def test_wrong_password_is_a_one_line_error_without_the_password(database, throwaway_user):
    user, password = throwaway_user
    encoded = urlquote(password, safe="")
    right = MySQLAdapter.from_url(f"mysql://{user}:{encoded}@{HOST}:{PORT}/{database}")
    await right.connect()  # the percent-encoded password decodes to the real one
    assert await right.fetch_value("SELECT CURRENT_USER()") == f"{user}@%"
    await right.disconnect()
    wrong_password = f"Wr0ng-{uuid.uuid4().hex}"
    for wrong in (
        MySQLAdapter.from_url(f"mysql://{user}:{wrong_password}@{HOST}:{PORT}/{database}"),
        MySQLAdapter(host=HOST, port=PORT, user=user, password=wrong_password, database=database),
    ):
        with pytest.raises(ConnectionFailedError) as info:
            await wrong.connect()
        message = str(info.value)
        assert message == (
            f"MySQL at {HOST}:{PORT} refused user '{user}' (access denied); check the user "
            f"name and password in the database URL"
        )
        assert wrong_password not in message and password not in message
        assert "\n" not in message and info.value.__cause__ is None


async def test_unknown_database_closed_port_and_silent_server(database):
    missing = f"{database}_missing"
    with pytest.raises(ConnectionFailedError, match=f"database '{missing}' does not exist"):
        await MySQLAdapter(host=HOST, port=PORT, user=ROOT, password=ROOT_PASSWORD,
                           database=missing).connect()  # fmt: skip
    closed = MySQLAdapter(host="127.0.0.1", port=1, password=FAKE_PASSWORD)
    with pytest.raises(ConnectionFailedError) as info:
        await closed.connect()
    assert str(info.value).startswith(
        "cannot connect to MySQL at 127.0.0.1:1 (connection refused); check that the server"
    )
    assert FAKE_PASSWORD not in str(info.value)
    # A server that accepts the TCP connection and never greets: the handshake must time out.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        hung = MySQLAdapter(
            host="127.0.0.1", port=port, password=FAKE_PASSWORD, connect_timeout=0.3
        )
        with pytest.raises(ConnectionFailedError, match=r"^timed out after 0\.3s connecting"):
            await hung.connect()
    with pytest.raises(ConnectionFailedError, match="not connected"):
        await hung.execute("SELECT 1")
    if (await admin("SELECT @@have_ssl"))[0][0] != "YES":
        # aiomysql alone would carry on in plain text: ssl=true must mean SSL or nothing.
        plain = MySQLAdapter(host=HOST, port=PORT, user=ROOT, password=ROOT_PASSWORD, ssl=True)
        with pytest.raises(ConnectionFailedError, match=r"does not offer SSL, which the ssl"):
            await plain.connect()


# -- the GET_LOCK strategy ---------------------------------------------------------------------


async def test_get_lock_busy_release_and_forced_unlock(mysql, url, database):
    other = MySQLAdapter.from_url(url)
    await other.connect()
    try:
        first, second = get_lock(mysql), get_lock(other)
        assert await first.holder() is None and await first.force_release() is None
        await first.acquire(5)
        rows = await admin("SELECT IS_USED_LOCK(%s)", (f"covet:{database}:_covet_migrations",))
        holder_id = rows[0][0]
        assert holder_id != await mysql.fetch_value("SELECT CONNECTION_ID()")  # its own session
        with pytest.raises(LockTimeoutError) as busy:
            await second.acquire(0.2)
        assert str(busy.value).startswith("Cannot acquire migration lock: held by ")
        # The holder's own note names this process; the server session is kept as the owner.
        assert f"{socket.gethostname()}/{os.getpid()} since " in str(busy.value)
        holder = await second.holder()
        assert holder.pid == os.getpid() and holder.owner == f"connection {holder_id}"
        assert abs(datetime.now(UTC) - holder.since) < timedelta(minutes=1)
        # Another history table is another lock.
        separate = get_lock(other, history_table="other_history")
        await separate.acquire(0)
        await separate.release()
        await first.release()
        await first.release()  # twice is safe
        await second.acquire(0)
        second_owner = (await first.holder()).owner
        with pytest.raises(LockError, match=f"live server session .*{second_owner}.*--force"):
            await get_lock(mysql).force_release()
        killed = await get_lock(mysql).force_release(force=True)
        assert killed is not None and killed.owner == second_owner
        await first.acquire(5)  # the server released it with the killed session
        await second.release()  # its session is gone: nothing to do, and no error
        await first.release()
        assert await first.holder() is None
    finally:
        await other.disconnect()


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from covet_core.plugins import Plugins

    async def main():
        plugins = Plugins.load()
        dialect = plugins.dialect("mysql")
        adapter = dialect.adapter_from_url(sys.argv[1], None)
        await adapter.connect()
        factory = plugins.lock_strategies.get("mysql_get_lock")
        lock = factory(adapter=adapter, dialect=dialect, options={}, plugins=plugins)
        await lock.acquire(10)
        print((await lock.holder()).pid, flush=True)
        sys.stdin.readline()  # hold until killed

    asyncio.run(main())
    """
)


async def test_server_releases_the_lock_of_a_process_killed_with_sigkill(mysql, url):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        holder_id = int(proc.stdout.readline())  # synchronise on the pipe, not on time
        lock = get_lock(mysql)
        assert (await lock.holder()).pid == holder_id
        with pytest.raises(LockTimeoutError, match=f"/{holder_id} since"):
            await lock.acquire(0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The kernel closes the socket, the server ends the session and frees the lock; GET_LOCK
        # waits for that server-side.
        await lock.acquire(5)
        assert (await lock.holder()).pid != holder_id
        await lock.release()
    finally:
        proc.kill()
        proc.wait()
