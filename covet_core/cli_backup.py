"""``covet backup ...``: create, list and restore backups."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from covet_core.cli import State
from covet_core.cli_migrate import open_manager, run
from covet_core.cli_output import emit
from covet_core.config import redact_url
from covet_core.errors import ConfigError
from covet_core.urls import split_url

ENV_RESTORE_INTO = "COVET_RESTORE_INTO_URL"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _age(when: datetime) -> str:
    seconds = int((datetime.now(UTC) - when).total_seconds())
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= span:
            return f"{seconds // span}{unit} ago"
    return f"{seconds}s ago"


@click.group()
def backup() -> None:
    """Take, list and restore backups (pg_dump, mysqldump, SQLite online backup, or a plugin's)."""


@backup.command()
@click.option("--label", default="manual", show_default=True, help="Part of the file name.")
@click.pass_obj
def create(state: State, label: str) -> None:
    """Take a backup now with the configured strategy."""

    async def go() -> None:
        async with open_manager(state, migrations=False) as manager:
            info = await manager.backup(label)
        state.say(f"Backup: {info.path} ({_size(info.size)}, sha256 {info.sha256})")
        emit(state, "backup.created", path=str(info.path), size=info.size, sha256=info.sha256)

    run(go())


@backup.command("list")
@click.pass_obj
def list_command(state: State) -> None:
    """Backups in the backup folder, newest first, with size and age."""
    from covet_core.backup import list_backups

    backups = list_backups(state.settings().backup_dir)
    if state.json:
        for b in backups:
            emit(state, "backup", path=str(b.path), strategy=b.strategy, database=b.database,
                 size=b.size, created_at=b.created_at.isoformat(), label=b.label)  # fmt: skip
        return
    if not backups:
        state.say(f"No backups in {state.settings().backup_dir}.")
        return
    from rich.table import Table

    from covet_core.cli_output import _console, cell

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("file", "database", "strategy", "size", "age", "before"):
        table.add_column(column)
    for b in backups:
        table.add_row(
            *map(cell, (b.path.name, b.database, b.strategy)),
            _size(b.size), _age(b.created_at), cell(b.label),
        )  # fmt: skip
    _console().print(table)


@backup.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    "into",
    metavar="URL",
    help=f"Restore into this database instead (or ${ENV_RESTORE_INTO}).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore(state: State, path: Path, into: str | None, yes: bool) -> None:
    """Restore a backup into the configured database (or --into another one)."""
    if into and split_url(into).password:
        raise ConfigError(
            f"do not put a password in --into: command lines are visible to every user of the "
            f"machine; set {ENV_RESTORE_INTO} instead"
        )
    into = into or os.environ.get(ENV_RESTORE_INTO) or None
    where = redact_url(into) if into else redact_url(state.settings().require_database())
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                "restoring overwrites data; confirm with --yes when not on a terminal"
            )
        click.confirm(
            f"Restore {path.name} into {where}? Objects in the backup are replaced", abort=True
        )

    async def go() -> None:
        async with open_manager(state, migrations=False) as manager:
            if into:
                dialect = manager.plugins.dialect_for_url(into)
                target = dialect.adapter_from_url(into, Path.cwd())
                await target.connect()
                try:
                    info = await manager.restore_backup(path, target)
                finally:
                    await target.disconnect()
            else:
                info = await manager.restore_backup(path)
        state.say(f"Restored {info.path.name} ({info.strategy}) into {where}.")
        emit(state, "backup.restored", path=str(info.path), into=where)

    run(go())
