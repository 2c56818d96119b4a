"""Which tables a comparison may touch: ``include_tables`` / ``exclude_tables`` patterns.

A database often holds tables the models do not own (another service's, an extension's, a
framework's). Left in the comparison, each would be proposed as a drop. Out of scope, a table
is neither created, changed nor dropped, and the diff lists it as left alone, so leaving it
out is never silent.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, replace

from covet_core.errors import ConfigError
from covet_core.schema.model import IgnoredObject, Schema, Table


@dataclass(frozen=True)
class TableScope:
    """Glob patterns (``fnmatch``, case-sensitive) on a table's name or ``schema.name``: with
    ``include``, only matching tables are in scope; a table matching ``exclude`` never is."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(cls, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> TableScope:
        scope = cls(tuple(include), tuple(exclude))
        for pattern in (*scope.include, *scope.exclude):
            if not isinstance(pattern, str) or not pattern.strip() or "\x00" in pattern:
                raise ConfigError(
                    f"a table pattern must be a non-empty name or glob, not {pattern!r}"
                )
        return scope

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def owns(self, table: Table) -> bool:
        names = {table.name, table.key}

        def hit(patterns: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(n, p) for n in names for p in patterns)

        return (not self.include or hit(self.include)) and not hit(self.exclude)

    def narrow(self, schema: Schema) -> tuple[Schema, list[IgnoredObject]]:
        """``schema`` with only the tables in scope, and the tables it left out."""
        if not self:
            return schema, []
        kept = {k: t for k, t in schema.tables.items() if self.owns(t)}
        out = [
            IgnoredObject("table", t.name, t.schema)
            for k, t in schema.tables.items()
            if k not in kept
        ]
        return replace(schema, tables=kept), out


def left_out(*lists: list[IgnoredObject]) -> list[IgnoredObject]:
    """The out-of-scope tables of both sides, each once, in name order."""
    seen: dict[str, IgnoredObject] = {}
    for objects in lists:
        for obj in objects:
            seen.setdefault(str(obj), obj)
    return [seen[k] for k in sorted(seen)]
