"""Fixtures shared by every tier.

Behaviour tests take the ``target`` fixture, parametrized over every dialect with a real
database: each test gets a fresh, uniquely named database and drops it afterwards. Outside CI a
dialect whose server is unreachable is skipped with the reason; with ``CI=true`` it fails.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

from covet_core.dialect import Dialect
from covet_core.log import set_setup
from covet_core.plugins import Plugins

IN_CI = os.environ.get("CI", "").lower() == "true"
DIALECTS = ["sqlite"]


@dataclass
class Target:
    """One real database for one test."""

    name: str
    url: str
    dialect: Dialect
    workdir: Path

    def new_adapter(self) -> Any:
        return self.dialect.adapter_from_url(self.url, self.workdir)

    async def table_exists(self, adapter: Any, table: str) -> bool:
        stmt = self.dialect.table_exists_sql(table)
        return await adapter.fetch_one(stmt.text, stmt.params) is not None

    @property
    def env(self) -> dict[str, str]:
        return {"COVET_DATABASE_URL": self.url}


@pytest.fixture(params=DIALECTS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    name = request.param
    dialect = Plugins.load().dialect(name)
    workdir = tmp_path / "work"
    workdir.mkdir()
    if name == "sqlite":
        yield Target(name, f"sqlite:///{tmp_path / 'test.db'}", dialect, workdir)
        return
    raise AssertionError(f"no test database recipe for dialect {name}")  # pragma: no cover


@pytest.fixture
async def adapter(target: Target) -> AsyncIterator[Any]:
    adapter = target.new_adapter()
    await adapter.connect()
    yield adapter
    await adapter.disconnect()


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
