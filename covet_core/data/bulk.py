"""The bulk writer contract: how a dialect writes a ``BulkDataMigration``'s batches.

``Dialect.bulk_writer(adapter, table)`` returns an object with ``statements`` (encoded writes
covet runs) or ``update`` (writes it runs itself); the rest is optional. covet looks the
optional parts up once per migration (``hasattr``), so a writer implements only what it uses.
docs/data-migrations.md describes the protocol with its reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from covet_core.data.changes import gc_paused

__all__ = ["BulkWriter", "ReadingBulkWriter", "Span", "WriteStatement", "gc_paused"]

Span = tuple[tuple[Any, ...], tuple[Any, ...]]
"""A batch's first and last key (each a tuple of key columns); every key lies between."""
WriteStatement = tuple[str, Any, bool]
"""``(sql, params, many)``: run with ``executemany`` when ``many``, else ``execute``."""


@runtime_checkable
class BulkWriter(Protocol):
    """The required part: one of ``statements`` or ``update`` (both documented here; a writer
    provides the one it needs, and covet prefers ``statements``)."""

    def statements(
        self,
        keys: Sequence[str],
        columns: Sequence[str],
        arrays: Sequence[Sequence[Any]],
        span: Span,
    ) -> list[WriteStatement] | None:
        """The changed rows' write, encoded but not run (covet runs it in the batch's
        transaction, while it transforms the next batch). ``arrays`` holds one sequence per
        key column, then one per column in ``columns``, one entry per row. ``None`` leaves
        these rows to covet's row-by-row ``UPDATE``."""
        ...


class ReadingBulkWriter(BulkWriter, Protocol):
    """The optional parts, for writers that read pages themselves or on a second
    connection (``reads_beside_writes = True``)."""

    reads_beside_writes: bool

    async def update(
        self,
        keys: Sequence[str],
        columns: Sequence[str],
        arrays: Sequence[Sequence[Any]],
        span: Span,
    ) -> None:
        """Instead of ``statements``: run the write now, inside the batch's transaction."""
        ...

    async def prepare(self) -> None:
        """Called once before the first batch, while the connection is free."""
        ...

    async def fetch(
        self, sql: str, params: Sequence[Any]
    ) -> tuple[tuple[str, ...], list[dict[str, Any]], Sequence[Sequence[Any]]]:
        """Run the page query: ``(names, rows as dicts, each row's values as read)``. The
        values must not change when the dicts do (change detection compares them)."""
        ...

    async def prepare_reader(self) -> None:
        """On the second connection's writer, once it is open (covet's own, only reads)."""
        ...

    async def release_reader(self) -> None:
        """Undo ``prepare_reader`` before that connection is closed or returned to a pool."""
        ...
