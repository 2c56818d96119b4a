"""The Adapter protocol: what every dialect's connection object offers the core and users.

Adapters translate driver exceptions into ``covet_core.errors.DatabaseError`` (and
``IntegrityError`` for constraint violations) so the core never imports a driver. Rows are
``dict`` objects keyed by column name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

Row = dict[str, Any]
Params = Sequence[Any] | None


@runtime_checkable
class Adapter(Protocol):
    dialect_name: str

    async def connect(self) -> None:
        """Open the connection. Idempotent; a no-op for a wrapped connection already open."""

    async def disconnect(self) -> None:
        """Close the connection if the adapter opened it; a wrapped one is left to its owner."""

    async def execute(self, sql: str, params: Params = None) -> int:
        """Run one statement; return the number of rows it changed (``-1`` when unknown)."""

    async def executemany(self, sql: str, seq_of_params: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per parameter tuple."""

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        """All rows of a query."""

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        """The first row of a query, or ``None``."""

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row, or ``None`` when there is no row."""

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection (the caller's or the adapter's)."""

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """``async with adapter.transaction():`` commits on success and rolls back on error.

        Nested use becomes a savepoint where the dialect declares ``savepoints``; without
        them a nested block joins the outer transaction, and its failure undoes all of it.
        """


@runtime_checkable
class SiblingAdapter(Adapter, Protocol):
    """An adapter that can open a second connection to the same database. Optional: the
    native locks, parallel data-migration workers and client-tool backups use it where it is
    offered (``covet_core.driver.DriverAdapter`` offers it; return ``None`` when it cannot)."""

    async def open_sibling(self, application_name: str | None = None) -> Adapter | None:
        """A new, not yet connected adapter to the same database, or ``None``.
        ``application_name`` names the session to other sessions where the server can."""

    def connection_parameters(self) -> dict[str, Any] | None:
        """Host, port, user, password, database for client tools, or ``None`` when unknown.
        Holds the password: never log it or put it on a command line."""
