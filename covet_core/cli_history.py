"""``covet migrate repair | baseline | import``: commands that rewrite the history table
without running migrations."""

from __future__ import annotations

import sys

import click

from covet_core.cli import State
from covet_core.cli_migrate import migrate, open_manager, run
from covet_core.cli_output import emit
from covet_core.errors import HistoryError


@migrate.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--forget-all",
    is_flag=True,
    help="Allow forgetting every applied migration (what a wrong --dir looks like).",
)
@click.pass_obj
def repair(state: State, yes: bool, forget_all: bool) -> None:
    """Accept changed migration files and forget history rows whose files are gone.

    Prints the plan first: each history row it would forget and each checksum it would accept.
    """

    async def go() -> None:
        # read_only: with no database there is nothing to repair, and nothing to create.
        async with open_manager(state, read_only=True) as manager:
            await manager.require_writable()  # a replica's history is repaired on the primary
            plan = await manager.repair_plan()
            emit(state, "migrate.repair.plan", forget=list(plan.forget),
                 accept=[name for name, _ in plan.accept])  # fmt: skip
            if plan.empty:
                state.say("Nothing to repair: the history matches the migration files.")
                emit(state, "migrate.repaired", changes=[])
                return
            state.say("Repair plan (the schema is not touched):")
            for line in plan.lines():
                state.say(f"  {line}")
            if plan.forgets_everything and not forget_all:
                raise HistoryError(
                    f"refusing to forget all {plan.applied} applied migration(s): none of their "
                    f"files is in {manager.migrations_dir}; check --dir / migrations_dir, or pass "
                    f"--forget-all if that is really meant"
                )
            if not yes:
                if not sys.stdin.isatty():
                    raise HistoryError(
                        "repair rewrites the history; confirm the plan above with --yes when not "
                        "on a terminal"
                    )
                click.confirm("Rewrite the history as planned?", abort=True)
            changes = await manager.repair(forget_all=forget_all, expected=plan)
        for change in changes:
            state.say(change)
        emit(state, "migrate.repaired", changes=changes)

    run(go())


@migrate.command()
@click.option("--to", "target", metavar="NAME", help="Only up to and including this migration.")
@click.pass_obj
def baseline(state: State, target: str | None) -> None:
    """Record migrations as applied without running them (the schema exists already)."""

    async def go() -> None:
        async with open_manager(state) as manager:
            names = await manager.baseline(to=target)
        for name in names:
            state.say(f"  = {name}  recorded as applied (not run)")
        state.say(f"Baselined {len(names)} migration(s).")
        emit(state, "migrate.baselined", migrations=names)

    run(go())


@migrate.command("import")
@click.option(
    "--from",
    "tool",
    required=True,
    type=click.Choice(["golang-migrate", "goose", "dbmate", "flyway"]),
    help="The tool whose history table to read.",
)
@click.pass_obj
def import_command(state: State, tool: str) -> None:
    """Baseline covet's history from another tool's history table in the database."""

    async def go() -> None:
        async with open_manager(state) as manager:
            names = await manager.import_history(tool)
        for name in names:
            state.say(f"  = {name}  applied by {tool}")
        state.say(f"Imported {len(names)} migration(s) from {tool}'s history.")
        emit(state, "migrate.imported", tool=tool, migrations=names)

    run(go())
