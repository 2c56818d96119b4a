"""``covet migrate lint [NAME...]``: statements that would lock or break production, found
before they run. With a database configured each finding is weighed with the server version
and the catalog's table sizes; without one (or with ``--static``) the lint is static and says
so. Exit 0, 1 when findings reach the configured ``lint`` level, 2 for bad input."""

from __future__ import annotations

import sys
from typing import Any

import click

from covet_core.cli import State
from covet_core.cli_migrate import open_manager, run
from covet_core.cli_output import emit
from covet_core.errors import ConfigError

FORMATS = ("text", "json", "sarif")


def select(migrations: list[Any], names: tuple[str, ...], pending: set[str] | None) -> list[Any]:
    """The migrations named (exact name or unique prefix), else the pending ones (all when
    ``pending`` is ``None``), in execution order."""
    if not names:
        return [m for m in migrations if pending is None or m.name in pending]
    chosen = []
    for name in names:
        found = [m for m in migrations if m.name == name] or [
            m for m in migrations if m.name.startswith(name)
        ]
        if len(found) != 1:
            what = "no migration" if not found else f"{len(found)} migrations"
            raise ConfigError(f"{what} named {name!r}; `covet migrate status` lists them")
        chosen.append(found[0])
    return [m for m in migrations if m in chosen]


def fails(report: Any, level: str) -> list[Any]:
    # lint = "off" switches off the check before `up`; asked for explicitly, errors still fail.
    return report.at_or_above("error" if level == "off" else level)


def print_report(state: State, report: Any, fmt: str) -> None:
    from covet_core.lint import output

    settings = state.settings()
    if fmt == "json":
        click.echo(output.as_json(report))
    elif fmt == "sarif":
        click.echo(output.sarif(report, settings.migrations_dir.parent))
    else:
        click.echo(output.text(report))


@click.command()
@click.argument("names", nargs=-1, metavar="[NAME...]")
@click.option("--all", "lint_all", is_flag=True, help="Every migration file, not only pending.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--static", is_flag=True, help="Do not read the database (no live context).")
@click.option(
    "--dialect",
    "dialect_name",
    metavar="NAME",
    help="With no database configured: the dialect to lint for (postgresql, mysql, sqlite).",
)
@click.pass_obj
def lint(
    state: State,
    names: tuple[str, ...],
    lint_all: bool,
    fmt: str,
    static: bool,
    dialect_name: str | None,
) -> None:
    """Find statements that lock tables or break the running application."""
    from covet_core.lint import lint as run_lint

    settings = state.settings()
    if names and lint_all:
        raise ConfigError("name migrations or pass --all, not both")

    async def live() -> Any:
        async with open_manager(state, read_only=True) as manager:
            migrations = manager.load_migrations()
            missing = manager.database_missing() is not None
            pending = None
            if not lint_all and not names:
                pending = {s.name for s in await manager.get_status() if s.state == "pending"}
            chosen = select(migrations, names, pending)
            adapter = None if missing or static else manager.adapter
            return await run_lint(
                chosen, manager.dialect, adapter, large_rows=settings.lint_large_table_rows
            )

    async def offline() -> Any:
        from covet_core.discovery import discover

        plugins = state.plugins()
        if dialect_name is not None:
            dialect = plugins.dialect(dialect_name)
        elif settings.database:
            dialect = plugins.dialect_for_url(settings.database)
        else:
            raise ConfigError(
                "no database configured: pass --dialect postgresql|mysql|sqlite to lint "
                "statically, or configure the database for live context"
            )
        migrations = discover(settings.require_migrations_dir(), dialect.split_statements)
        chosen = select(migrations, names, None)
        return await run_lint(chosen, dialect, None, large_rows=settings.lint_large_table_rows)

    report = run(offline() if static or not settings.database or dialect_name else live())
    print_report(state, report, fmt)
    failing = fails(report, settings.lint)
    if fmt == "text":  # with json/sarif the report itself is the one document on stdout
        emit(state, "migrate.linted", findings=len(report.findings), failing=len(failing))
    if failing:
        sys.exit(1)
