"""Deciding what to run: status lines, history problems, up/down plans (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from covet_core.errors import HistoryError, IrreversibleMigrationError, UnknownTargetError
from covet_core.history import APPLIED, PARTIAL, HistoryRecord
from covet_core.migration import Migration, checksum_matches
from covet_core.steps import in_doubt

IN_DOUBT_COMPLETED = "completed"
IN_DOUBT_NOT_RUN = "not-run"


@dataclass(frozen=True)
class MigrationStatus:
    """One line of ``get_status()``: a migration file, a history row, or both."""

    name: str
    applied: bool
    applied_at: datetime | None
    state: str
    """``applied``, ``pending``, ``partial`` or ``failed``."""
    changed: bool = False
    """Applied, but the file's checksum differs from the one recorded."""
    missing: bool = False
    """Recorded in the history, but no file of that name exists any more."""
    execution_order: int | None = None
    duration: float | None = None
    applied_by: str | None = None
    path: Path | None = None
    detail: str | None = None
    out_of_order: bool = False
    """Pending, but older than the newest applied migration (see ``out_of_order`` policy)."""
    in_doubt: str | None = None
    """For a partial migration whose process died while a step ran: that step's SQL (or label);
    the server may or may not have finished it."""


def status_of(
    name: str, record: HistoryRecord | None, migration: Migration | None
) -> MigrationStatus:
    if record is None:
        return MigrationStatus(
            name, False, None, "pending", path=migration.path if migration else None
        )
    changed = (
        migration is not None
        and record.state == APPLIED
        and not checksum_matches(record.checksum, migration)
    )
    detail = doubt = None
    if record.state == PARTIAL:
        detail = f"{record.direction}: {record.statements_done} statement(s) done"
        doubt = doubtful_step(record, migration)
        if record.error:
            detail += f"; {record.error}"
        elif doubt is not None:
            detail += f"; statement {(record.statements_done or 0) + 1} in doubt: {doubt}"
    return MigrationStatus(
        name,
        record.state == APPLIED,
        record.applied_at,
        record.state,
        changed=changed,
        missing=migration is None,
        execution_order=record.execution_order,
        duration=record.duration,
        applied_by=record.applied_by,
        path=migration.path if migration else None,
        detail=detail,
        in_doubt=doubt,
    )


def doubtful_step(record: HistoryRecord, migration: Migration | None) -> str | None:
    """The SQL (or label) of the step that was running when covet stopped, if it is in doubt.

    Each step's "started" mark commits before the step and a failure records its error, so a
    partial row without an error means the process died (or lost its connection) while that
    step ran: the server may have finished a non-transactional statement all the same.
    """
    if record.state != PARTIAL or record.error is not None:
        return None
    step = in_doubt(migration, record.direction, record.statements_done)
    return None if step is None else step.label


def mirror_start(migration: Migration, direction: str, done: int) -> int:
    """Where the opposite direction starts to undo ``done`` statements run in ``direction``.

    Only defined when each backward statement undoes one forward statement in mirror order
    (backward[i] undoes forward[n-1-i]) and there are no Python steps.
    """
    forward, backward = migration.statements("up"), migration.statements("down")
    if (
        len(forward) != len(backward)
        or migration.has_python_forward
        or migration.has_python_backward
    ):
        raise HistoryError(
            f"cannot derive which statements undo the {done} that ran in {migration.name}: "
            f"forward_sql and backward_sql do not pair one to one; repair by hand, then run "
            f"`covet migrate resolve {migration.name} --applied` or `--rolled-back`"
        )
    if direction == "up" and migration.data_steps and done >= len(forward):
        raise HistoryError(
            f"{migration.name} got as far as its data step, whose committed batches covet "
            f"cannot undo; finish it with `covet migrate resolve {migration.name} --applied "
            f"--run`, or undo it by hand, then run `covet migrate resolve {migration.name} "
            f"--rolled-back`"
        )
    # symmetric: k done one way is n-k done the other way
    return len(forward) - done


def ways_out(record: HistoryRecord, migration: Migration | None) -> str:
    name = record.name
    ways = [f"repair by hand, then `covet migrate resolve {name} --applied` or `--rolled-back`"]
    doubt = doubtful_step(record, migration)
    if migration is not None:
        finish = "--applied" if record.direction == "up" else "--rolled-back"
        undo = "--rolled-back" if record.direction == "up" else "--applied"
        ways.append(f"fix the cause and finish it: {_run_commands(name, finish, doubt)}")
        try:
            mirror_start(migration, record.direction or "up", record.statements_done or 0)
            ways.append(f"undo what ran: {_run_commands(name, undo, doubt)}")
        except HistoryError:
            pass
    text = "; or ".join(ways)
    if doubt is not None:
        step = (record.statements_done or 0) + 1
        text = (
            f"covet stopped while statement {step} ran ({doubt}) and the server may have "
            f"finished it: check whether it took effect, then {text}"
        )
    return text


def describe_kept(
    migration: Migration, direction: str, index: int, step_kept: str | None
) -> tuple[str, str]:
    """For a migration that failed at step ``index`` outside a transaction: one sentence on
    what of it stays in the database, and the ways out (the ``covet`` commands)."""
    parts = [f"the {index} statement(s) before it ran and were kept"] if index else []
    if step_kept:
        parts.append(step_kept)
    kept = "; ".join(parts) or "what an earlier run of it did stays"
    record = HistoryRecord(
        migration.name, None, PARTIAL, None, None, None, 0, direction, index, "failed"
    )
    return kept[0].upper() + kept[1:] + ".", ways_out(record, migration)


def _run_commands(name: str, outcome: str, doubt: str | None) -> str:
    # With a step in doubt --run must be told whether it completed: each command is complete
    # as printed, so it can be copied once the user has checked.
    command = f"covet migrate resolve {name} {outcome} --run"
    if doubt is None:
        return f"`{command}`"
    return (
        f"`{command} --in-doubt=completed` if it took effect, "
        f"`{command} --in-doubt=not-run` if it did not"
    )


def problems(migrations: list[Migration], records: list[HistoryRecord]) -> list[str]:
    by_name = {m.name: m for m in migrations}
    applied = {r.name for r in records if r.state == APPLIED}
    found: list[str] = []
    for record in records:
        migration = by_name.get(record.name)
        if record.state != APPLIED:
            why = f"; {record.error}" if record.error else ""
            found.append(
                f"{record.name} is {record.state} ({record.direction}, "
                f"{record.statements_done} statement(s) done{why}): "
                f"{ways_out(record, migration)}"
            )
        elif migration is None:
            found.append(
                f"{record.name} is applied but its file is missing; restore the file, or run "
                f"`covet migrate repair` to forget it"
            )
        elif not checksum_matches(record.checksum, migration):
            found.append(
                f"{record.name} was changed after it was applied ({migration.path}); revert the "
                f"file and put the change in a new migration, or run `covet migrate repair` "
                f"to accept it"
            )
        elif missing := [d for d in migration.dependencies if d not in applied]:
            found.append(
                f"{record.name} is applied but its dependency {missing[0]} is not; the history "
                f"is inconsistent: apply or resolve {missing[0]} first"
            )
    return found


def refuse_on_problems(migrations: list[Migration], records: list[HistoryRecord]) -> None:
    found = problems(migrations, records)
    if found:
        more = (
            f" (and {len(found) - 1} more; see `covet migrate validate`)" if len(found) > 1 else ""
        )
        raise HistoryError(f"refusing to migrate: {found[0]}{more}")


def find_migration(migrations: Sequence[Migration] | Sequence[str], target: str) -> int:
    """Index of ``target``: a full name, or a unique timestamp prefix or label."""
    names = [m if isinstance(m, str) else m.name for m in migrations]
    if target in names:
        return names.index(target)
    matches = [
        i for i, n in enumerate(names) if n.startswith(target) or n.split("_", 4)[-1] == target
    ]
    if len(matches) == 1:
        return matches[0]
    if matches:
        found = ", ".join(names[i] for i in matches)
        raise UnknownTargetError(f"target {target!r} is ambiguous: {found}; give the full name")
    raise UnknownTargetError(
        f"unknown target migration {target!r}; see `covet migrate status` for the names"
    )


def plan_up(
    migrations: list[Migration], records: list[HistoryRecord], target: str | None
) -> list[Migration]:
    refuse_on_problems(migrations, records)
    applied = {r.name for r in records if r.state == APPLIED}
    candidates = migrations
    if target is not None:
        candidates = migrations[: find_migration(migrations, target) + 1]
    return [m for m in candidates if m.name not in applied]


def plan_down(
    migrations: list[Migration], records: list[HistoryRecord], steps: int, target: str | None
) -> list[Migration]:
    refuse_on_problems(migrations, records)
    by_name = {m.name: m for m in migrations}
    applied = [
        r.name for r in sorted(records, key=lambda r: r.execution_order) if r.state == APPLIED
    ]
    if target is not None:
        index = find_migration(applied, target)
        chosen = list(reversed(applied[index + 1 :]))
    else:
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise UnknownTargetError(f"steps must be a positive whole number, not {steps!r}")
        if steps > len(applied):
            raise UnknownTargetError(
                f"cannot roll back {steps} migration(s): only {len(applied)} applied"
            )
        chosen = list(reversed(applied))[:steps]
    plan = [by_name[name] for name in chosen]
    for migration in plan:
        if not migration.reversible:
            raise IrreversibleMigrationError(
                f"{migration.name} cannot be rolled back: it has no backward_sql and no "
                f"backward() method; nothing was rolled back. Write the backward step, or undo "
                f"it by hand and run `covet migrate resolve {migration.name} --rolled-back "
                f"--force`"
            )
    return plan


@dataclass(frozen=True)
class RepairPlan:
    """What ``repair`` would change: history rows to forget and checksums to accept."""

    forget: tuple[str, ...]
    """Applied migrations whose file is gone: their history rows would be deleted."""
    accept: tuple[tuple[str, str], ...]
    """``(name, new checksum)`` of applied migrations whose file changed."""
    applied: int
    """How many migrations the history records as applied."""

    @property
    def empty(self) -> bool:
        return not self.forget and not self.accept

    @property
    def forgets_everything(self) -> bool:
        # A wrong migrations folder looks exactly like this, so it is never done by default.
        return bool(self.forget) and len(self.forget) == self.applied

    def lines(self) -> list[str]:
        return [f"forget {name} (applied, file missing)" for name in self.forget] + [
            f"accept the new checksum of {name} ({checksum})" for name, checksum in self.accept
        ]


def plan_repair(migrations: list[Migration], records: list[HistoryRecord]) -> RepairPlan:
    by_name = {m.name: m for m in migrations}
    applied = [r for r in records if r.state == APPLIED]
    forget = tuple(r.name for r in applied if r.name not in by_name)
    accept = tuple(
        (r.name, by_name[r.name].checksum())
        for r in applied
        if r.name in by_name and not checksum_matches(r.checksum, by_name[r.name])
    )
    return RepairPlan(forget, accept, len(applied))


OUT_OF_ORDER_POLICIES = ("allow", "warn", "refuse")


def out_of_order(migrations: list[Migration], records: list[HistoryRecord]) -> dict[str, str]:
    """Pending migrations that sort before the newest applied one, each mapped to that one.

    Usually a branch merged late: it runs after migrations it was written before, which its
    author never tested.
    """
    recorded = {r.name for r in records}
    applied = [m for m in migrations if m.name in {r.name for r in records if r.state == APPLIED}]
    if not applied:
        return {}
    newest = max(applied, key=lambda m: (m.sort_key, m.name))
    return {
        m.name: newest.name
        for m in migrations
        if m.name not in recorded and (m.sort_key, m.name) < (newest.sort_key, newest.name)
    }
