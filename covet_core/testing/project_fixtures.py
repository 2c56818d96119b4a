"""Fixtures for testing a project's own migrations (docs/testing.md).

They are registered by covet's pytest plugin, at the lowest priority, so a project's
``conftest.py`` overrides any of them (``covet_models``, ``covet_prepare``) by defining a fixture
of the same name. Every database they hand out was made by the dialect's provisioner for one
test and is dropped after it.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from covet_core.adapter import Adapter
from covet_core.manager import MigrationManager
from covet_core.plugins import Plugins
from covet_core.testing.project_setup import Project, describe_base, load_project, skip_or_fail
from covet_core.testing.support import ScratchDatabase

Prepare = Callable[[Adapter], Awaitable[None]]
MigratedTo = Callable[[str], Awaitable[Adapter]]

__all__ = [
    "MigratedTo",
    "Prepare",
    "covet_manager",
    "covet_migrated_to",
    "covet_migrations_dir",
    "covet_models",
    "covet_prepare",
    "covet_project",
    "covet_scratch",
]


@pytest.fixture
def covet_project(request: pytest.FixtureRequest, covet_plugins: Plugins) -> Project:
    """The project's settings (its covet.toml), the base URL and the dialect it names."""
    return load_project(request.config, covet_plugins)


@pytest.fixture
def covet_migrations_dir(covet_project: Project) -> Path:
    """The project's migrations folder, from its covet settings (``migrations_dir``)."""
    return covet_project.migrations_dir


@pytest.fixture
def covet_models(request: pytest.FixtureRequest) -> list[ModuleType]:
    """The model modules of ``--covet-models`` / ini ``covet_models``; empty: no models, and
    the models test skips. Override it in conftest.py to return modules or Model classes."""
    specs = request.config.getoption("covet_models") or request.config.getini("covet_models")
    return [_import_models(spec, Path(request.config.invocation_params.dir)) for spec in specs]


@pytest.fixture
def covet_prepare() -> Prepare | None:
    """Awaited with each connection the project tests open, before it is used: override it to
    do what the application does on every connection (register SQL functions, set a search
    path). ``None``: nothing to do."""
    return None


@pytest.fixture
def covet_scratch(
    covet_project: Project, covet_runner: asyncio.Runner, tmp_path: Path
) -> Iterator[ScratchDatabase]:
    """A new, empty database made by the dialect's provisioner next to the base URL."""
    dialect = covet_project.dialect
    if dialect.provisioner is None:
        pytest.skip(f"{dialect.name} declares provisioner=None: no scratch databases to test on")
    workdir = tmp_path / "covet-work"
    workdir.mkdir()
    name = f"covet_p_{uuid.uuid4().hex[:12]}"
    base = covet_project.base_url
    try:
        url = covet_runner.run(dialect.provisioner.create(base, name, tmp_path))
    except Exception as exc:  # the server is down, no CREATE DATABASE right, ...: same to us
        skip_or_fail(
            f"covet project tests: cannot make a scratch database next to "
            f"{describe_base(covet_project)}: {type(exc).__name__}: {exc}"
        )
    try:
        yield ScratchDatabase(url, base, dialect, covet_project.plugins, workdir)
    finally:
        covet_runner.run(dialect.provisioner.drop(base, url))


async def connect(db: ScratchDatabase, prepare: Prepare | None) -> Adapter:
    adapter = db.new_adapter()
    await adapter.connect()
    if prepare is not None:
        await prepare(adapter)
    return adapter


def new_manager(adapter: Adapter, project: Project, migrations_dir: Path) -> MigrationManager:
    """A manager with the project's own settings that matter to what runs."""
    s = project.settings
    return MigrationManager(
        adapter, project.dialect, migrations_dir, plugins=project.plugins,
        history_table=s.history_table, ddl_lock_timeout=s.ddl_lock_timeout,
        ddl_retries=s.ddl_retries, out_of_order="allow",  # a fresh database is never out of order
    )  # fmt: skip


@pytest.fixture
def covet_manager(
    covet_scratch: ScratchDatabase,
    covet_project: Project,
    covet_migrations_dir: Path,
    covet_prepare: Prepare | None,
    covet_runner: asyncio.Runner,
) -> Iterator[MigrationManager]:
    """A ``MigrationManager`` for the project's migrations on a scratch database, connected on
    ``covet_runner``'s loop: use it in ``@asynctest`` tests."""
    adapter = covet_runner.run(connect(covet_scratch, covet_prepare))
    try:
        yield new_manager(adapter, covet_project, covet_migrations_dir)
    finally:
        covet_runner.run(adapter.disconnect())


@pytest.fixture
def covet_migrated_to(covet_manager: MigrationManager) -> MigratedTo:
    """``adapter = await covet_migrated_to("2024_01_01_000000_name")``: the scratch database
    migrated up (or back down) to exactly that migration; fails the test naming the migration
    that did not apply. Call it again to move on: a data migration's before and after."""

    async def migrated_to(name: str) -> Adapter:
        names = [m.name for m in covet_manager.load_migrations()]
        if name not in names:
            pytest.fail(f"{name} is not a migration in {covet_manager.migrations_dir}")
        applied = {s.name for s in await covet_manager.get_status() if s.applied}
        later = names[names.index(name) + 1 :]
        if any(n in applied for n in later):
            result = await covet_manager.migrate_down(target=name)
            verb = "roll back to"
        else:
            result = await covet_manager.migrate_up(target=name)
            verb = "migrate up to"
        if not result["success"]:
            pytest.fail(f"cannot {verb} {name}: {result['error']}", pytrace=False)
        return covet_manager.adapter

    return migrated_to


def _import_models(spec: str, cwd: Path) -> ModuleType:
    """``myapp.models`` (importable from where pytest was started) or ``path/to/models.py``."""
    if str(cwd) not in sys.path:
        sys.path.insert(0, str(cwd))
    try:
        if spec.endswith(".py"):
            path = cwd / spec
            if not path.is_file():
                raise FileNotFoundError(f"no such file {path}")
            name = ".".join(path.relative_to(cwd).with_suffix("").parts)
            return importlib.import_module(name)
        return importlib.import_module(spec)
    except Exception as exc:  # whatever the user's module raises: report it as the cause
        pytest.fail(f"covet_models: cannot import {spec!r}: {type(exc).__name__}: {exc}")
