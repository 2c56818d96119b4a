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
    """Objects of the current database the model does not cover: left alone, never dropped."""
    unmanaged: list[IgnoredObject] = field(default_factory=list)
    """Objects only the *target* has that the model does not cover (a view of the database
    being copied): the operations cannot create them, so a generated migration refuses
    unless told to leave them out (``allow_unmanaged``)."""
    out_of_scope: list[IgnoredObject] = field(default_factory=list)
    """Tables of either side that ``include_tables`` / ``exclude_tables`` kept out of the
    comparison: neither created, changed nor dropped."""
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

    def report(self) -> list[str]:
        """What the operations leave out, from both sides: nothing is lost silently."""
        lines: list[str] = []
        if self.unmanaged:
            lines.append("Not created (the target has them; covet does not model them):")
            lines += [f"  {obj}" for obj in self.unmanaged]
        if self.ignored:
            lines.append("Left alone (in the database; not described by the models):")
            lines += [f"  {obj}" for obj in self.ignored]
        if self.out_of_scope:
            lines.append("Out of scope (include_tables / exclude_tables; not compared):")
            lines += [f"  {obj}" for obj in self.out_of_scope]
        return lines

    def __bool__(self) -> bool:
        return self.has_changes()
