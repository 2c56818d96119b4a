"""Schema-change operations: frozen data that says *what* changes, never *how* it renders.

Rendering is the dialect's job, through the ``covet_render_operation`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass

from covet_core.schema.model import Table


@dataclass(frozen=True)
class Operation:
    """Base of every schema operation."""


@dataclass(frozen=True)
class CreateTable(Operation):
    table: Table
    if_not_exists: bool = False

    def reverse(self) -> DropTable:
        return DropTable(self.table.name, schema=self.table.schema)


@dataclass(frozen=True)
class DropTable(Operation):
    name: str
    schema: str | None = None
    if_exists: bool = False
