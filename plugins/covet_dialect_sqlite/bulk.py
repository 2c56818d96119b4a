"""BulkDataMigration's paths on SQLite: pages read as plain tuples, batches written with one
``executemany`` in the batch's transaction.

The adapter's connection builds a dict per row in its row factory, and its ``executemany`` runs
every parameter through a per-value conversion: about 1.8 us per row between them, more than
SQLite itself spends. Here the page is read with no row factory (sqlite3 makes the tuples in C;
they double as the values read) and the dicts are built in one ``map``; only columns holding
dates or times get the adapter's ISO-8601 conversion.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Sequence
from itertools import repeat
from typing import Any

from covet_core.data.bulk import gc_paused
from covet_core.dialect import quote_ansi as q
from covet_dialect_sqlite.adapter import _param, _params

_DATES = (_dt.datetime, _dt.date, _dt.time)


class ExecutemanyWriter:
    reads_beside_writes = False  # one writer at a time: a second connection gains nothing

    def __init__(self, adapter: Any, table: str) -> None:
        self.adapter = adapter
        self.table = table

    async def fetch(
        self, sql: str, params: Sequence[Any]
    ) -> tuple[tuple[str, ...], list[dict[str, Any]], list[tuple[Any, ...]]]:
        try:
            cursor = await self.adapter.connection.cursor()
            cursor.row_factory = None  # this cursor only: tuples, whatever the connection uses
            await cursor.execute(sql, _params(params))
            rows = list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise self.adapter.translate(exc) from exc
        if not rows:
            return (), [], []
        names = tuple(d[0] for d in cursor.description)
        with gc_paused():
            return names, list(map(dict, map(zip, repeat(names), rows))), rows

    async def update(
        self, keys: Sequence[str], columns: Sequence[str], arrays: Sequence[Sequence[Any]],
        span: Any = None,
    ) -> None:  # fmt: skip
        """``arrays``: one per key column, then one per column in ``columns``."""
        sets = ", ".join(f"{q(c)} = ?" for c in columns)
        match = " AND ".join(f"{q(k)} = ?" for k in keys)
        n = len(keys)
        ordered = [_bindable(a) for a in (*arrays[n:], *arrays[:n])]
        try:
            await self.adapter.connection.executemany(
                f"UPDATE {q(self.table)} SET {sets} WHERE {match}", list(zip(*ordered, strict=True))
            )
        except sqlite3.Error as exc:
            raise self.adapter.translate(exc) from exc


def _bindable(values: Sequence[Any]) -> Sequence[Any]:
    """The column as the adapter would bind it: dates and times as ISO-8601 text."""
    if not any(issubclass(kind, _DATES) for kind in set(map(type, values))):
        return values
    return list(map(_param, values))


def writer(adapter: Any, table: str) -> ExecutemanyWriter:
    return ExecutemanyWriter(adapter, table)
