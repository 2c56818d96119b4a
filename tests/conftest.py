"""Fixtures shared by every tier.

Behaviour tests take the ``target`` fixture, parametrized over every dialect with a real
database: each test gets a fresh, uniquely named database and drops it afterwards. Outside CI a
dialect whose server is unreachable is skipped with the reason; with ``CI=true`` it fails.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from click.testing import CliRunner, Result

from covet_core.dialect import Dialect
from covet_core.log import set_setup
from covet_core.plugins import Plugins
from covet_core.testing.support import ScratchDatabase

IN_CI = os.environ.get("CI", "").lower() == "true"
DIALECTS = ["sqlite", "postgresql", "mysql"]
# The base (admin) URL of each dialect: its provisioner makes each test's own database there.
# SQLite's provisioner needs no server; its base is only connected to check it can be opened.
SERVERS = {
    "sqlite": "sqlite:///:memory:",
    "postgresql": os.environ.get(
        "COVET_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("COVET_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test"),
}
_unreachable: dict[str, str] = {}


class Target(ScratchDatabase):
    """One real database for one test: the suite's scratch database, named by dialect."""

    @property
    def name(self) -> str:
        return self.dialect.name

    @property
    def env(self) -> dict[str, str]:
        return {"COVET_DATABASE_URL": self.url}


@pytest.fixture(params=DIALECTS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with database_target(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Target]:
    """A fresh PostgreSQL database, for PostgreSQL-only tests."""
    with database_target("postgresql", tmp_path) as made:
        yield made


@pytest.fixture
def mysql(tmp_path: Path) -> Iterator[Target]:
    """A fresh MySQL/MariaDB database, for MySQL-only tests."""
    with database_target("mysql", tmp_path) as made:
        yield made


@contextmanager
def database_target(name: str, tmp_path: Path) -> Iterator[Target]:
    """A fresh database of dialect ``name`` made by the dialect's own provisioner, dropped
    afterwards (skips when the server is unreachable; fails under CI)."""
    plugins = Plugins.load()
    dialect = plugins.dialect(name)
    assert dialect.provisioner is not None, f"{name} declares no provisioner"
    workdir = tmp_path / "work"
    workdir.mkdir(parents=True)
    base = SERVERS[name]
    _server_or_skip(dialect, base)
    database = f"covet_t_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(dialect.provisioner.create(base, database, tmp_path))
    try:
        yield Target(url, base, dialect, plugins, workdir)
    finally:
        asyncio.run(dialect.provisioner.drop(base, url))


def _server_or_skip(dialect: Dialect, base: str) -> None:
    name = dialect.name
    if name not in _unreachable:
        try:
            asyncio.run(_ping(dialect, base))
            _unreachable[name] = ""
        except Exception as exc:  # any failure to reach the server means the same here
            _unreachable[name] = f"{type(exc).__name__}: {exc}"
    if _unreachable[name]:
        message = f"{name} server at {base} is unreachable ({_unreachable[name]})"
        if IN_CI:
            pytest.fail(message + "; CI=true requires every database server")
        pytest.skip(message)


async def _ping(dialect: Dialect, url: str) -> None:
    adapter = dialect.adapter_from_url(url, None)
    await adapter.connect()
    await adapter.disconnect()


async def mysql_admin(
    sql: str, params: Sequence[Any] | None = None, *, url: str | None = None
) -> tuple[Any, ...]:
    """One statement as the MySQL/MariaDB admin through the raw driver; returns its rows."""
    from urllib.parse import urlsplit

    import aiomysql

    parts = urlsplit(url or SERVERS["mysql"])
    conn = await aiomysql.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root",
        password=parts.password or "", db=parts.path.lstrip("/") or None, connect_timeout=5,
        autocommit=True,
    )  # fmt: skip
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(sql, params)
            return tuple(await cursor.fetchall())
    finally:
        conn.close()


@pytest.fixture
async def adapter(target: Target) -> AsyncIterator[Any]:
    adapter = target.new_adapter()
    await adapter.connect()
    yield adapter
    await adapter.disconnect()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``run("migrate", "up", env=...)``: the CLI in ``tmp_path`` with no covet variables set."""
    from covet_core.cli import cli

    monkeypatch.chdir(tmp_path)
    for var in ("COVET_DATABASE_URL", "COVET_MIGRATIONS_DIR"):
        monkeypatch.delenv(var, raising=False)

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    # The CLI configures structlog globally; no test may see another test's configuration.
    yield
    set_setup(None)
    structlog.reset_defaults()


def write_migration(
    directory: Path,
    name: str,
    forward: Sequence[str] = (),
    backward: Sequence[str] = (),
    *,
    dependencies: Sequence[str] = (),
    atomic: bool = True,
    body: str = "",
) -> Path:
    """Write a migration file the way a user would, through the guide's import path."""
    class_body = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") if body else ""
    source = (
        "from covet.database.migrations.runner import Migration\n\n\n"
        f"class M(Migration):\n"
        f"    dependencies = {list(dependencies)!r}\n"
        f"    forward_sql = {list(forward)!r}\n"
        f"    backward_sql = {list(backward)!r}\n"
        f"    atomic = {atomic!r}\n"
        f"{class_body}\n"
    )
    path = directory / f"{name}.py"
    path.write_text(source)
    return path


CHINOOK = Path(__file__).resolve().parents[2] / "shared/corpus/chinook/ChinookDatabase/DataSources"
CHINOOK_FILES = {
    "postgresql": "Chinook_PostgreSql.sql",
    "mysql": "Chinook_MySql.sql",
    "sqlite": "Chinook_Sqlite.sql",
}
DDL_PREFIXES = ("CREATE TABLE", "ALTER TABLE", "CREATE INDEX", "CREATE UNIQUE INDEX")


def chinook_ddl(dialect: Dialect) -> list[str]:
    """The schema statements of Chinook's script for ``dialect`` (its data and its CREATE
    DATABASE / USE / \\c lines left out). Skips when the corpus is absent; fails under CI."""
    path = CHINOOK / CHINOOK_FILES[dialect.name]
    if not path.exists():
        if IN_CI:
            pytest.fail(f"the Chinook corpus is missing under CI: {path}")
        pytest.skip(f"the Chinook corpus is not beside this checkout ({path})")
    assert dialect.split_statements is not None
    statements = []
    for statement in dialect.split_statements(path.read_text(encoding="utf-8-sig")):
        lines = [ln for ln in statement.splitlines() if not ln.lstrip().startswith(("\\", "--"))]
        text = "\n".join(lines).strip()
        while text.startswith("/*"):
            text = text[text.index("*/") + 2 :].strip()
        if text.upper().startswith(DDL_PREFIXES):
            statements.append(text)
    return statements
