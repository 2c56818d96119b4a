"""``covet migrate generate NAME --models MODULE``: a migration from the models' difference.

Reads the live schema, compares it with the models (or, with ``--target-database URL``, with
another database's schema) and writes the migration file. Nothing is lost silently: objects
covet does not model are listed; those only the target has (a view of the database being
copied) stop the command unless ``--allow-unmanaged``. A guessed
rename is never turned into a drop and an add (or the other way round) without a person:
on a terminal each guess is asked; elsewhere the command stops and names the pair unless
``--yes`` accepts the guesses or ``--rename`` states them.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from covet_core.cli import State
from covet_core.cli_migrate import connected, database_adapter
from covet_core.cli_output import emit
from covet_core.errors import ConfigError
from covet_core.escaping import one_line, shell_word


def import_models(spec: str) -> ModuleType:
    """``myapp.models`` (importable from the current directory) or ``path/to/models.py``."""
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        if spec.endswith(".py"):
            path = Path(spec)
            if not path.is_file():
                raise ConfigError(f"--models {spec}: no such file")
            module_name = ".".join(path.with_suffix("").parts)
            return importlib.import_module(module_name)
        return importlib.import_module(spec)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot import models {spec!r}: {type(exc).__name__}: {exc}") from exc


async def read_live_schema(state: State, plugins: Any) -> tuple[Any, Any]:
    from covet_core.schema.reader import SchemaReader

    dialect, adapter = database_adapter(state, plugins)
    async with connected(adapter):
        schema = await SchemaReader(adapter, dialect, plugins=plugins).read_schema()
    return dialect, schema


async def read_target_database(state: State, plugins: Any, url: str) -> Any:
    """The schema of the database at ``url`` (``--target-database``): what to become."""
    from covet_core.schema.reader import SchemaReader

    dialect = plugins.dialect_for_url(url)
    adapter = dialect.adapter_from_url(url, state.settings().database_base_dir)
    async with connected(adapter):
        return await SchemaReader(adapter, dialect, plugins=plugins).read_schema()


def interactive() -> bool:
    return sys.stdin.isatty()


def confirm_renames(state: State, diff: Any, yes: bool) -> list[str]:
    """The detected renames a person rejected (``[]`` when all are accepted)."""
    guesses = diff.detected_renames
    if not guesses or yes:
        return []
    if not interactive():
        pairs = "; ".join(f"{one_line(str(g))} (score {g.score:.2f})" for g in guesses)
        flags = " ".join(f"--rename {shell_word(g.flag)}" for g in guesses)
        raise ConfigError(
            f"these look like renames: {pairs}. Confirm with {flags} (or --yes), or pass "
            f"--no-detect-renames to drop and re-add them"
        )
    rejected = []
    for guess in guesses:
        question = f"Is {one_line(str(guess))} a rename? ({one_line(guess.reason)})"
        if not click.confirm(question, default=True):
            rejected.append(guess.flag)
    return rejected


def show(state: State, diff: Any) -> None:
    for op in diff.operations:
        if op.destructive:
            state.say(f"  ! {one_line(op.describe())}", fg="red", bold=True)
        else:
            state.say(f"  + {one_line(op.describe())}")
    for possible in diff.possible_renames:
        state.say(
            f"  ? {one_line(str(possible))} scored {possible.score:.2f}: dropped and re-added; "
            f"if it is a rename, pass --rename {shell_word(possible.flag)}",
            fg="yellow",
        )
    for warning in diff.warnings:
        state.say(f"  warning: {one_line(warning)}", fg="yellow")
    if diff.unmanaged:
        missing = ", ".join(one_line(str(obj)) for obj in diff.unmanaged)
        state.say("  not created (covet does not model them): " + missing, fg="yellow")
    if diff.ignored:
        left_alone = ", ".join(one_line(str(obj)) for obj in diff.ignored)
        state.say("  left alone (not in the models): " + left_alone)
    if diff.out_of_scope:
        outside = ", ".join(one_line(str(obj)) for obj in diff.out_of_scope)
        state.say("  out of scope (include_tables / exclude_tables): " + outside)


def report(diff: Any) -> dict[str, list[str]]:
    """The objects left out, for ``--json`` output."""
    return {
        "not_created": [str(obj) for obj in diff.unmanaged],
        "left_alone": [str(obj) for obj in diff.ignored],
        "out_of_scope": [str(obj) for obj in diff.out_of_scope],
    }


def table_scope(state: State, include: tuple[str, ...], exclude: tuple[str, ...]) -> dict[str, Any]:
    """``SchemaComparator`` keywords: the configured patterns plus those of the flags."""
    from covet_core.schema.scope import TableScope

    settings = state.settings()
    scope = TableScope.of(
        (*settings.include_tables, *include), (*settings.exclude_tables, *exclude)
    )
    return {"include_tables": scope.include, "exclude_tables": scope.exclude}


def scope_options(command: Any) -> Any:
    """``--include-table`` / ``--exclude-table``, shared by ``generate`` and ``check``."""
    command = click.option(
        "--exclude-table", "exclude", multiple=True, metavar="GLOB",
        help="A table the models do not own: never created, changed or dropped (repeat).",
    )(command)  # fmt: skip
    return click.option(
        "--include-table", "include", multiple=True, metavar="GLOB",
        help="Compare only tables matching this (repeat; adds to include_tables).",
    )(command)  # fmt: skip


@click.command()
@click.argument("name")
@click.option(
    "--models",
    "model_specs",
    multiple=True,
    metavar="MODULE",
    help="Module of models (myapp.models or path/models.py); repeat for several.",
)
@click.option(
    "--target-database",
    metavar="URL",
    help="Instead of models: bring the database to this other database's schema.",
)
@click.option(
    "--allow-unmanaged",
    is_flag=True,
    help="Write the migration even though the target has objects it cannot create.",
)
@scope_options
@click.option("--rename", "renames", multiple=True, metavar="T.OLD:NEW", help="A rename (repeat).")
@click.option("--no-detect-renames", is_flag=True, help="Never guess renames.")
@click.option("--yes", is_flag=True, help="Accept guessed renames without asking.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the changes and SQL; write nothing; exit 1 if there are changes.",
)
@click.pass_obj
def generate(
    state: State,
    name: str,
    model_specs: tuple[str, ...],
    target_database: str | None,
    allow_unmanaged: bool,
    renames: tuple[str, ...],
    no_detect_renames: bool,
    yes: bool,
    dry_run: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
) -> None:
    """Write a migration that brings the database to the models."""
    import asyncio

    from covet_core.models import ModelSchemaReader
    from covet_core.schema.comparator import SchemaComparator
    from covet_core.schema.generator import MigrationGenerator, unmanaged_error

    if bool(model_specs) == bool(target_database):
        raise ConfigError("give either --models MODULE or --target-database URL (one of them)")
    plugins = state.plugins()
    scope = table_scope(state, include, exclude)  # a bad pattern fails before any read
    if target_database:
        target = asyncio.run(read_target_database(state, plugins, target_database))
    else:
        modules = [import_models(spec) for spec in model_specs]
        target = ModelSchemaReader(modules).read_schema()
        if not target.tables:
            raise ConfigError(f"no models found in {', '.join(model_specs)}")
    dialect, current = asyncio.run(read_live_schema(state, plugins))

    def compare(rejected: list[str]) -> Any:
        comparator = SchemaComparator(
            dialect,
            renames=renames,
            detect_renames=not no_detect_renames,
            rejected_renames=rejected,
            plugins=plugins,
            **scope,
        )
        return comparator.compare(current, target)

    diff = compare([])
    if diff.unmanaged and not allow_unmanaged:
        show(state, diff)
        raise unmanaged_error(diff)
    rejected = confirm_renames(state, diff, yes)
    if rejected:
        diff = compare(rejected)
    if not diff.has_changes():
        state.say("No changes detected.")
        show(state, diff)
        emit(state, "migrate.generate", changes=[], path=None, **report(diff))
        return
    state.say(f"{len(diff.operations)} change(s) on {dialect.name}:")
    show(state, diff)
    generator = MigrationGenerator(dialect, state.settings().migrations_dir, plugins=plugins)
    if dry_run:
        rendered = generator.render(diff.operations)
        state.say("\n-- forward")
        for sql in rendered.forward:
            state.say(sql + ";")  # names with newlines show as SQL holds them; controls escaped
        emit(
            state,
            "migrate.generate",
            changes=diff.summary(),
            sql=rendered.forward,
            path=None,
            **report(diff),
        )
        # Like `makemigrations --check`: a dry run that would write a file fails a CI job.
        sys.exit(1)
    path = generator.generate_from_diff(diff, name, allow_unmanaged=allow_unmanaged)
    state.say(f"Generated: {one_line(str(path))}")
    if diff.destructive:
        state.say("Review the lines marked ! before applying: they remove data.", fg="red")
    emit(state, "migrate.generate", changes=diff.summary(), path=str(path), **report(diff))
