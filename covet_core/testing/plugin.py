"""The pytest plugin behind ``covet_core.testing`` (entry point ``pytest11: covet``).

Only fixtures named ``covet_*`` and ``--covet-*`` options: a project that installs covet but
never uses the suite or the project tests sees nothing else of it. The project fixtures are
defined in ``project_fixtures`` and registered here, at plugin level, so that a project's
conftest.py can override each of them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from covet_core.adapter import Adapter
from covet_core.dialect import Dialect
from covet_core.plugins import Plugins
from covet_core.testing.project_fixtures import (  # noqa: F401 - registered as fixtures here
    covet_manager,
    covet_migrated_to,
    covet_migrations_dir,
    covet_models,
    covet_prepare,
    covet_project,
    covet_scratch,
)
from covet_core.testing.support import ScratchDatabase

# The suite's asserts must explain themselves like the caller's own tests do.
pytest.register_assert_rewrite("covet_core.testing.suite", "covet_core.testing.project")

URL_ENV = "COVET_TEST_URL"
# Base URL -> why it could not be reached ("" when it could): asked once per process.
_reachable: dict[str, str] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("covet", "covet dialect conformance suite")
    group.addoption(
        "--covet-url",
        default=None,
        help=f"database URL the conformance suite and covet's project tests make their "
        f"scratch databases next to (default: ${URL_ENV})",
    )
    # The project tests (covet_core.testing.project) read these; docs/testing.md.
    group.addoption(
        "--covet-models",
        action="append",
        default=None,
        help="models (myapp.models or path/models.py) the project tests compare with the "
        "database after all migrations; repeatable (ini: covet_models)",
    )
    group.addoption(
        "--covet-config",
        default=None,
        help="covet.toml (or pyproject.toml) of the project under test (ini: covet_config; "
        "default: found from pytest's rootdir upward, as the covet command does)",
    )
    parser.addini(
        "covet_test_url",
        "database URL the project tests make their scratch databases next to",
        default=None,
    )
    parser.addini("covet_models", "models the project tests compare", type="linelist")
    parser.addini("covet_config", "covet.toml of the project under test", default=None)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def covet_url(request: pytest.FixtureRequest) -> str:
    """The base URL: ``--covet-url`` or ``$COVET_TEST_URL``. A test module may define its own
    ``covet_url`` fixture instead (covet's built-in dialects do)."""
    url = request.config.getoption("covet_url") or os.environ.get(URL_ENV)
    if not url:
        pytest.skip(f"covet suite: no database given; pass --covet-url URL or set {URL_ENV}")
    return str(url)


@pytest.fixture(scope="session")
def covet_plugins() -> Plugins:
    return Plugins.load()


@pytest.fixture
def covet_dialect(covet_url: str, covet_plugins: Plugins) -> Dialect:
    """The dialect whose URL scheme ``covet_url`` uses, found through the installed plugins."""
    return covet_plugins.dialect_for_url(covet_url)


@pytest.fixture
def covet_runner() -> Iterator[asyncio.Runner]:
    """The test's own event loop: connections made on it are used on it only."""
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture
def covet_database(
    covet_url: str,
    covet_dialect: Dialect,
    covet_plugins: Plugins,
    covet_runner: asyncio.Runner,
    tmp_path: Path,
) -> Iterator[ScratchDatabase]:
    """A fresh database made by the dialect's provisioner, dropped after the test."""
    provisioner = covet_dialect.provisioner
    if provisioner is None:
        pytest.skip(
            f"{covet_dialect.name} declares provisioner=None: the suite needs scratch databases"
        )
    _reachable_or_skip(covet_runner, covet_dialect, covet_url)
    workdir = tmp_path / "covet-work"
    workdir.mkdir()
    name = f"covet_s_{uuid.uuid4().hex[:12]}"
    url = covet_runner.run(provisioner.create(covet_url, name, tmp_path))
    try:
        yield ScratchDatabase(url, covet_url, covet_dialect, covet_plugins, workdir)
    finally:
        covet_runner.run(provisioner.drop(covet_url, url))


@pytest.fixture
def covet_adapter(
    covet_database: ScratchDatabase, covet_runner: asyncio.Runner
) -> Iterator[Adapter]:
    """An adapter connected to ``covet_database`` on ``covet_runner``'s loop."""
    adapter = covet_database.new_adapter()
    covet_runner.run(adapter.connect())
    try:
        yield adapter
    finally:
        covet_runner.run(adapter.disconnect())


@pytest.fixture
def covet_migrations(tmp_path: Path) -> Path:
    """An empty migrations folder."""
    path = tmp_path / "covet-migrations"
    path.mkdir()
    return path


def _reachable_or_skip(runner: asyncio.Runner, dialect: Dialect, base_url: str) -> None:
    """Skip (fail under ``CI=true``) when the base URL's server cannot be connected to."""
    if base_url not in _reachable:
        try:
            runner.run(_ping(dialect, base_url))
            _reachable[base_url] = ""
        except Exception as exc:  # any failure to connect means the same here
            _reachable[base_url] = f"{type(exc).__name__}: {exc}"
    if _reachable[base_url]:
        # Not the URL itself: it may hold a password.
        message = f"covet suite: {dialect.name} server is unreachable ({_reachable[base_url]})"
        if in_ci():
            pytest.fail(message + "; CI=true requires it")
        pytest.skip(message)


async def _ping(dialect: Dialect, url: str) -> None:
    adapter = dialect.adapter_from_url(url, None)
    await adapter.connect()
    await adapter.disconnect()
