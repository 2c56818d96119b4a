"""BulkDataMigration's write path on PostgreSQL: one ``UPDATE ... FROM unnest(...)`` per batch.

Each column travels as one typed array parameter, so a batch of thousands of rows is a single
statement and a single round trip (per-row executemany is several times slower).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from covet_core.dialect import quote_ansi as q


class UnnestWriter:
    def __init__(self, adapter: Any, table: str) -> None:
        self.adapter = adapter
        self.table = table
        self._types: dict[str, str] | None = None

    async def _column_types(self) -> dict[str, str]:
        if self._types is None:
            rows = await self.adapter.fetch_all(
                "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type "
                "FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident($1)) "
                "AND a.attnum > 0 AND NOT a.attisdropped",
                (self.table,),
            )
            self._types = {r["name"]: r["type"] for r in rows}
        return self._types

    async def update(
        self, keys: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        types = await self._column_types()
        names = [*keys, *columns]
        arrays = [[row[i] for row in rows] for i in range(len(names))]
        unnest = ", ".join(f"${i}::{types[n]}[]" for i, n in enumerate(names, 1))
        sets = ", ".join(f"{q(c)} = v.{q(c)}" for c in columns)
        match = " AND ".join(f"t.{q(k)} = v.{q(k)}" for k in keys)
        alias = ", ".join(q(n) for n in names)
        await self.adapter.execute(
            f"UPDATE {q(self.table)} AS t SET {sets} FROM unnest({unnest}) AS v({alias}) WHERE {match}",
            arrays,
        )


def writer(adapter: Any, table: str) -> UnnestWriter:
    return UnnestWriter(adapter, table)
