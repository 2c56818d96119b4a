"""BulkDataMigration's write path on MySQL / MariaDB: one ``UPDATE ... JOIN`` per batch.

The batch's new values ride in a derived table (``SELECT ... UNION ALL SELECT ...``) joined on
the key: one statement and one round trip per batch. Unlike ``INSERT ... ON DUPLICATE KEY
UPDATE`` it can never re-create a row that was deleted meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from covet_dialect_mysql import quote as q


class JoinWriter:
    def __init__(self, adapter: Any, table: str) -> None:
        self.adapter = adapter
        self.table = table

    async def update(
        self, keys: Sequence[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        names = [*keys, *columns]
        first = "SELECT " + ", ".join(f"%s AS {q(n)}" for n in names)
        rest = " UNION ALL SELECT " + ", ".join("%s" for _ in names)
        derived = first + rest * (len(rows) - 1)
        sets = ", ".join(f"t.{q(c)} = v.{q(c)}" for c in columns)
        match = " AND ".join(f"t.{q(k)} = v.{q(k)}" for k in keys)
        params = [value for row in rows for value in row]
        await self.adapter.execute(
            f"UPDATE {q(self.table)} AS t JOIN ({derived}) AS v ON {match} SET {sets}", params
        )


def writer(adapter: Any, table: str) -> JoinWriter:
    return JoinWriter(adapter, table)
