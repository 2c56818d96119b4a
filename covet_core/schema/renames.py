"""The built-in rename detector, registered like any plugin through ``covet_detect_renames``.

A dropped column and an added column in the same table are a rename candidate only when their
normalised type and nullability are identical; the score then weighs how alike the names are
(``username`` / ``user_name`` are the same letters) and how close their positions are. Tables
are candidates when their column sets are identical. Pure: no I/O, no prompts.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import pluggy

from covet_core.hookspecs import PROJECT_NAME
from covet_core.schema.model import Column, Table

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

NAME_WEIGHT = 0.7
POSITION_WEIGHT = 0.3


@dataclass(frozen=True)
class RenameCandidate:
    """``old`` in ``table`` may have become ``new``. For a table rename ``kind`` is ``"table"``
    and ``table`` is empty; ``old`` / ``new`` are then qualified table names."""

    table: str
    old: str
    new: str
    score: float
    kind: str = "column"
    reason: str = ""

    def __str__(self) -> str:
        if self.kind == "table":
            return f"table {self.old} -> {self.new}"
        return f"{self.table}.{self.old} -> {self.new}"

    @property
    def flag(self) -> str:
        """The ``--rename`` argument that states this rename explicitly."""
        if self.kind == "table":
            return f"{self.old}:{self.new.rsplit('.', 1)[-1]}"
        return f"{self.table}.{self.old}:{self.new}"


def name_similarity(a: str, b: str) -> float:
    def squash(name: str) -> str:
        return name.lower().replace("_", "").replace("-", "")

    return SequenceMatcher(None, squash(a), squash(b)).ratio()


def _column_candidates(
    table: str, removed: list[tuple[int, Column]], added: list[tuple[int, Column]], width: int
) -> list[RenameCandidate]:
    found = []
    for old_pos, old in removed:
        for new_pos, new in added:
            if (old.type, old.nullable) != (new.type, new.nullable):
                continue  # a different type is a different column, whatever its name
            names = name_similarity(old.name, new.name)
            position = 1.0 - abs(old_pos - new_pos) / max(width, 1)
            score = NAME_WEIGHT * names + POSITION_WEIGHT * position
            reason = f"same type {new.type}, name similarity {names:.2f}"
            found.append(
                RenameCandidate(table, old.name, new.name, round(score, 3), "column", reason)
            )
    return found


def _signature(table: Table) -> frozenset[tuple[str, Any, bool]]:
    return frozenset((c.name, c.type, c.nullable) for c in table.columns)


def _table_candidates(removed: list[Table], added: list[Table]) -> list[RenameCandidate]:
    found = []
    for old in removed:
        for new in added:
            if old.schema != new.schema or _signature(old) != _signature(new):
                continue
            score = 0.9 + 0.1 * name_similarity(old.name, new.name)
            found.append(
                RenameCandidate("", old.key, new.key, round(score, 3), "table", "same columns")
            )
    return found


@hookimpl
def covet_detect_renames(
    table: str | None, removed: list[Any], added: list[Any], dialect: Any
) -> list[RenameCandidate]:
    """``removed`` / ``added`` are ``(position, Column)`` pairs for a table's columns, or
    ``Table`` objects when ``table`` is ``None`` (table renames)."""
    if table is None:
        return _table_candidates(removed, added)
    width = max([p for p, _ in removed] + [p for p, _ in added] + [1]) + 1
    return _column_candidates(table, removed, added, width)
