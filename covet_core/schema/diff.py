"""What a comparison found: the ordered operations, the renames behind them, what was left
alone (objects the model does not cover) and warnings a human should read."""

from __future__ import annotations

from dataclasses import dataclass, field

from covet_core.schema.model import IgnoredObject
from covet_core.schema.operations import Operation
from covet_core.schema.renames import RenameCandidate


@dataclass
class SchemaDiff:
    operations: list[Operation] = field(default_factory=list)
    renames: list[RenameCandidate] = field(default_factory=list)
    """Every rename the operations carry out, explicit or detected."""
    detected_renames: list[RenameCandidate] = field(default_factory=list)
    """The renames that were guessed rather than stated; a caller confirms these."""
    possible_renames: list[RenameCandidate] = field(default_factory=list)
    """Pairs that scored below the threshold and became a drop and an add."""
    ignored: list[IgnoredObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dialect: str | None = None

    def has_changes(self) -> bool:
        return bool(self.operations)

    @property
    def destructive(self) -> list[Operation]:
        return [op for op in self.operations if op.destructive]

    def summary(self) -> list[str]:
        """One line per operation, destructive ones marked."""
        return [("! " if op.destructive else "  ") + op.describe() for op in self.operations]

    def __bool__(self) -> bool:
        return self.has_changes()
