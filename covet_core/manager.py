"""MigrationManager: decides what runs, in which order, under which lock; the runner runs it.

Public methods return the guide's dicts and objects and never raise for a user's mistake; the
``upgrade`` / ``downgrade`` methods underneath raise ``CovetError`` and serve the CLI.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from covet_core.adapter import Adapter
from covet_core.dialect import Dialect
from covet_core.discovery import discover
from covet_core.errors import (
    ConfigError,
    CovetError,
    DiscoveryError,
    ReadOnlyDatabaseError,
)
from covet_core.history import HistoryRecord, MigrationHistory
from covet_core.locking import DEFAULT_LOCK_TIMEOUT, LockStrategy, NoLock, guard_for
from covet_core.log import get_logger
from covet_core.manager_backups import BackupMethods
from covet_core.manager_checks import CheckMethods
from covet_core.manager_history import HistoryMethods
from covet_core.migration import Migration
from covet_core.planning import (
    OUT_OF_ORDER_POLICIES,
    MigrationStatus,
    out_of_order,
    plan_down,
    plan_up,
    problems,
    status_of,
)
from covet_core.plugins import Plugins
from covet_core.reports import RunReport, as_result
from covet_core.retrying import DEFAULT_DDL_LOCK_TIMEOUT, DEFAULT_DDL_RETRIES, run_retrying
from covet_core.runner import MigrationRunner, uses_transaction
from covet_core.scaffold import write_migration_file
from covet_core.steps import plan_text

log = get_logger()


class MigrationManager(BackupMethods, HistoryMethods, CheckMethods):
    """Applies, rolls back and reports the migrations in ``migrations_dir``.

    ``dialect`` is a registered dialect name (``"sqlite"``, ``"postgresql"``, ...) or a
    ``Dialect``. ``plugins`` are extra plugin objects for this manager only, or an already
    loaded ``Plugins`` to share (an embedding framework loads plugins once).
    """

    def __init__(
        self,
        adapter: Adapter,
        dialect: str | Dialect,
        migrations_dir: str | os.PathLike[str] = "./migrations",
        enable_locking: bool = True,
        enable_backup: bool = False,
        *,
        plugins: Iterable[object] | Plugins = (),
        lock: str | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        lock_options: Mapping[str, Any] | None = None,
        backup: str | None = None,
        backup_dir: str | os.PathLike[str] = "./backups",
        backup_keep: int | None = None,
        history_table: str | None = None,
        autoload_plugins: bool | None = None,
        out_of_order: str = "warn",
        max_replica_lag: float | None = None,
        replicas: Sequence[str] = (),
        ddl_lock_timeout: float | None = DEFAULT_DDL_LOCK_TIMEOUT,
        ddl_retries: int = DEFAULT_DDL_RETRIES,
        lint: str = "off",
        lint_large_table_rows: int | None = None,
        on_lint: Callable[[Any], None] | None = None,
    ) -> None:
        if not isinstance(lock_timeout, int | float) or not 0 <= lock_timeout < math.inf:
            raise ConfigError(
                f"lock_timeout must be a finite number of seconds >= 0, not {lock_timeout!r}"
            )
        if out_of_order not in OUT_OF_ORDER_POLICIES:
            raise ConfigError(
                f"out_of_order must be one of {', '.join(OUT_OF_ORDER_POLICIES)}, not {out_of_order!r}"
            )
        self.out_of_order = out_of_order
        if max_replica_lag is not None and not 0 <= max_replica_lag < math.inf:
            raise ConfigError(
                f"max_replica_lag must be a finite number of seconds >= 0, not {max_replica_lag!r}"
            )
        self.max_replica_lag = max_replica_lag
        self.replicas = tuple(replicas)
        """URLs of replicas data steps watch (``max_replica_lag``) beside those the primary
        reports itself."""
        if ddl_lock_timeout is not None and not 0 < ddl_lock_timeout < math.inf:
            raise ConfigError(
                f"ddl_lock_timeout must be a finite number of seconds > 0, or None to wait "
                f"as long as the server does; not {ddl_lock_timeout!r}"
            )
        if not isinstance(ddl_retries, int) or ddl_retries < 0:
            raise ConfigError(f"ddl_retries must be a whole number >= 0, not {ddl_retries!r}")
        self.ddl_lock_timeout, self.ddl_retries = ddl_lock_timeout, ddl_retries
        if lint not in ("error", "warn", "off"):
            raise ConfigError(f"lint must be one of error, warn, off, not {lint!r}")
        self.lint, self.lint_large_table_rows, self.on_lint = lint, lint_large_table_rows, on_lint
        """``on_lint(report)`` is called with the plan's lint report before anything runs."""
        """The default ``max_replica_lag`` of data steps that do not set their own."""
        self.adapter = adapter
        self.plugins = (
            plugins
            if isinstance(plugins, Plugins)
            else Plugins.load(plugins, autoload=autoload_plugins)
        )
        self.dialect = self.plugins.dialect(dialect)
        adapter_dialect = getattr(adapter, "dialect_name", self.dialect.name)
        if adapter_dialect != self.dialect.name:
            raise ConfigError(
                f"the adapter is for {adapter_dialect!r} but dialect={self.dialect.name!r} was "
                f"given; pass the dialect that matches the adapter"
            )
        for url in self.replicas:  # a mistyped replica fails now, not in a data step's middle
            try:
                self.dialect.adapter_from_url(url, None)
            except ConfigError as exc:
                raise ConfigError(f"replicas: {exc}") from None
        self.migrations_dir = Path(migrations_dir)
        self.enable_locking = enable_locking
        self.enable_backup = enable_backup
        # Session-held locks do not hold through a transaction pooler (each statement may run
        # on another server session): the table lock, a row in a committed table, does.
        pooled = getattr(adapter, "pooler", None) == "transaction"
        self.lock_name = lock or ("table" if pooled else self.dialect.default_lock)
        self.lock_timeout = lock_timeout
        self.lock_options = dict(lock_options or {})
        self.backup_name = backup
        self.backup_dir = Path(backup_dir)
        self.backup_keep = backup_keep
        history_kwargs = {"table": history_table} if history_table else {}
        self.history = MigrationHistory(
            adapter, self.dialect, self.plugins, checksum_for=self._checksum_for, **history_kwargs
        )
        if enable_locking:
            self.plugins.lock_strategies.get(self.lock_name)  # unknown name: fail at construction
        self.lock_guard: Callable[[Adapter], Awaitable[None]] | None = None
        """While the lock is held: the check the runner makes before each commit."""

    # -- loading ------------------------------------------------------------------------------

    def load_migrations(self) -> list[Migration]:
        """Every migration file, in execution order (raises ``DiscoveryError``)."""
        return discover(self.migrations_dir, self.dialect.split_statements)

    def _checksum_for(self, name: str) -> str | None:
        found = next((m for m in self.load_migrations() if m.name == name), None)
        return found.checksum() if found else None

    def lock_strategy(self) -> LockStrategy:
        if not self.enable_locking:
            return NoLock()
        factory = self.plugins.lock_strategies.get(self.lock_name)
        options = {"history_table": self.history.table, **self.lock_options}
        strategy: LockStrategy = factory(
            adapter=self.adapter, dialect=self.dialect, options=options, plugins=self.plugins
        )
        return strategy

    async def require_writable(self) -> None:
        """Stop before anything is written to a server that accepts no writes: a deploy
        aimed at a replica must fail, even with nothing pending, not pass silently."""
        stmt = self.dialect.read_only_sql
        if stmt is None or self.database_missing() is not None:
            return
        reason = await self.adapter.fetch_value(stmt.text, stmt.params)
        if reason:
            raise ReadOnlyDatabaseError(
                f"this is a read-only replica ({reason}); point covet at the primary"
            )

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        await self.require_writable()
        strategy = self.lock_strategy()
        start = time.monotonic()
        await strategy.acquire(self.lock_timeout)
        # Which lock really guards the run (a cluster or a pooler may change it): shown by -v.
        held = getattr(strategy, "effective", None) or self.lock_name
        log.info("lock.acquired", lock=held, waited=round(time.monotonic() - start, 6))
        self.lock_guard = guard_for(strategy)
        try:
            yield
        finally:
            self.lock_guard = None
            await strategy.release()
            log.debug("lock.released", lock=self.lock_name)

    # -- status -------------------------------------------------------------------------------

    def database_missing(self) -> str | None:
        """The database, if it does not exist yet and connecting would create it (a SQLite
        file); ``None`` otherwise. Adapters that can tell offer ``missing_database()``."""
        probe = getattr(self.adapter, "missing_database", None)
        return probe() if callable(probe) else None

    async def _records(self) -> list[HistoryRecord]:
        # Looking must not create: a database that does not exist yet has no history.
        if self.database_missing() is not None:
            return []
        return self._check_folder(await self.history.records())

    def _check_folder(self, records: list[HistoryRecord]) -> list[HistoryRecord]:
        """``records``, unless the migrations folder does not exist while the history is not
        empty: a mistyped path must not make every applied migration look deleted (to status,
        validate, and above all repair). A new project's missing folder is just empty."""
        if records and not self.migrations_dir.exists():
            raise DiscoveryError(
                f"migrations folder {self.migrations_dir} does not exist, but the history "
                f"records {len(records)} migration(s); check migrations_dir"
            )
        return records

    async def get_status(self) -> list[MigrationStatus]:
        """Every migration file and every history row, files first in execution order."""
        migrations = self.load_migrations()
        history = await self._records()
        late = out_of_order(migrations, history) if self.out_of_order != "allow" else {}
        records = {r.name: r for r in history}
        statuses = []
        for m in migrations:
            record = records.pop(m.name, None)
            line = status_of(m.name, record, m)
            if m.name in late:
                line = dataclasses.replace(line, out_of_order=True)
            statuses.append(line)
        for record in sorted(records.values(), key=lambda r: r.execution_order):
            statuses.append(status_of(record.name, record, None))
        return statuses

    async def validate(self) -> list[str]:
        """Problems between files and history (changed, missing, partial); empty when clean."""
        return problems(self.load_migrations(), await self._records())

    # -- up -----------------------------------------------------------------------------------

    async def migrate_up(
        self, target: str | None = None, dry_run: bool = False, verify: bool | str = False
    ) -> dict[str, Any]:
        """Apply pending migrations (up to and including ``target``). Never raises.

        ``dry_run=True, verify=True`` runs them for real in a transaction that is rolled
        back, and reports per migration under ``"verified"`` (transactional DDL only);
        ``verify="scratch"`` runs them on a scratch copy of the schema instead (any server
        database, MySQL/MariaDB included), dropped afterwards."""
        run = self.upgrade(target=target, dry_run=dry_run, verify=verify)
        return await as_result("up", run, dry_run)

    async def upgrade(
        self, target: str | None = None, dry_run: bool = False, verify: bool | str = False
    ) -> RunReport:
        start = time.monotonic()
        migrations = self.load_migrations()
        report = RunReport("up", dry_run=dry_run)
        if verify and not dry_run:
            raise ConfigError("verify runs the migrations and undoes them: it needs dry_run")
        if verify not in (False, True, "rollback", "scratch"):
            raise ConfigError(f'verify must be True, "rollback" or "scratch", not {verify!r}')
        if dry_run:
            records = await self._records()
            plan = plan_up(migrations, records, target)
            self._check_order(report, plan, migrations, records)
            self._describe(report, plan, "up")
            await self._lint(report, plan, refuse=False)
            if verify == "scratch":
                report.verified_on = "scratch"
                report.verified, report.scratch_lacks = await self._verify_on_scratch(plan)
            elif verify:
                report.verified_on = "rollback"
                report.verified = await self._verify(plan)
            if plan and self.enable_backup:
                report.backup = f"would take a {self._backup_name()} backup"
            report.duration = time.monotonic() - start
            return report
        async with self.locked():
            await self.history.ensure()
            records = self._check_folder(await self.history.records())
            plan = plan_up(migrations, records, target)
            self._check_order(report, plan, migrations, records)
            self._describe(report, plan, "up")
            await self._lint(report, plan, refuse=True)
            if plan and self.enable_backup:
                report.backup = await self.backup(plan[0].name)
            await self._run(plan, "up", report, records)
        report.duration = time.monotonic() - start
        return report

    # -- down ---------------------------------------------------------------------------------

    async def migrate_down(
        self, steps: int = 1, dry_run: bool = False, target: str | None = None
    ) -> dict[str, Any]:
        """Roll back the last ``steps`` applied migrations (or all after ``target``)."""
        return await as_result(
            "down", self.downgrade(steps=steps, dry_run=dry_run, target=target), dry_run
        )

    async def downgrade(
        self, steps: int = 1, dry_run: bool = False, target: str | None = None
    ) -> RunReport:
        start = time.monotonic()
        migrations = self.load_migrations()
        report = RunReport("down", dry_run=dry_run)
        if dry_run:
            plan = plan_down(migrations, await self._records(), steps, target)
            self._describe(report, plan, "down")
        else:
            async with self.locked():
                records = self._check_folder(await self.history.records())
                plan = plan_down(migrations, records, steps, target)
                self._describe(report, plan, "down")
                await self._run(plan, "down", report, records)
        report.duration = time.monotonic() - start
        return report

    # -- running ------------------------------------------------------------------------------

    def _describe(self, report: RunReport, plan: list[Migration], direction: str) -> None:
        report.plan = [
            {
                "name": m.name,
                "transaction": uses_transaction(m, self.dialect, direction),
                "sql": plan_text(m, direction),
            }
            for m in plan
        ]
        if report.dry_run:
            report.names = [m.name for m in plan]

    async def _run(
        self,
        plan: list[Migration],
        direction: str,
        report: RunReport,
        records: list[HistoryRecord],
    ) -> None:
        runner = MigrationRunner(
            self.adapter, self.dialect, self.plugins, self.history, records, self.lock_guard
        )
        runner.share_commits = True
        runner.max_replica_lag = self.max_replica_lag
        runner.replicas = self.replicas
        runner.ddl_lock_timeout = self.ddl_lock_timeout
        try:
            async with runner.bounded():
                for migration in plan:
                    try:
                        result = await run_retrying(runner, migration, direction, self.ddl_retries)
                    except CovetError as error:
                        # Whatever stopped the run, the caller learns which migrations completed.
                        done = [*report.names, *filter(None, [getattr(error, "completed", None)])]
                        error.applied = done  # type: ignore[attr-defined]
                        raise
                    report.names.append(migration.name)
                    report.results.append(result)
        finally:
            await runner.flush()

    # -- maintenance --------------------------------------------------------------------------

    async def create_migration(
        self,
        name: str,
        forward_sql: str | Sequence[str] | None = None,
        backward_sql: str | Sequence[str] | None = None,
        dependencies: Sequence[str] = (),
    ) -> Path:
        """Write a new ``YYYY_MM_DD_HHMMSS_<name>.py`` migration and return its path."""
        known = [m.name for m in self.load_migrations()]
        return write_migration_file(
            self.migrations_dir,
            name,
            forward_sql=forward_sql,
            backward_sql=backward_sql,
            dependencies=dependencies,
            known_names=known,
            dialect_name=self.dialect.name,
        )
