"""``covet migrate resolve``: settling a partial migration, by hand or by running the rest.

Runs under the manager's migration lock (the caller holds it).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from covet_core.errors import ConfigError, HistoryError, UnknownTargetError
from covet_core.history import APPLIED, PARTIAL, HistoryRecord
from covet_core.planning import (
    IN_DOUBT_COMPLETED,
    IN_DOUBT_NOT_RUN,
    doubtful_step,
    find_migration,
    mirror_start,
)
from covet_core.runner import MigrationRunner

if TYPE_CHECKING:
    from covet_core.manager import MigrationManager


async def resolve(
    manager: MigrationManager,
    name: str,
    *,
    applied: bool,
    run: bool,
    in_doubt: str | None,
    force: bool,
) -> None:
    if in_doubt not in (None, IN_DOUBT_COMPLETED, IN_DOUBT_NOT_RUN):
        raise ConfigError(f"in_doubt must be 'completed' or 'not-run', not {in_doubt!r}")
    if in_doubt is not None and not run:
        raise ConfigError("--in-doubt says how to continue with --run; add --run")
    history = manager.history
    records = await history.records()
    names = [r.name for r in records]
    if name not in names and names:
        with contextlib.suppress(UnknownTargetError):
            name = names[find_migration(names, name)]
    record = next((r for r in records if r.name == name), None)
    if record is None or (record.state == APPLIED and applied):
        state = "applied" if record else "not applied"
        raise HistoryError(f"{name} is {state}; there is nothing to resolve")
    if record.state == APPLIED and not force:
        raise HistoryError(
            f"{name} is fully applied, not partial: --rolled-back would only forget it while "
            f"its schema stays; roll it back with `covet migrate down`, or, if you undid it by "
            f"hand, run `covet migrate resolve {name} --rolled-back --force`"
        )
    if run:
        await _finish_partial(manager, record, applied, records, in_doubt)
    elif applied:
        await history.record_applied(name)
    else:
        await history.record_rolled_back(name)


async def _finish_partial(
    manager: MigrationManager,
    record: HistoryRecord,
    applied: bool,
    records: list[HistoryRecord],
    in_doubt: str | None,
) -> None:
    migration = next((m for m in manager.load_migrations() if m.name == record.name), None)
    if record.state != PARTIAL or migration is None or record.direction is None:
        raise HistoryError(
            f"--run needs a partial migration whose file exists; {record.name} is "
            f"{record.state}{'' if migration else ' and its file is missing'}"
        )
    done = record.statements_done or 0
    doubt = doubtful_step(record, migration)
    if doubt is not None and in_doubt is None:
        raise HistoryError(
            f"statement {done + 1} of {record.name} is in doubt: covet stopped while it ran "
            f"({doubt}) and the server may have finished it; check whether it took effect, "
            f"then add --in-doubt=completed or --in-doubt=not-run"
        )
    if doubt is None and in_doubt is not None:
        raise HistoryError(
            f"no statement of {record.name} is in doubt (its failure was recorded); run it "
            f"again without --in-doubt"
        )
    if in_doubt == IN_DOUBT_COMPLETED:
        done += 1
    direction = "up" if applied else "down"
    if direction == record.direction:
        start = done
    else:
        start = mirror_start(migration, record.direction, done)
    runner = MigrationRunner(
        manager.adapter, manager.dialect, manager.plugins, manager.history, records,
        manager.lock_guard,
    )  # fmt: skip
    runner.max_replica_lag = manager.max_replica_lag
    runner.replicas = manager.replicas
    runner.ddl_lock_timeout = manager.ddl_lock_timeout
    async with runner.bounded():
        await runner.run(migration, direction, start_at=start, resume=True)
