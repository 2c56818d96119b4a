"""Tables and columns described portably; each dialect maps the portable types to its own."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColumnType:
    """A portable type: ``string``, ``text``, ``integer``, ``bigint``, ``float``, ``boolean``,
    ``timestamp``, ... with optional ``length`` / ``precision`` / ``scale``."""

    name: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = True
    default: str | None = None
    """Server default as SQL text, already valid in the target dialect (e.g. ``'0'``)."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    schema: str | None = None
    comment: str | None = field(default=None, compare=False)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)
