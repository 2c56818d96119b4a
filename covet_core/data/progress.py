"""What a data migration reports after each batch (the guide's fields, plus failures)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class Progress:
    total_rows: int
    """Rows the migration will visit (exact count; ``total_is_estimate`` says otherwise)."""
    processed_rows: int = 0
    """Rows visited so far, including rows of an earlier run being resumed."""
    failed_rows: int = 0
    """Rows in batches that failed and were skipped (``on_failure="skip"``)."""
    batches: int = 0
    total_is_estimate: bool = False
    resumed_from: int = 0
    """Rows already processed by an earlier run when this one resumed."""
    started_at: float = field(default_factory=time.monotonic)
    throttled_seconds: float = 0.0
    """Time spent waiting for replicas to catch up (``max_replica_lag``)."""
    replica_lag: float = 0.0
    """How far behind the slowest replica was when last measured, in seconds."""

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started_at, 1e-9)

    @property
    def success_rate(self) -> float:
        """Percent of processed rows that did not fail (100.0 before any row)."""
        if not self.processed_rows:
            return 100.0
        return 100.0 * (self.processed_rows - self.failed_rows) / self.processed_rows

    @property
    def rows_per_second(self) -> float:
        return (self.processed_rows - self.resumed_from) / self.elapsed

    @property
    def eta_seconds(self) -> float:
        rate = self.rows_per_second
        remaining = max(self.total_rows - self.processed_rows, 0)
        return remaining / rate if rate > 0 else 0.0


def throttle_fields(progress: Progress) -> dict[str, object]:
    """What a progress report adds once replicas made the migration wait (JSON-safe: a
    stopped replica's lag is ``"stopped"``, not infinity)."""
    if not progress.throttled_seconds:
        return {}
    lag = progress.replica_lag
    return {
        "throttled_seconds": round(progress.throttled_seconds, 1),
        "replica_lag": round(lag, 1) if math.isfinite(lag) else "stopped",
    }
