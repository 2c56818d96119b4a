"""What the project tests (``covet_core.testing.project``) stand on: the user's covet settings,
the base URL their scratch databases are made next to, and schemas read and compared.

Safety: the tests only ever write to a database the dialect's provisioner made for them. The
configured ``database`` is at most the *base* a scratch database is made next to (the same
server and credentials); it is never connected to as the database under test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from covet_core.adapter import Adapter
from covet_core.config import ENV_DATABASE, Settings, load_settings, redact_url
from covet_core.dialect import Dialect
from covet_core.errors import CovetError
from covet_core.plugins import Plugins
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.model import Schema
from covet_core.schema.operations import CreateObject, DropObject, ReplaceObject
from covet_core.schema.reader import SchemaReader

URL_ENV = "COVET_TEST_URL"


@dataclass
class Project:
    """The user's project as the tests see it."""

    settings: Settings
    base_url: str
    """The URL scratch databases are made next to; never itself written to."""
    url_source: str
    """Where ``base_url`` came from, for messages (``--covet-url``, ``database in covet.toml``)."""
    dialect: Dialect
    plugins: Plugins

    @property
    def migrations_dir(self) -> Path:
        try:
            return self.settings.require_migrations_dir()
        except CovetError as error:
            pytest.fail(f"covet project tests: {error}", pytrace=False)

    def needs_schema_reader(self) -> None:
        """Skip the calling test when the dialect cannot read a live schema."""
        if self.dialect.schema_reader is None:
            pytest.skip(f"{self.dialect.name} declares schema_reader=None: no schema to compare")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(message: str) -> None:
    """Skip with ``message``; under ``CI=true`` fail, so a job never passes by testing nothing."""
    if in_ci():
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


def project_settings(config: pytest.Config, test_url: str | None) -> Settings:
    """The settings the ``covet`` command would use when run where pytest was started, or those
    of ``--covet-config`` / ini ``covet_config``."""
    cwd = Path(config.invocation_params.dir)
    config_file = config.getoption("covet_config") or config.getini("covet_config")
    env = dict(os.environ)
    if test_url:
        # The configured database is not used then: a ${VAR} in it that only production sets
        # must not stop the tests (a set COVET_DATABASE_URL is never expanded).
        env[ENV_DATABASE] = test_url
    try:
        if config_file:
            return load_settings(config_file=config_file, cwd=cwd, env=env)
        return load_settings(cwd=cwd, env=env)
    except CovetError as error:
        pytest.fail(f"covet project tests: {error}", pytrace=False)


def explicit_test_url(config: pytest.Config) -> tuple[str, str] | None:
    """``(url, where it came from)`` of an explicit test URL: ``--covet-url``,
    ``$COVET_TEST_URL``, then ini ``covet_test_url``."""
    explicit = (
        ("--covet-url", config.getoption("covet_url")),
        (URL_ENV, os.environ.get(URL_ENV)),
        ("ini covet_test_url", config.getini("covet_test_url")),
    )
    return next(((str(url), source) for source, url in explicit if url), None)


def load_project(config: pytest.Config, plugins: Plugins) -> Project:
    """The base URL is the explicit test URL, else the configured ``database``."""
    found = explicit_test_url(config)
    settings = project_settings(config, found[0] if found else None)
    if found is None and settings.database:
        found = settings.database, f"database from {settings.sources.get('database', 'config')}"
    if found is None:
        where = f" (searched {settings.searched})" if settings.searched else ""
        skip_or_fail(
            f"covet project tests: no database to make scratch databases next to{where}; "
            f"pass --covet-url URL, set {URL_ENV}, or configure covet's database"
        )
        raise AssertionError("unreachable: skip_or_fail raises")
    url, source = found
    try:
        dialect = plugins.dialect_for_url(url)
    except CovetError as error:
        pytest.fail(f"covet project tests: {source}: {error}", pytrace=False)
    return Project(settings, url, source, dialect, plugins)


async def read_schema(adapter: Adapter, project: Project) -> Schema:
    return await SchemaReader(adapter, project.dialect, plugins=project.plugins).read_schema()


def differences(actual: Schema, expected: Schema, project: Project) -> list[str]:
    """What would turn ``actual`` into ``expected``, one line each; empty when they are the
    same schema. Renames are not guessed: a down that renames wrongly is a drop and an add."""
    comparator = SchemaComparator(project.dialect, detect_renames=False, plugins=project.plugins)
    operations = comparator.compare(actual, expected).operations
    have, want = {str(i) for i in actual.ignored}, {str(i) for i in expected.ignored}
    # A redefined view, function or trigger is one "defined as" line below, not the drops,
    # replacements and re-creations the comparator plans for it and the views after it.
    lines = [
        op.describe()
        for op in operations
        if not isinstance(op, ReplaceObject | DropObject)
        and not (isinstance(op, CreateObject) and str(op.obj) in have)
    ]
    # Views, triggers, procedures: objects the schema model knows by name only. The comparator
    # leaves those only ``actual`` has alone and recreates the carried ones only ``expected``
    # has (CreateObject); every other one is named here.
    created = {str(op.obj) for op in operations if isinstance(op, CreateObject)}
    lines += [f"drop {name} (left behind)" for name in sorted(have - want)]
    lines += [f"create {name} (missing)" for name in sorted(want - have - created)]
    definitions = {str(c): c.create for c in actual.carried}
    for carried in expected.carried:
        defined = definitions.get(str(carried))
        if defined is not None and defined != carried.create:
            lines.append(
                f"{carried}: defined as {_short(defined)!r} instead of {_short(carried.create)!r}"
            )
    if not lines:
        # The comparator normalises what the server cannot tell apart; anything it did not
        # turn into an operation but reads differently is still named, never passed over.
        for key in sorted(set(actual.tables) & set(expected.tables)):
            now, was = actual.tables[key], expected.tables[key]
            for f in fields(now):
                a, b = getattr(now, f.name), getattr(was, f.name)
                if a != b:
                    lines.append(f"table {key}: {f.name}: {_what_differs(a, b)}")
    return lines


def _what_differs(now: object, was: object) -> str:
    """For lists of indexes, keys, ...: only the items that differ, not the whole list."""
    if isinstance(now, list | tuple) and isinstance(was, list | tuple):
        extra = [x for x in now if x not in was]
        gone = [x for x in was if x not in now]
        if extra or gone:
            return _short(f"has {extra!r} where it had {gone!r}")
    return _short(f"reads {now!r} instead of {was!r}")


def _short(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_base(project: Project) -> str:
    """The base URL for messages, password masked."""
    return f"{redact_url(project.base_url)} ({project.url_source})"
