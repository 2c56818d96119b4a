"""The manager's checks before a plan runs: the lint, the verified dry runs (rolled back,
or on a scratch copy) and the out-of-order policy."""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from covet_core.errors import ConfigError, HistoryError, LintRefusedError
from covet_core.log import get_logger
from covet_core.migration import Migration
from covet_core.planning import out_of_order
from covet_core.runner import uses_transaction
from covet_core.verify import Verified, refuse_unverifiable, verify_plan

if TYPE_CHECKING:
    from collections.abc import Callable

    from covet_core.adapter import Adapter
    from covet_core.dialect import Dialect
    from covet_core.history import HistoryRecord
    from covet_core.manager import RunReport
    from covet_core.plugins import Plugins

log = get_logger()


class CheckMethods:
    """Mixed into ``MigrationManager``, which provides these attributes."""

    adapter: Adapter
    dialect: Dialect
    plugins: Plugins
    lint: str
    lint_large_table_rows: int | None
    on_lint: Callable[[Any], None] | None
    ddl_lock_timeout: float | None
    out_of_order: str

    if TYPE_CHECKING:  # provided by MigrationManager

        def database_missing(self) -> str | None: ...

    async def _lint(self, report: RunReport, plan: list[Migration], refuse: bool) -> None:
        """Lint the plan's migrations only, and only when there is a plan: the cost of ``up``
        with nothing to do stays the same, and the parsers are imported only here."""
        if not plan or self.lint == "off":
            return
        from covet_core.lint import lint

        missing = self.database_missing() is not None
        report.lint = await lint(
            plan,
            self.dialect,
            None if missing else self.adapter,
            large_rows=self.lint_large_table_rows,
        )
        if self.on_lint is not None:
            self.on_lint(report.lint)
        errors = report.lint.at_or_above("error")
        if refuse and self.lint == "error" and errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise LintRefusedError(
                f'lint = "error": {first.migration} line {first.line}: [{first.rule}] '
                f"{first.message}{more}; nothing was applied. Fix it (`covet migrate lint` "
                f"shows the rewrite), silence it with -- covet:allow {first.rule} <reason>, "
                f"or pass --no-lint"
            )

    async def _verify(self, plan: list[Migration]) -> list[Verified]:
        refuse_unverifiable(self.dialect)
        if (missing := self.database_missing()) is not None:
            raise ConfigError(f"the database {missing} does not exist yet: nothing to verify on")

        def outside(migration: Migration) -> bool:
            return not migration.data_steps and not uses_transaction(migration, self.dialect)

        timeout = self.dialect.lock_timeout
        bounded = (
            timeout(self.adapter, self.ddl_lock_timeout)
            if timeout is not None and self.ddl_lock_timeout is not None
            else nullcontext()
        )
        async with bounded:
            return await verify_plan(self.adapter, self.dialect, self.plugins, plan, outside)

    async def _verify_on_scratch(self, plan: list[Migration]) -> tuple[list[Verified], list[str]]:
        from covet_core.verify_scratch import verify_on_scratch

        if (missing := self.database_missing()) is not None:
            raise ConfigError(f"the database {missing} does not exist yet: nothing to verify on")
        if not plan:
            return [], []
        return await verify_on_scratch(self.adapter, self.dialect, self.plugins, plan)

    def _check_order(
        self,
        report: RunReport,
        plan: list[Migration],
        migrations: list[Migration],
        records: list[HistoryRecord],
    ) -> None:
        if self.out_of_order == "allow":
            return
        late = out_of_order(migrations, records)
        report.out_of_order = {m.name: late[m.name] for m in plan if m.name in late}
        if report.out_of_order and self.out_of_order == "refuse":
            name, newest = next(iter(report.out_of_order.items()))
            more = len(report.out_of_order) - 1
            raise HistoryError(
                f"{name} is older than the newest applied migration {newest}"
                f'{f" (and {more} more)" if more else ""}, and out_of_order is "refuse"; '
                f'give it a newer timestamp (rename the file), or set out_of_order = "warn"'
            )
        for name, newest in report.out_of_order.items():
            log.warning("migration.out_of_order", migration=name, newest_applied=newest)
