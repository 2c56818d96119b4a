"""The manager's history maintenance: baseline, import, unlock, resolve, repair."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from covet_core.errors import HistoryError
from covet_core.history import APPLIED, HistoryRecord, MigrationHistory
from covet_core.locking import LockHolder, LockStrategy
from covet_core.log import get_logger
from covet_core.migration import Migration
from covet_core.planning import RepairPlan, find_migration, plan_repair, refuse_on_problems

if TYPE_CHECKING:
    from covet_core.adapter import Adapter
    from covet_core.dialect import Dialect

log = get_logger()


class HistoryMethods:
    """Mixed into ``MigrationManager``, which provides these attributes."""

    adapter: Adapter
    dialect: Dialect
    history: MigrationHistory
    migrations_dir: Path

    if TYPE_CHECKING:  # provided by MigrationManager

        def locked(self) -> AbstractAsyncContextManager[None]: ...

        def load_migrations(self) -> list[Migration]: ...

        def lock_strategy(self) -> LockStrategy: ...

        async def require_writable(self) -> None: ...

        async def _records(self) -> list[HistoryRecord]: ...

        def _check_folder(self, records: list[HistoryRecord]) -> list[HistoryRecord]: ...

    async def baseline(
        self, to: str | None = None, names: Sequence[str] | None = None
    ) -> list[str]:
        """Record migrations as applied without running them (the schema is already there).

        All of them, those up to and including ``to``, or exactly ``names``; already applied
        ones are skipped. Returns the names recorded. Refuses while the history has problems.
        """
        async with self.locked():
            await self.history.ensure()
            records = self._check_folder(await self.history.records())
            migrations = self.load_migrations()
            refuse_on_problems(migrations, records)
            if names is not None:
                wanted = set(names)
                candidates = [m for m in migrations if m.name in wanted]
            elif to is not None:
                candidates = migrations[: find_migration(migrations, to) + 1]
            else:
                candidates = migrations
            known = {r.name for r in records}
            chosen = [m for m in candidates if m.name not in known]
            async with self.adapter.transaction():
                for migration in chosen:
                    await self.history.write(
                        migration.name, state=APPLIED, checksum=migration.checksum(), direction="up"
                    )
        for migration in chosen:
            log.info("migration.baselined", migration=migration.name, dialect=self.dialect.name)
        return [m.name for m in chosen]

    async def import_history(self, tool: str) -> list[str]:
        """Baseline to match another tool's history table (golang-migrate, goose, dbmate,
        flyway) in this database; refuse if that history is dirty or failed."""
        from covet_core.adopt import applied_elsewhere

        chosen = await applied_elsewhere(tool, self.adapter, self.dialect, self.load_migrations())
        return await self.baseline(names=[m.name for m in chosen])

    async def unlock(self, force: bool = False) -> LockHolder | None:
        """Break a stuck migration lock; return who held it (``None``: it was free).

        A holder that is provably alive is left alone unless ``force``.
        """
        await self.require_writable()
        return await self.lock_strategy().force_release(force=force)

    async def resolve(
        self,
        name: str,
        *,
        applied: bool,
        run: bool = False,
        in_doubt: str | None = None,
        force: bool = False,
    ) -> None:
        """Settle a partial migration: mark it applied or rolled back (see ``resolving``).

        Without ``run`` the caller repaired the database by hand; with ``run`` covet runs the
        rest, or the counterparts of what ran. A statement covet was stopped in the middle of
        is in doubt: ``run`` then needs ``in_doubt`` (``"completed"`` or ``"not-run"``).
        Marking a fully applied migration rolled back needs ``force``.
        """
        from covet_core.manager import MigrationManager
        from covet_core.resolving import resolve

        assert isinstance(self, MigrationManager)
        async with self.locked():
            await resolve(self, name, applied=applied, run=run, in_doubt=in_doubt, force=force)

    async def repair_plan(self) -> RepairPlan:
        """What ``repair`` would change now (reads only; takes no lock)."""
        return plan_repair(self.load_migrations(), await self._records())

    async def repair(
        self, *, forget_all: bool = False, expected: RepairPlan | None = None
    ) -> list[str]:
        """Accept the history as it is: record current checksums of changed files and forget
        rows whose files are gone. Returns what it changed.

        Forgetting every applied migration at once is what a wrong ``migrations_dir`` looks
        like, so it needs ``forget_all=True``. With ``expected`` (a plan shown to a user), a
        plan that differs under the lock changes nothing.
        """
        async with self.locked():
            records = self._check_folder(await self.history.records())
            migrations = {m.name: m for m in self.load_migrations()}
            plan = plan_repair(list(migrations.values()), records)
            if expected is not None and plan != expected:
                raise HistoryError(
                    "the history or the migration files changed since the repair plan was "
                    "made; nothing was changed: run `covet migrate repair` again"
                )
            if plan.forgets_everything and not forget_all:
                raise HistoryError(
                    f"repair would forget all {plan.applied} applied migration(s) because none "
                    f"of their files is in {self.migrations_dir}; check the migrations folder "
                    f"(--dir / migrations_dir), or pass --forget-all if that is really meant"
                )
            by_record = {r.name: r for r in records}
            async with self.adapter.transaction():
                for name in plan.forget:
                    await self.history.delete(name)
                for name, checksum in plan.accept:
                    record = by_record[name]
                    await self.history.write(
                        name,
                        state=APPLIED,
                        checksum=checksum,
                        duration=record.duration,
                        direction=record.direction,
                        applied_at=record.applied_at,
                    )
        return [f"forgot {n} (file missing)" for n in plan.forget] + [
            f"accepted new checksum of {n}" for n, _ in plan.accept
        ]
