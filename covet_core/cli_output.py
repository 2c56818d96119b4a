"""What the CLI prints: per-migration lines, dry-run plans, the status table, plugin lists.

Tables use rich (imported only by the commands that print one).
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, Any

import click

from covet_core.escaping import one_line
from covet_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from covet_core.cli import State
    from covet_core.manager import MigrationStatus, RunReport
    from covet_core.plugins import Plugins, Registry
    from covet_core.runner import MigrationResult


def emit(state: State, event: str, /, **fields: Any) -> None:
    """A structured event for pipelines (JSON mode only; console users get the text)."""
    if state.json:
        from covet_core.log import get_logger

        get_logger().info(event, **fields)


class Reporter:
    """A plugin the CLI registers for its own run: one line per migration as it finishes."""

    def __init__(self, state: State) -> None:
        self.state = state
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}

    @hookimpl
    def covet_data_progress(self, migration: Any, step: str, progress: Any) -> None:
        # A bar on a terminal only; pipelines get the data.progress events instead.
        if self.state.json or not sys.stdout.isatty():
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from covet_core.data.progress import throttle_fields

        if self._bar is None:
            self._bar = Progress(
                TextColumn("  {task.description}"), BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,} rows"),
                TextColumn("{task.fields[rate]:,.0f} rows/s"), TimeRemainingColumn(),
                TextColumn("{task.fields[throttle]}"),
            )  # fmt: skip
            self._bar.start()
        key = f"{migration.name}:{step}"
        if key not in self._tasks:
            self._tasks[key] = self._bar.add_task(
                step, total=progress.total_rows, rate=0, throttle=""
            )
        waited = throttle_fields(progress)
        self._bar.update(
            self._tasks[key], completed=progress.processed_rows, rate=progress.rows_per_second,
            throttle=f"waited {waited['throttled_seconds']}s for replicas" if waited else "",
        )  # fmt: skip

    def _stop_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar, self._tasks = None, {}

    @hookimpl
    def covet_after_migration(
        self, migration: Any, direction: str, result: MigrationResult
    ) -> None:
        self._stop_bar()
        mark, colour = ("✓", "green") if result.success else ("✗", "red")
        note = "" if result.transactional else "  (no transaction)"
        verb = "" if direction == "up" else "rolled back "
        self.state.say(f"  {mark} {verb}{result.name}  {result.duration:.3f}s{note}", fg=colour)


def print_plan(state: State, report: RunReport, verb: str) -> None:
    emit(state, "migrate.plan", direction=report.direction, plan=report.plan, backup=report.backup)
    count = len(report.plan)
    if not count:
        state.say(f"Dry run: nothing to {verb}.")
        return
    state.say(f"Dry run: would {verb} {count} migration(s); nothing was changed.")
    if isinstance(report.backup, str):
        state.say(f"Dry run: {report.backup}.")
    for step in report.plan:
        how = (
            "in a transaction" if step["transaction"] else "no transaction, statement by statement"
        )
        state.say(f"\n-- {step['name']} ({how})", bold=True)
        for sql in step["sql"]:
            state.say(sql if sql.startswith("-- ") else sql.rstrip().rstrip(";") + ";")


def print_verified(state: State, report: RunReport) -> bool:
    """A verified dry run's outcome per migration; whether every migration ran cleanly."""
    lines = report.verified or []
    emit(state, "migrate.verified", verified=[v.as_dict() for v in lines],
         verified_on=report.verified_on, scratch_lacks=report.scratch_lacks)  # fmt: skip
    if report.verified_on == "scratch":
        state.say("\nVerified on a scratch copy of the schema (dropped again; the database "
                  "was only read):", bold=True)  # fmt: skip
        if report.scratch_lacks:
            lacks = ", ".join(report.scratch_lacks)
            state.say(f"  the copy lacks what covet cannot recreate: {one_line(lacks)}; a "
                      f"migration using them fails there only", fg="yellow")  # fmt: skip
    else:
        state.say("\nVerified (run in a transaction, then rolled back; nothing was kept):",
                  bold=True)  # fmt: skip
    for line in lines:
        locks = f"  locks: {', '.join(line.locks)}" if line.locks else ""
        if line.success:
            state.say(f"  ✓ {one_line(line.name)}  {line.duration:.3f}s{one_line(locks)}")
        elif line.success is False:
            state.say(
                f"  ✗ {one_line(line.name)}: {one_line(line.error or '')}", fg="red", bold=True
            )
            if line.statement:
                state.say(f"    at: {one_line(line.statement)}", fg="red")
        else:
            why = f": {line.error}" if line.error else " (after the failure above)"
            state.say(f"  - {one_line(line.name)} not verified{one_line(why)}", fg="yellow")
    return not any(line.success is False for line in lines)


def cell(text: str | None, style: str = "") -> Any:
    """A table cell shown as written: no rich markup read from it, controls escaped."""
    from rich.text import Text

    return Text(one_line(text or ""), style=style)


def warn_out_of_order(state: State, late: dict[str, str], *, dry_run: bool) -> None:
    """One ``warning:`` line per migration that runs after a newer one already applied."""
    for name, newest in late.items():
        verb = "would run" if dry_run else "ran"
        click.secho(
            f"warning: {one_line(name)} is older than the newest applied migration "
            f"{one_line(newest)}; it {verb} "
            f'out of order (set out_of_order = "refuse" to stop, "allow" to be quiet)',
            fg="yellow",
            err=True,
        )


def _width() -> int:
    # Piped output is not wrapped at some unrelated terminal's width; COLUMNS still rules.
    if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit():
        return shutil.get_terminal_size((160, 24)).columns
    return 160


def _console() -> Any:
    from rich.console import Console

    return Console(width=_width(), highlight=False, soft_wrap=False)


def _state_text(status: MigrationStatus) -> str:
    if status.missing and status.applied:
        return "applied, FILE MISSING"
    if status.changed:
        return "applied, CHANGED"
    if status.state == "partial":
        return f"PARTIAL ({status.detail})"
    if status.out_of_order:
        return "pending, OUT OF ORDER"
    return status.state


def _summary(statuses: list[MigrationStatus]) -> str:
    counts = {
        "applied": sum(s.applied for s in statuses),
        "pending": sum(s.state == "pending" for s in statuses),
        "partial": sum(s.state == "partial" for s in statuses),
        "failed": sum(s.state == "failed" for s in statuses),
        "changed": sum(s.changed for s in statuses),
        "file missing": sum(s.missing and s.applied for s in statuses),
        "out of order": sum(s.out_of_order for s in statuses),
    }
    # applied and pending always; the states that need attention only when there are some.
    parts = [f"{n} {label}" for label, n in counts.items() if n or label in ("applied", "pending")]
    return ", ".join([*parts, f"{len(statuses)} in all"])


_OPTIONAL_COLUMNS = ("by", "duration", "applied at (UTC)")
"""Dropped in this order when the table would not fit the terminal."""


def print_status(state: State, statuses: list[MigrationStatus]) -> None:
    if state.json:
        for s in statuses:
            emit(
                state,
                "migration.status",
                migration=s.name,
                state=s.state,
                applied=s.applied,
                applied_at=s.applied_at.isoformat() if s.applied_at else None,
                changed=s.changed,
                missing=s.missing,
                out_of_order=s.out_of_order,
                detail=s.detail,
                in_doubt=s.in_doubt,
            )
        return
    if not statuses:
        state.say("No migrations found.")
        return
    from rich.table import Table

    styles = {"applied": "green", "pending": "yellow"}
    rows = [
        {
            "": "[X]" if s.applied else "[ ]",
            "migration": one_line(s.name),
            "state": one_line(_state_text(s)),
            "applied at (UTC)": s.applied_at.strftime("%Y-%m-%d %H:%M:%S") if s.applied_at else "",
            "duration": f"{s.duration:.3f}s" if s.duration is not None else "",
            "by": one_line(s.applied_by or ""),
        }
        for s in statuses
    ]
    columns = list(rows[0])
    width = _width()

    def needed(names: list[str]) -> int:
        # Each column's widest cell (the state's detail may wrap, so count at most 24 of it).
        widths = [max(len(c), *(len(r[c]) for r in rows)) for c in names]
        widths[names.index("state")] = min(widths[names.index("state")], 24)
        return sum(widths) + len(names) - 1

    for optional in _OPTIONAL_COLUMNS:
        if needed(columns) <= width:
            break
        columns.remove(optional)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=column != "state", overflow="fold")
    for row in rows:
        style = styles.get(row["state"], "red bold")
        table.add_row(*(cell(row[c], style if c == "state" else "") for c in columns))
    _console().print(table)
    for s in statuses:
        if s.in_doubt is not None:
            # Its own line, whole: the user must read the statement to say whether it ran.
            state.say(
                f"{one_line(s.name)}: covet stopped while this statement ran, the server may "
                f"have finished it: {one_line(s.in_doubt)}"
            )
    state.say(_summary(statuses))


def print_plugins(state: State, plugins: Plugins) -> None:
    infos = plugins.describe()
    registries: dict[str, Registry[Any]] = {
        "dialects": plugins.dialects,
        "lock strategies": plugins.lock_strategies,
        "backup strategies": plugins.backup_strategies,
    }
    if state.json:
        for info in infos:
            emit(
                state,
                "plugin",
                name=info.name,
                distribution=info.distribution,
                version=info.version,
                hooks=list(info.hooks),
            )
        for kind, registry in registries.items():
            emit(
                state,
                "registry",
                kind=kind,
                entries={n: registry.owner(n) for n in registry.names()},
            )
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("plugin", "distribution", "version", "hooks"):
        table.add_column(column)
    for info in infos:
        table.add_row(
            *map(cell, (info.name, info.distribution, info.version, ", ".join(info.hooks)))
        )
    console = _console()
    console.print(table)
    for kind, registry in registries.items():
        entries = ", ".join(f"{n} ({registry.owner(n)})" for n in registry.names()) or "none"
        console.print(cell(f"{kind}: {entries}"))
