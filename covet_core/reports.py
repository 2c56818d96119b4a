"""What a run of ``up`` or ``down`` reports: ``RunReport`` for the CLI, and the guide's dict
(``as_result``) for ``migrate_up`` / ``migrate_down``, which never raise for a user's mistake."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from covet_core.backup import BackupInfo
from covet_core.errors import CovetError, MigrationFailedError
from covet_core.runner import MigrationResult
from covet_core.verify import Verified


@dataclass
class RunReport:
    direction: str
    names: list[str] = field(default_factory=list)
    results: list[MigrationResult] = field(default_factory=list)
    duration: float = 0.0
    dry_run: bool = False
    plan: list[dict[str, Any]] = field(default_factory=list)
    backup: BackupInfo | str | None = None
    out_of_order: dict[str, str] = field(default_factory=dict)
    """Migrations of the plan older than the newest applied one (name -> that one)."""
    verified: list[Verified] | None = None
    """A verified dry run's report, per migration of the plan."""
    verified_on: str | None = None
    """``"rollback"`` (in a transaction, rolled back) or ``"scratch"`` (on a scratch copy)."""
    scratch_lacks: list[str] = field(default_factory=list)
    """With ``verify="scratch"``: objects the scratch copy could not recreate."""
    lint: Any = None
    """The ``LintReport`` of the plan's migrations (``None``: not linted, or nothing to do)."""

    def as_dict(self) -> dict[str, Any]:
        key = "applied" if self.direction == "up" else "rolled_back"
        result: dict[str, Any] = {
            "success": True,
            key: list(self.names),
            "duration": self.duration,
            "error": None,
            "dry_run": self.dry_run,
            "sql": [sql for step in self.plan for sql in step["sql"]],
            "plan": self.plan,
            "failed": None,
            "statement": None,
            "backup": str(self.backup.path) if isinstance(self.backup, BackupInfo) else self.backup,
        }
        if self.verified is not None:
            result["verified"] = [v.as_dict() for v in self.verified]
            result["verified_on"] = self.verified_on
            result["scratch_lacks"] = list(self.scratch_lacks)
            failed = next((v for v in self.verified if v.success is False), None)
            if failed is not None:
                result.update(success=False, error=failed.error, failed=failed.name,
                              statement=failed.statement)  # fmt: skip
        return result


async def as_result(direction: str, run: Any, dry_run: bool) -> dict[str, Any]:
    start = time.monotonic()
    key = "applied" if direction == "up" else "rolled_back"
    try:
        report: RunReport = await run
    except CovetError as error:
        failed = error if isinstance(error, MigrationFailedError) else None
        return {
            "success": False,
            key: list(getattr(error, "applied", [])),
            "duration": time.monotonic() - start,
            "error": str(error),
            "dry_run": dry_run,
            "sql": [],
            "plan": [],
            "failed": failed.migration if failed else None,
            "statement": failed.statement if failed else None,
            "backup": None,
        }
    return report.as_dict()
