"""The column types models use (``String(50)``, ``Integer``): each makes a portable
``ColumnType``; ``covet_core.models`` re-exports them (kept apart for size)."""

from __future__ import annotations

from collections.abc import Callable

from covet_core.errors import ConfigError
from covet_core.schema.model import ColumnType


def String(length: int | None = None) -> ColumnType:
    return ColumnType("string", length=length)


def Char(length: int | None = None) -> ColumnType:
    return ColumnType("char", length=length)


def Numeric(precision: int | None = None, scale: int | None = None) -> ColumnType:
    return ColumnType("decimal", precision=precision, scale=scale)


def DateTime(timezone: bool = False, precision: int | None = None) -> ColumnType:
    return ColumnType("timestamptz" if timezone else "timestamp", precision=precision)


def Enum(*values: str, name: str | None = None) -> ColumnType:
    if not values:
        raise ConfigError("Enum() needs at least one value")
    return ColumnType("enum", values=tuple(values), enum_name=name)


def _fixed(name: str) -> Callable[[], ColumnType]:
    def make() -> ColumnType:
        return ColumnType(name)

    make.__name__ = name
    return make


SmallInteger = _fixed("smallint")
Integer = _fixed("integer")
BigInteger = _fixed("bigint")
Float = _fixed("float")
Real = _fixed("real")
Boolean = _fixed("boolean")
Text = _fixed("text")
Binary = _fixed("binary")
Date = _fixed("date")
Time = _fixed("time")
JSON = _fixed("json")
JSONB = _fixed("jsonb")
UUID = _fixed("uuid")
Decimal = Numeric
