"""``covet migrate ...``: up, down, status, create, validate, unlock, resolve, repair.

``generate`` lives in ``cli_generate``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from covet_core.cli import FiniteSeconds, State
from covet_core.cli_output import (
    Reporter,
    emit,
    print_plan,
    print_status,
    print_verified,
    warn_out_of_order,
)
from covet_core.errors import ConfigError
from covet_core.escaping import one_line

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def database_adapter(state: State, plugins: Any) -> tuple[Any, Any]:
    """The configured database's dialect and a (not yet connected) adapter for it."""
    settings = state.settings()
    url = settings.require_database()
    if settings.pooler is not None and "pooler=" not in urlsplit(url).query:
        # The URL's own option wins; the config's is handed over as that same option.
        url += ("&" if urlsplit(url).query else "?") + f"pooler={settings.pooler}"
    dialect = plugins.dialect_for_url(url)
    return dialect, dialect.adapter_from_url(url, settings.database_base_dir)


@asynccontextmanager
async def connected(adapter: Any) -> AsyncIterator[Any]:
    await adapter.connect()
    try:
        yield adapter
    finally:
        await adapter.disconnect()


@asynccontextmanager
async def open_manager(
    state: State,
    *,
    enable_backup: bool | None = None,
    lock_timeout: float | None = None,
    migrations: bool = True,
    read_only: bool = False,
    lint: bool = False,
) -> AsyncIterator[Any]:
    """A manager on a connected adapter.

    ``migrations``: the command reads the migrations folder, which must then exist.
    ``read_only``: the command only looks; a database that does not exist yet is reported and
    read as empty instead of being created by connecting to it.
    """
    from covet_core.manager import MigrationManager

    settings = state.settings()
    plugins = state.plugins(Reporter(state))
    dialect, adapter = database_adapter(state, plugins)
    if migrations:
        settings.require_migrations_dir()
    manager = MigrationManager(
        adapter,
        dialect,
        settings.migrations_dir,
        enable_backup=bool(settings.backup) if enable_backup is None else enable_backup,
        plugins=plugins,
        lock=settings.lock,
        lock_timeout=settings.lock_timeout if lock_timeout is None else lock_timeout,
        backup=settings.backup if isinstance(settings.backup, str) else None,
        backup_dir=settings.backup_dir,
        backup_keep=settings.backup_keep,
        history_table=settings.history_table,
        out_of_order=settings.out_of_order,
        max_replica_lag=settings.max_replica_lag,
        replicas=settings.replicas,
        ddl_lock_timeout=settings.ddl_lock_timeout,
        ddl_retries=settings.ddl_retries,
        lint=settings.lint if lint else "off",
        lint_large_table_rows=settings.lint_large_table_rows,
        on_lint=(lambda report: print_lint(state, report)) if lint else None,
    )
    if read_only and (missing := manager.database_missing()) is not None:
        state.say(f"The database {missing} does not exist yet (`covet migrate up` creates it).")
        emit(state, "database.missing", database=missing)
        yield manager
        return
    async with connected(adapter):
        yield manager


def print_lint(state: State, report: Any) -> None:
    """Before ``up`` applies anything: each finding on stderr, one line each, then the summary
    (with ``--log-format json``: one ``lint.finding`` event each instead). A statement the
    linter could not parse is left to the server, which reports a real syntax error itself
    (``covet migrate lint`` lists them)."""
    findings = [f for f in report.findings if f.rule != "parse-error"]
    if state.json:
        for f in findings:
            emit(state, "lint.finding", **{k: v for k, v in f.as_dict().items() if k != "why"})
        emit(state, "migrate.linted", findings=len(findings))
        return
    for f in findings:
        color = "red" if f.severity == "error" else "yellow"
        where = f"{f.migration}:{f.line}"
        line = f"lint {f.severity}: {where} [{f.rule}] {one_line(f.message)}"
        click.secho(line, fg=color, err=True)
    if findings:
        click.secho(
            f"lint: {len(findings)} finding(s); `covet migrate lint` shows why and the rewrite",
            err=True,
        )


SECONDS = FiniteSeconds()
LOCK_TIMEOUT_HELP = "Seconds to wait for the migration lock (default: lock_timeout setting, 60)."


@click.group()
def migrate() -> None:
    """Apply, roll back and inspect migrations."""


@migrate.command()
@click.option("--target", metavar="NAME", help="Apply up to and including this migration.")
@click.option("--dry-run", is_flag=True, help="Print the SQL that would run; change nothing.")
@click.option(
    "--verify",
    type=click.Choice(["rollback", "scratch"]),
    is_flag=False,
    flag_value="rollback",
    default=None,
    help="With --dry-run: run the migrations for real in a transaction, then roll it back; "
    "--verify=scratch: on a scratch copy of the schema, then drop it (MySQL/MariaDB).",
)
@click.option("--lock-timeout", type=SECONDS, metavar="SECONDS", help=LOCK_TIMEOUT_HELP)
@click.option("--backup/--no-backup", default=None, help="Take a backup first (default: config).")
@click.option("--no-lint", is_flag=True, help="Skip the lint of the migrations to apply.")
@click.pass_obj
def up(
    state: State,
    target: str | None,
    dry_run: bool,
    verify: str | None,
    lock_timeout: float | None,
    backup: bool | None,
    no_lint: bool,
) -> None:
    """Apply pending migrations (linted first, see the lint setting)."""
    if verify and not dry_run:
        raise ConfigError("--verify goes with --dry-run: it runs the migrations and undoes them")

    async def go() -> bool:
        async with open_manager(
            state,
            enable_backup=backup,
            lock_timeout=lock_timeout,
            read_only=dry_run,
            lint=not no_lint,
        ) as manager:
            report = await manager.upgrade(target=target, dry_run=dry_run, verify=verify or False)
        warn_out_of_order(state, report.out_of_order, dry_run=dry_run)
        if dry_run:
            print_plan(state, report, "apply")
            return print_verified(state, report) if verify else True
        if report.backup is not None:
            state.say(f"Backup: {report.backup.path}")
        if report.names:
            state.say(f"Applied {len(report.names)} migration(s) in {report.duration:.2f}s")
        else:
            state.say("Nothing to apply: the database is up to date.")
        emit(state, "migrate.up.completed", applied=report.names, duration=report.duration)
        return True

    if not run(go()):
        sys.exit(1)


@migrate.command()
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many of the most recently applied migrations to roll back.",
)
@click.option("--to", "target", metavar="NAME", help="Roll back everything applied after NAME.")
@click.option("--dry-run", is_flag=True, help="Print the SQL that would run; change nothing.")
@click.option("--lock-timeout", type=SECONDS, metavar="SECONDS", help=LOCK_TIMEOUT_HELP)
@click.pass_obj
def down(
    state: State, steps: int, target: str | None, dry_run: bool, lock_timeout: float | None
) -> None:
    """Roll back the most recently applied migrations."""

    async def go() -> None:
        async with open_manager(
            state, enable_backup=False, lock_timeout=lock_timeout, read_only=dry_run
        ) as manager:
            report = await manager.downgrade(steps=steps, dry_run=dry_run, target=target)
        if dry_run:
            print_plan(state, report, "roll back")
            return
        state.say(f"Rolled back {len(report.names)} migration(s) in {report.duration:.2f}s")
        emit(state, "migrate.down.completed", rolled_back=report.names, duration=report.duration)

    run(go())


@migrate.command()
@click.pass_obj
def status(state: State) -> None:
    """Show every migration: applied, pending, partial, changed or missing."""

    async def go() -> None:
        async with open_manager(state, read_only=True) as manager:
            print_status(state, await manager.get_status())

    run(go())


@migrate.command()
@click.argument("name")
@click.option(
    "--forward", "forward", multiple=True, metavar="SQL", help="Forward statement (repeat)."
)
@click.option(
    "--backward", "backward", multiple=True, metavar="SQL", help="Backward statement (repeat)."
)
@click.option("--depends", multiple=True, metavar="MIGRATION", help="Dependency (repeat).")
@click.option("--sql", "as_sql", is_flag=True, help="Write a .sql migration instead of .py.")
@click.pass_obj
def create(
    state: State,
    name: str,
    forward: tuple[str, ...],
    backward: tuple[str, ...],
    depends: tuple[str, ...],
    as_sql: bool,
) -> None:
    """Write a new migration file YYYY_MM_DD_HHMMSS_NAME.py or .sql (no database needed)."""
    from covet_core.discovery import discover
    from covet_core.scaffold import write_migration_file, write_sql_migration_file

    settings = state.settings()
    known = [m.name for m in discover(settings.migrations_dir)]
    dialect = state.plugins().dialect_for_url(settings.database).name if settings.database else ""
    write = write_sql_migration_file if as_sql else write_migration_file
    path = write(
        settings.migrations_dir,
        name,
        forward_sql=list(forward),
        backward_sql=list(backward),
        dependencies=list(depends),
        known_names=known,
        dialect_name=dialect,
    )
    state.say(f"Created {path}")
    emit(state, "migration.created", path=str(path))


@migrate.command()
@click.pass_obj
def validate(state: State) -> None:
    """Check the files load and agree with the history (exit 1 on any problem)."""

    async def go() -> list[str]:
        async with open_manager(state, read_only=True) as manager:
            migrations = manager.load_migrations()
            problems = await manager.validate()
        for problem in problems:
            click.secho(f"problem: {one_line(problem)}", fg="red", err=True)
        emit(state, "migrate.validated", migrations=len(migrations), problems=problems)
        if not problems:
            state.say(f"OK: {len(migrations)} migration file(s) load and match the history.")
        return problems

    if run(go()):
        sys.exit(1)


@migrate.command()
@click.option("--force", is_flag=True, help="Break it even if the holder is still running.")
@click.pass_obj
def unlock(state: State, force: bool) -> None:
    """Release a migration lock left by a process that is gone."""

    async def go() -> None:
        async with open_manager(state, migrations=False) as manager:
            holder = await manager.unlock(force=force)
        if holder is None:
            state.say("The migration lock was not held.")
        else:
            state.say(f"Released the migration lock held by {holder.describe()}.")
        emit(state, "lock.unlocked", holder=holder.describe() if holder else None)

    run(go())


@migrate.command()
@click.argument("name")
@click.option("--applied", is_flag=True, help="The migration is fully applied.")
@click.option("--rolled-back", "rolled_back", is_flag=True, help="None of it remains.")
@click.option(
    "--run",
    "run_statements",
    is_flag=True,
    help="Run the statements that get there, instead of by hand.",
)
@click.option(
    "--in-doubt",
    type=click.Choice(["completed", "not-run"]),
    help="With --run, when covet stopped while a statement ran: whether that statement "
    "took effect (see `covet migrate status`).",
)
@click.option("--force", is_flag=True, help="Allow --rolled-back on a fully applied migration.")
@click.pass_obj
def resolve(
    state: State,
    name: str,
    applied: bool,
    rolled_back: bool,
    run_statements: bool,
    in_doubt: str | None,
    force: bool,
) -> None:
    """Settle a partial migration (after repairing by hand, or with --run)."""
    if applied == rolled_back:
        raise ConfigError(
            "--applied and --rolled-back exclude each other; say how it ended with one of them"
            if applied
            else "say how it ended: --applied or --rolled-back"
        )
    if in_doubt is not None and not run_statements:
        raise ConfigError("--in-doubt says how to continue with --run; add --run")
    outcome = "applied" if applied else "rolled back"

    async def go() -> None:
        async with open_manager(state) as manager:
            await manager.resolve(
                name, applied=applied, run=run_statements, in_doubt=in_doubt, force=force
            )
        state.say(f"Recorded {name} as {outcome}.")
        emit(state, "migration.resolved", migration=name, outcome=outcome.replace(" ", "-"))

    run(go())
