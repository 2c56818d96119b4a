"""BulkDataMigration's paths on PostgreSQL: pages read as asyncpg records, and one
``UPDATE ... FROM unnest(...)`` per batch.

Each column travels as one typed array parameter, so a batch of thousands of rows is a single
statement and a single round trip (per-row executemany is several times slower). The UPDATE is
also bounded to the batch's key range (``t.key BETWEEN first AND last``): without it the planner
often hash-joins the arrays against a scan of the whole table, or probes the index once per row;
with it, it reads just the batch's range of the index (measured: 7.2 s -> 5.4 s of server time
for 1,000,000 rows in batches of 10,000).

When the keys are integers and the written values are ints and strs into integer and text
columns, the columns travel as JSON arrays instead (``ROWS FROM (json_array_elements_text(...))``
cast to the column types): asyncpg's array encoder checks every element against the
``Iterable`` ABC, which cost more client time per row (0.8 us) than ``json.dumps`` does (0.4 us)
for the same server time. Other values (dates, decimals, bytes, ...) keep the typed arrays.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from covet_core.data.bulk import gc_paused
from covet_core.dialect import quote_ansi as q


class UnnestWriter:
    reads_beside_writes = True
    """The next page may be read on a second connection while a batch is written
    (``covet_core.data.prefetch``)."""

    def __init__(self, adapter: Any, table: str) -> None:
        self.adapter = adapter
        self.table = table
        self._types: dict[str, str] | None = None
        self._top_level = False
        self._own_reader = False
        self._saved: Any = None

    async def fetch(
        self, sql: str, params: Sequence[Any]
    ) -> tuple[tuple[str, ...], list[dict[str, Any]], list[Any]]:
        """The page as dicts for the transform, and the records themselves (immutable, and
        comparable with tuples) as the values read: no second copy of every row.

        The page is read walking the key index (``_WALK_INDEX``): for ``key > $1 ORDER BY key
        LIMIT n`` on a table without statistics (just loaded, never analyzed) the planner was
        seen to pick a parallel scan of the whole table and a sort, for every page: 100 ms per
        page of a 300,000-row table instead of 6, and quadratic in the table's size. Walking
        the index reads each row once over the whole migration, whatever the ``where``."""
        conn = self.adapter.connection
        try:
            # Inside the caller's transaction a SET LOCAL would outlive this read.
            if self._own_reader or conn.is_in_transaction():
                records = await conn.fetch(sql, *params)
            else:
                async with conn.transaction():
                    await conn.execute(_WALK_INDEX.replace("SET ", "SET LOCAL "))
                    records = await conn.fetch(sql, *params)
        except Exception as exc:
            raise self.adapter.translate(exc) from exc
        if not records:
            return (), [], []
        with gc_paused():
            rows = list(map(dict, map(type(records[0]).items, records)))
        return tuple(records[0].keys()), rows, records

    async def prepare_reader(self) -> None:
        """This writer's connection is covet's own and only reads pages: set it to walk the
        key index, for the session (``release_reader`` puts the settings back, for a
        connection that returns to a pool)."""
        conn = self.adapter.connection
        try:
            self._saved = await conn.fetchrow(_SETTINGS_NOW)
            await conn.execute(_WALK_INDEX)
        except Exception as exc:
            raise self.adapter.translate(exc) from exc
        self._own_reader = True

    async def release_reader(self) -> None:
        if self._saved is not None:
            await self.adapter.connection.execute(_SETTINGS_BACK, *self._saved.values())
            self._saved, self._own_reader = None, False

    async def prepare(self) -> None:
        """Read the table's column types (once, while the connection is free)."""
        if self._types is not None:
            return
        # Inside a caller's own transaction each batch is a savepoint, and a SET LOCAL would
        # outlive it until that transaction ends: the planner hint is then left out.
        self._top_level = not self.adapter.connection.is_in_transaction()
        rows = await self.adapter.fetch_all(
            # Without the typmod: an explicit cast to varchar(5) or numeric(6,2) truncates
            # or rounds silently; to the bare type, the assignment to the column checks it
            # (and raises on a too-long string) exactly as binding a value directly would.
            # Two bare names mean length 1 in a cast, though: "character" (so bpchar) and
            # "bit" (which keeps its declared length).
            "SELECT a.attname AS name, CASE a.atttypid WHEN 'bpchar'::regtype THEN 'bpchar' "
            "WHEN 'bit'::regtype THEN format_type(a.atttypid, a.atttypmod) "
            "ELSE format_type(a.atttypid, NULL) END AS type "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident($1)) "
            "AND a.attnum > 0 AND NOT a.attisdropped",
            (self.table,),
        )
        self._types = {r["name"]: r["type"] for r in rows}

    def statements(
        self, keys: Sequence[str], columns: Sequence[str], arrays: Sequence[Sequence[Any]],
        span: tuple[tuple[Any, ...], tuple[Any, ...]],
    ) -> list[tuple[str, Any, bool]] | None:  # fmt: skip
        """The batch's write as ``(sql, params, many)`` statements, encoded but not run (None:
        covet's row-by-row UPDATE).
        ``arrays``: one per key column, then one per column in ``columns``; ``span``: the
        batch's first and last key, which every key in ``arrays`` lies between."""
        if self._types is None:
            raise RuntimeError("UnnestWriter.prepare() must run before statements()")
        types = self._types
        names = [*keys, *columns]
        if any(types[n].endswith("]") for n in names):
            # unnest() would flatten an array column's values into its elements: covet's
            # row-by-row UPDATE instead.
            return None
        alias = ", ".join(q(n) for n in names)
        if _json_safe(keys, names, arrays, types):
            elements = ", ".join(
                f"json_array_elements_text(${i}::json)" for i in range(1, len(names) + 1)
            )
            source = f"ROWS FROM ({elements}) AS v({alias})"
            params: list[Any] = [json.dumps(a, ensure_ascii=False) for a in arrays]
            value = {n: f"v.{q(n)}::{types[n]}" for n in names}
        else:
            unnest = ", ".join(f"${i}::{types[n]}[]" for i, n in enumerate(names, 1))
            source = f"unnest({unnest}) AS v({alias})"
            params = list(arrays)
            value = {n: f"v.{q(n)}" for n in names}
        sets = ", ".join(f"{q(c)} = {value[c]}" for c in columns)
        match = " AND ".join(f"t.{q(k)} = {value[k]}" for k in keys)
        n = len(names)
        lo = ", ".join(f"${i}" for i in range(n + 1, n + len(keys) + 1))
        hi = ", ".join(f"${i}" for i in range(n + len(keys) + 1, n + 2 * len(keys) + 1))
        key = ", ".join(f"t.{q(k)}" for k in keys)
        within = f"({key}) >= ({lo}) AND ({key}) <= ({hi})" if len(keys) > 1 else (
            f"{key} BETWEEN {lo} AND {hi}"
        )  # fmt: skip
        out: list[tuple[str, Any, bool]] = []
        if self._top_level and _dense(keys, types, span, len(arrays[0])):
            # The planner guesses 100 rows for the function scan and probes the key's index
            # once per row (1.1 us each); the batch's range holds at most twice its rows, so
            # one scan of that range into a hash of the batch is cheaper (measured: the join
            # 15 ms -> 9.5 ms, the whole UPDATE 41 -> 35 ms for 10,000 rows). LOCAL: only for
            # this transaction, which is the batch's own.
            out.append(("SET LOCAL enable_nestloop = off", None, False))
        update = f"UPDATE {q(self.table)} AS t SET {sets} FROM {source} WHERE {match} AND {within}"
        out.append((update, [*params, *span[0], *span[1]], False))
        return out


_WALK_INDEX = (
    "SET enable_seqscan = off; SET enable_sort = off; SET max_parallel_workers_per_gather = 0"
)
"""Planner settings for page reads: no whole-table scan, no sort, so the key's index order."""
_SETTING_NAMES = ("enable_seqscan", "enable_sort", "max_parallel_workers_per_gather")
_SETTINGS_NOW = "SELECT " + ", ".join(f"current_setting('{n}') AS {n}" for n in _SETTING_NAMES)
_SETTINGS_BACK = "SELECT " + ", ".join(
    f"set_config('{n}', ${i}, false)" for i, n in enumerate(_SETTING_NAMES, 1)
)

_INTS = {"smallint", "integer", "bigint"}
_INT_VALUES = {int, type(None)}
_TEXT_VALUES = {str, type(None)}


def _json_safe(
    keys: Sequence[str], names: Sequence[str], arrays: Sequence[Sequence[Any]],
    types: dict[str, str],
) -> bool:  # fmt: skip
    """Whether every value survives JSON and PostgreSQL's text input unchanged: ints into
    integer columns, strs into text columns (keys integers only, so the join compares the
    column's own type and collation on its index)."""
    for i, name in enumerate(names):
        kind = types[name]
        found = set(map(type, arrays[i]))
        if kind in _INTS and found <= _INT_VALUES:
            continue
        if i >= len(keys) and found <= _TEXT_VALUES and _is_text(kind):
            continue
        return False
    return True


def _dense(
    keys: Sequence[str], types: dict[str, str], span: tuple[tuple[Any, ...], tuple[Any, ...]],
    rows: int,
) -> bool:  # fmt: skip
    """Whether the batch's key range holds at most about twice its rows: a single integer key
    whose first and last values are that close."""
    if len(keys) != 1 or types[keys[0]] not in _INTS:
        return False
    lo, hi = span[0][0], span[1][0]
    return isinstance(lo, int) and isinstance(hi, int) and hi - lo < 2 * rows


def _is_text(kind: str) -> bool:
    return kind in ("text", "character varying", "bpchar")


def writer(adapter: Any, table: str) -> UnnestWriter:
    return UnnestWriter(adapter, table)
