"""covet's tests for a project's own migrations: one test module in the project,

    # tests/test_migrations.py
    from covet_core.testing.project import *

run by ``pytest``, checks on a scratch database made by the dialect's provisioner (never the
configured database; docs/testing.md says where it is made):

- every migration applies, in order, on an empty database;
- each migration's down restores exactly the schema read before its up, and up → down → up
  reads back the same schema (the first migration that breaks this is named, with the
  differences);
- the models (``--covet-models`` / the ``covet_models`` fixture) match the database once every
  migration is applied;
- no migration fails the linter at error level (skipped while this covet has no linter).

The fixtures (``covet_project``, ``covet_migrations_dir``, ``covet_manager``,
``covet_migrated_to``, ...) come from covet's pytest plugin, so they also serve the project's own
data-migration tests; ``asynctest`` runs an ``async def`` test on the loop they were made on.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable
from types import ModuleType
from typing import Any

import pytest

from covet_core.manager import MigrationManager
from covet_core.models import ModelSchemaReader
from covet_core.schema.comparator import SchemaComparator
from covet_core.testing.project_setup import Project, differences, read_schema
from covet_core.testing.support import asynctest

__all__ = [
    "asynctest",
    "test_covet_down_restores_the_schema_before_each_up",
    "test_covet_migrations_apply_in_order_on_an_empty_database",
    "test_covet_migrations_pass_the_linter",
    "test_covet_models_match_the_database_after_all_migrations",
]

LINT_MODULE = "covet_core.lint"


def _names(manager: MigrationManager) -> list[str]:
    names = [m.name for m in manager.load_migrations()]
    if not names:
        pytest.skip(f"no migrations in {manager.migrations_dir}")
    return names


@asynctest
async def test_covet_migrations_apply_in_order_on_an_empty_database(
    covet_manager: MigrationManager,
) -> None:
    names = _names(covet_manager)
    result = await covet_manager.migrate_up()
    assert result["success"], (
        f"{result['failed'] or 'a migration'} does not apply on an empty database "
        f"(after {len(result['applied'])} that did): {result['error']}"
    )
    assert result["applied"] == names, "the migrations ran in another order than their files'"


@asynctest
async def test_covet_down_restores_the_schema_before_each_up(
    covet_manager: MigrationManager, covet_project: Project
) -> None:
    manager, project = covet_manager, covet_project
    project.needs_schema_reader()
    reversible = {m.name: m.reversible for m in manager.load_migrations()}
    if not any(reversible.values()):
        pytest.skip("no migration has a down step")
    for name in _names(manager):
        before = await read_schema(manager.adapter, project)
        await _step(manager.migrate_up(target=name), f"up of {name}")
        if not reversible[name]:
            continue  # nothing to restore; the migrations after it are still checked
        after = await read_schema(manager.adapter, project)
        await _step(manager.migrate_down(steps=1), f"down of {name}")
        left = differences(await read_schema(manager.adapter, project), before, project)
        assert not left, (
            f"the down of {name} does not restore the schema read before its up; what would "
            f"still have to change:\n  " + "\n  ".join(left)
        )
        await _step(manager.migrate_up(target=name), f"up of {name} after its down")
        again = differences(await read_schema(manager.adapter, project), after, project)
        assert not again, (
            f"up → down → up of {name} is not stable: the second up leaves a schema that "
            f"differs from the first:\n  " + "\n  ".join(again)
        )


@asynctest
async def test_covet_models_match_the_database_after_all_migrations(
    covet_manager: MigrationManager, covet_project: Project, covet_models: list[ModuleType]
) -> None:
    if not covet_models:
        pytest.skip("no models: pass --covet-models myapp.models or set ini covet_models")
    covet_project.needs_schema_reader()
    target = ModelSchemaReader(covet_models).read_schema()
    assert target.tables, f"no Model classes found in {covet_models}"
    await _step(covet_manager.migrate_up(), "migrate up")
    current = await read_schema(covet_manager.adapter, covet_project)
    diff = SchemaComparator(
        covet_project.dialect, detect_renames=True, plugins=covet_project.plugins
    ).compare(current, target)
    changes = [op.describe() for op in diff.operations]
    assert not changes, (
        "the models differ from the database after all migrations; a migration would have "
        "to (covet migrate generate NAME --models ... writes it):\n  " + "\n  ".join(changes)
    )


@asynctest
async def test_covet_migrations_pass_the_linter(
    covet_manager: MigrationManager, covet_project: Project
) -> None:
    if importlib.util.find_spec(LINT_MODULE) is None:
        pytest.skip(f"this covet has no linter ({LINT_MODULE} is not installed)")
    # Imported by name: the linter is optional here and its parsers are heavy.
    linter = importlib.import_module(LINT_MODULE)
    lint = getattr(linter, "lint", None)
    if lint is None:
        pytest.skip(f"{LINT_MODULE} offers no lint() function this test knows how to call")
    migrations = covet_manager.load_migrations()
    # Static: a scratch database's empty tables would make every finding look harmless.
    report = await lint(migrations, covet_project.dialect)
    if not getattr(report, "supported", True):
        pytest.skip(f"the linter does not support {covet_project.dialect.name}")
    errors = report.at_or_above("error")
    assert not errors, f"{len(errors)} lint finding(s) at error level:\n  " + "\n  ".join(
        f"{f.migration}:{f.line} [{f.rule}] {f.message}" for f in errors
    )


async def _step(run: Awaitable[dict[str, Any]], what: str) -> None:
    result = await run
    assert result["success"], f"{what} fails: {result['error']}"
