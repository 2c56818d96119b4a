"""What a transform changed: the rows and columns to write back, grouped for bulk statements.

This is the hot loop of every data migration, so it works column by column with C-level
operations instead of row by row in Python: the returned rows' values are gathered in read order
(``itemgetter``), both sides are transposed into columns (``zip``), a column the transform did
not touch is skipped by one tuple comparison (identity first), and only a touched column gets a
per-row ``map(operator.ne, ...)``. The values read are the driver's own row tuples (no copy of
each row is taken). Rows without exactly the columns read (a transform that added or dropped
keys) take a row-by-row path with the same result. Measured: about 0.3 us per row, against
2.5 us for the per-row dict snapshot and per-column loop this replaced.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import compress
from operator import itemgetter, ne
from typing import Any

from covet_core.errors import CovetError

Row = dict[str, Any]
Changes = dict[tuple[str, ...], list[Sequence[Any]]]
"""{changed columns: [one sequence per key column, then one per changed column]}: the batch's
writes, column-oriented (PostgreSQL binds each as an array; other writers transpose them)."""

_MISSING = object()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection while a batch's rows are built or compared.

    Building ten thousand dicts and tuples triggers a collection every few hundred of them, each
    walking the objects alive (the whole batch): measured as a quarter of a bulk migration's
    Python time. The block is synchronous (no other task runs in it), creates no cycles, and
    restores the previous state, so the user's setting is kept.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class DataMigrationError(CovetError):
    exit_code = 1


def detect(
    names: tuple[str, ...],
    before: Sequence[Sequence[Any]],
    new_rows: list[Row],
    keys: Sequence[str],
) -> Changes:
    """Compare ``new_rows`` (what ``transform_batch`` returned) with ``before`` (the batch as
    read: one value sequence per row, in ``names`` order). A returned row is matched to the read
    row at the same position when the keys agree, else by key; a key not in the batch is an
    error (a data migration updates rows in place)."""
    if not new_rows:
        return {}
    width = len(names)
    key_pos = [names.index(k) for k in keys]
    key_of = itemgetter(*key_pos)  # a scalar for one key column, a tuple otherwise
    try:
        if set(map(len, new_rows)) != {width}:
            raise KeyError
        afters = list(map(itemgetter(*names), new_rows))  # values in read order, any dict order
    except KeyError:
        return _by_row(names, before, new_rows, keys, key_of)
    if width == 1:
        return {}  # only the key: nothing to write
    if len(afters) != len(before) or list(map(key_of, afters)) != list(map(key_of, before)):
        by_key = {key_of(b): b for b in before}
        try:
            before = [by_key[k] for k in map(key_of, afters)]
        except KeyError as exc:
            raise _foreign_key(exc.args[0]) from None
    old_cols, new_cols = list(zip(*before, strict=True)), list(zip(*afters, strict=True))
    diffs: dict[int, list[bool]] = {}
    for j in range(width):
        if j not in key_pos and old_cols[j] != new_cols[j]:  # tuples: C-level, identity first
            diffs[j] = list(map(ne, old_cols[j], new_cols[j]))
    if not diffs:
        return {}
    changed = list(diffs)
    out: Changes = {}
    for mask, index in _groups(list(diffs.values()), len(afters)).items():
        positions = [j for j, hit in zip(changed, mask, strict=True) if hit]
        arrays: list[Sequence[Any]]
        if isinstance(index, range):  # every row: the columns as they are
            arrays = [new_cols[j] for j in (*key_pos, *positions)]
        else:
            pick = itemgetter(*index)
            arrays = [pick(new_cols[j]) for j in (*key_pos, *positions)]
            if len(index) == 1:
                arrays = [(a,) for a in arrays]
        out[tuple(names[j] for j in positions)] = arrays
    return out


def _groups(diffs: list[list[bool]], count: int) -> dict[tuple[bool, ...], Sequence[int]]:
    """Row positions by which of the changed columns changed in them; rows with no change left
    out. The usual cases (every changed row changed the same columns; one column changed) avoid
    a Python-level loop over the rows."""
    if len(diffs) == 1:
        hits = diffs[0]
        if all(hits):
            return {(True,): range(count)}
        return {(True,): list(compress(range(count), hits))}
    masks = list(zip(*diffs, strict=True))
    distinct = set(masks)
    if len(distinct) == 1:
        return {masks[0]: range(count)} if True in masks[0] else {}
    groups: dict[tuple[bool, ...], list[int]] = {m: [] for m in distinct if True in m}
    for i, mask in enumerate(masks):
        group = groups.get(mask)
        if group is not None:
            group.append(i)
    return dict(groups)


def _by_row(
    names: tuple[str, ...], before: Sequence[Sequence[Any]], new_rows: list[Row],
    keys: Sequence[str], key_of: Any,
) -> Changes:  # fmt: skip
    """Rows that do not all have exactly the columns read (a transform that added or dropped
    keys): compare row by row, column by column, writing the columns each row has."""
    by_key = {key_of(b): b for b in before}
    keyset = set(keys)
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in new_rows:
        try:
            key_values = tuple(row[k] for k in keys)
        except KeyError as exc:
            raise DataMigrationError(
                f"transform_batch returned a row without key column {exc}"
            ) from None
        key = key_values[0] if len(keys) == 1 else key_values
        old = by_key.get(key)
        if old is None:
            raise _foreign_key(key)
        was = dict(zip(names, old, strict=True))
        cols = tuple([c for c, v in row.items() if c not in keyset and was.get(c, _MISSING) != v])
        if cols:
            groups.setdefault(cols, []).append((*key_values, *(row[c] for c in cols)))
    return {cols: list(zip(*rows, strict=True)) for cols, rows in groups.items()}


def _foreign_key(key: Any) -> DataMigrationError:
    return DataMigrationError(
        f"transform_batch returned key {key!r}, which was not in the batch; a data "
        f"migration updates rows in place and cannot change primary keys"
    )


def bounds(names: tuple[str, ...], before: Sequence[Sequence[Any]], keys: Sequence[str]) -> Any:
    """The batch's first and last key (tuples), for writers that bound their statement to the
    batch's key range so the planner scans just that range."""
    pos = [names.index(k) for k in keys]
    return tuple(before[0][p] for p in pos), tuple(before[-1][p] for p in pos)
