"""What suite tests share: the scratch database, capability gates, async tests without a
pytest-asyncio dependency, and writing migration files the way a user would."""

from __future__ import annotations

import asyncio
import functools
import inspect
import textwrap
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from covet_core.adapter import Adapter
from covet_core.dialect import Dialect
from covet_core.manager import MigrationManager
from covet_core.plugins import Plugins


@dataclass
class ScratchDatabase:
    """One empty database made for one test by the dialect's provisioner."""

    url: str
    base_url: str
    dialect: Dialect
    plugins: Plugins
    workdir: Path

    def new_adapter(self) -> Adapter:
        """A second, unconnected adapter on the same database (another session)."""
        return self.dialect.adapter_from_url(self.url, self.workdir)

    async def table_exists(self, adapter: Adapter, table: str) -> bool:
        stmt = self.dialect.table_exists_sql(table)
        return await adapter.fetch_one(stmt.text, stmt.params) is not None

    def manager(self, adapter: Adapter, migrations: Path, **kwargs: Any) -> MigrationManager:
        return MigrationManager(adapter, self.dialect, migrations, plugins=self.plugins, **kwargs)

    def q(self, name: str) -> str:
        return self.dialect.quote(name)

    def p(self, count: int) -> str:
        """``count`` parameter markers, comma separated."""
        return ", ".join(self.dialect.params(count))


def requires(dialect: Dialect, flag: str, why: str) -> None:
    """Skip the calling test unless ``dialect`` declares capability ``flag``; the reason names
    the flag, so a skip is never silent about what ruled the test out."""
    if not getattr(dialect.capabilities, flag):
        pytest.skip(f"{dialect.name} declares {flag}=False: {why}")


def requires_worker(dialect: Dialect, field: str, why: str) -> None:
    """Skip unless the optional ``Dialect`` field ``field`` is provided."""
    if getattr(dialect, field) is None:
        pytest.skip(f"{dialect.name} declares {field}=None: {why}")


TestFn = Callable[..., Coroutine[Any, Any, None]]


def asynctest(fn: TestFn) -> Callable[..., None]:
    """Run an ``async def`` test on the test's own event loop (the ``covet_runner`` fixture),
    the loop its ``covet_adapter`` was connected on. No pytest-asyncio needed by the caller."""
    signature = inspect.signature(fn)
    wants_runner = "covet_runner" in signature.parameters

    @functools.wraps(fn)
    def wrapper(*args: Any, covet_runner: asyncio.Runner, **kwargs: Any) -> None:
        if wants_runner:
            kwargs["covet_runner"] = covet_runner
        covet_runner.run(fn(*args, **kwargs))

    params = [p for p in signature.parameters.values() if p.name != "covet_runner"]
    runner = inspect.Parameter("covet_runner", inspect.Parameter.KEYWORD_ONLY)
    # pytest reads the fixtures a test wants from its signature.
    wrapper.__signature__ = signature.replace(parameters=[*params, runner])  # type: ignore[attr-defined]
    del wrapper.__wrapped__  # pytest would otherwise see the coroutine function's signature
    return wrapper


def write_migration(
    directory: Path,
    name: str,
    forward: Sequence[str] = (),
    backward: Sequence[str] = (),
    *,
    atomic: bool = True,
    body: str = "",
) -> Path:
    """Write ``<name>.py`` with one ``Migration`` subclass, as a user would."""
    class_body = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") if body else ""
    source = (
        "from covet_core.migration import Migration\n\n\n"
        "class M(Migration):\n"
        f"    forward_sql = {list(forward)!r}\n"
        f"    backward_sql = {list(backward)!r}\n"
        f"    atomic = {atomic!r}\n"
        f"{class_body}\n"
    )
    path = directory / f"{name}.py"
    path.write_text(source)
    return path
