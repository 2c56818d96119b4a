"""``covet migrate check``: the CI gate (``alembic check``, ``makemigrations --check``).

Exit 1 with a short report when migrations are pending, when applied files changed or went
missing, when one is partial, or (with ``--models``) when the models differ from the database
once every migration is applied; exit 0 with one line otherwise. It only reads, so it also
runs against a replica.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from covet_core.cli import State
from covet_core.cli_generate import scope_options, table_scope
from covet_core.cli_migrate import open_manager, run
from covet_core.cli_output import emit
from covet_core.errors import ConfigError
from covet_core.escaping import one_line


async def _model_changes(
    manager: Any, model_specs: tuple[str, ...], scope: dict[str, Any]
) -> list[str]:
    from covet_core.cli_generate import import_models
    from covet_core.models import ModelSchemaReader
    from covet_core.schema.comparator import SchemaComparator
    from covet_core.schema.reader import SchemaReader

    modules = [import_models(spec) for spec in model_specs]
    target = ModelSchemaReader(modules).read_schema()
    if not target.tables:
        raise ConfigError(f"no models found in {', '.join(model_specs)}")
    current = await SchemaReader(
        manager.adapter, manager.dialect, plugins=manager.plugins
    ).read_schema()
    comparator = SchemaComparator(
        manager.dialect, detect_renames=True, plugins=manager.plugins, **scope
    )
    diff = comparator.compare(current, target)
    return [op.describe() for op in diff.operations] if diff.has_changes() else []


@click.command()
@click.option(
    "--models",
    "model_specs",
    multiple=True,
    metavar="MODULE",
    help="Also fail when these models (myapp.models or path/models.py) differ from the database.",
)
@scope_options
@click.pass_obj
def check(
    state: State, model_specs: tuple[str, ...], include: tuple[str, ...], exclude: tuple[str, ...]
) -> None:
    """For CI: exit 1 when migrations are pending or changed, or the models need one."""
    scope = table_scope(state, include, exclude)

    async def go() -> list[str]:
        async with open_manager(state, read_only=True) as manager:
            statuses = await manager.get_status()
            findings = [f"problem: {p}" for p in await manager.validate()]
            pending = [s.name for s in statuses if s.state == "pending"]
            findings += [f"pending: {name}" for name in pending]
            if model_specs and pending:
                findings.append("models not compared: apply the pending migrations first")
            elif model_specs:
                changes = await _model_changes(manager, model_specs, scope)
                findings += [f"models differ: {change}" for change in changes]
                if changes:
                    findings.append(
                        "write the migration with `covet migrate generate NAME --models "
                        f"{' '.join(model_specs)}`"
                    )
        for finding in findings:
            click.secho(one_line(finding), fg="red", err=True)
        emit(state, "migrate.checked", findings=findings)
        if not findings:
            applied = sum(1 for s in statuses if s.applied)
            models = ", models match the database" if model_specs else ""
            state.say(f"OK: {applied} applied, none pending, files unchanged{models}.")
        return findings

    if run(go()):
        sys.exit(1)
