"""The history table ``_covet_migrations``: one row per migration that is applied or partial.

Rolling a migration back deletes its row, so "applied" means "has a row in state applied".
A ``partial`` row records how far a non-transactional migration got (``statements_done``) in
which ``direction``, and the error that stopped it.
"""

from __future__ import annotations

import functools
import getpass
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from covet_core.dialect import Dialect
from covet_core.schema import Column, ColumnType, CreateTable, Table

if TYPE_CHECKING:
    from covet_core.adapter import Adapter
    from covet_core.plugins import Plugins

HISTORY_TABLE = "_covet_migrations"

APPLIED = "applied"
PARTIAL = "partial"
FAILED = "failed"

_COLUMNS = (
    "name",
    "checksum",
    "state",
    "applied_at",
    "duration",
    "applied_by",
    "execution_order",
    "direction",
    "statements_done",
    "error",
)


@dataclass(frozen=True)
class HistoryRecord:
    name: str
    checksum: str | None
    state: str
    applied_at: datetime | None
    duration: float | None
    applied_by: str | None
    execution_order: int
    direction: str | None = None
    statements_done: int | None = None
    error: str | None = None


@functools.cache
def applied_by() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry (containers running as an arbitrary uid).
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class MigrationHistory:
    """Reads and writes the history table through the adapter, in the caller's transaction."""

    def __init__(
        self,
        adapter: Adapter,
        dialect: Dialect,
        plugins: Plugins,
        *,
        table: str = HISTORY_TABLE,
        checksum_for: Callable[[str], str | None] | None = None,
    ) -> None:
        self.adapter = adapter
        self.dialect = dialect
        self.plugins = plugins
        self.table = table
        self._checksum_for = checksum_for or (lambda name: None)
        self._q = dialect.quote
        self._t = dialect.quote(table)

    def definition(self) -> Table:
        t = ColumnType
        return Table(
            self.table,
            (
                Column("name", t("string", 255), nullable=False),
                Column("checksum", t("string", 100)),
                Column("state", t("string", 16), nullable=False),
                Column("applied_at", t("timestamptz"), nullable=False),
                Column("duration", t("float")),
                Column("applied_by", t("string", 255)),
                Column("execution_order", t("integer"), nullable=False),
                Column("direction", t("string", 8)),
                Column("statements_done", t("integer")),
                Column("error", t("text")),
            ),
            primary_key=("name",),
        )

    def create_statements(self) -> list[str]:
        return self.plugins.render_operation(
            CreateTable(self.definition(), if_not_exists=True), self.dialect
        )

    async def exists(self) -> bool:
        stmt = self.dialect.table_exists_sql(self.table)
        return await self.adapter.fetch_one(stmt.text, stmt.params) is not None

    async def ensure(self) -> None:
        """Create the table if it is missing. Never called on a dry run."""
        if await self.exists():
            return
        async with self.adapter.transaction():
            for sql in self.create_statements():
                await self.adapter.execute(sql)

    async def records(self) -> list[HistoryRecord]:
        """Every row, in execution order; empty when the table does not exist yet."""
        if not await self.exists():
            return []
        cols = ", ".join(self._q(c) for c in _COLUMNS)
        rows = await self.adapter.fetch_all(
            f"SELECT {cols} FROM {self._t} ORDER BY {self._q('execution_order')}"
        )
        return [
            HistoryRecord(
                name=row["name"],
                checksum=row["checksum"],
                state=row["state"],
                applied_at=_as_datetime(row["applied_at"]),
                duration=float(row["duration"]) if row["duration"] is not None else None,
                applied_by=row["applied_by"],
                execution_order=int(row["execution_order"]),
                direction=row["direction"],
                statements_done=row["statements_done"],
                error=row["error"],
            )
            for row in rows
        ]

    # -- writes (the caller owns the transaction) ---------------------------------------------

    async def write(
        self,
        name: str,
        *,
        state: str,
        checksum: str | None,
        duration: float | None = None,
        direction: str | None = None,
        statements_done: int | None = None,
        error: str | None = None,
        applied_at: datetime | None = None,
        order: int | None = None,
        fresh: bool = False,
    ) -> None:
        """Insert or replace ``name``'s row. Keeps its execution order when it already has one.

        A caller holding the migration lock may pass ``order`` (and ``fresh=True`` when it knows
        there is no row yet) to skip the look-ups: one statement per applied migration.
        """
        if order is None:
            order = await self.order_of(name)
        if order is None:
            order = await self.next_order()
        if not fresh:
            await self.delete(name)
        values = (
            name,
            checksum,
            state,
            applied_at or datetime.now(UTC),
            duration,
            applied_by(),
            order,
            direction,
            statements_done,
            error,
        )
        cols = ", ".join(self._q(c) for c in _COLUMNS)
        marks = ", ".join(self.dialect.params(len(values)))
        await self.adapter.execute(f"INSERT INTO {self._t} ({cols}) VALUES ({marks})", values)

    async def update(self, name: str, **fields: Any) -> None:
        """Change columns of ``name``'s existing row in one statement (atomic on its own)."""
        fields.setdefault("applied_at", datetime.now(UTC))
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown history columns: {sorted(unknown)}")
        p = self.dialect.placeholder
        sets = ", ".join(f"{self._q(col)} = {p(i)}" for i, col in enumerate(fields, 1))
        await self.adapter.execute(
            f"UPDATE {self._t} SET {sets} WHERE {self._q('name')} = {p(len(fields) + 1)}",
            (*fields.values(), name),
        )

    async def order_of(self, name: str) -> int | None:
        found = await self.adapter.fetch_value(
            f"SELECT {self._q('execution_order')} FROM {self._t} "
            f"WHERE {self._q('name')} = {self.dialect.placeholder(1)}",
            (name,),
        )
        return None if found is None else int(found)

    async def next_order(self) -> int:
        latest = await self.adapter.fetch_value(
            f"SELECT MAX({self._q('execution_order')}) FROM {self._t}"
        )
        return int(latest or 0) + 1

    async def get(self, name: str) -> HistoryRecord | None:
        return next((r for r in await self.records() if r.name == name), None)

    async def delete(self, name: str) -> None:
        await self.adapter.execute(
            f"DELETE FROM {self._t} WHERE {self._q('name')} = {self.dialect.placeholder(1)}",
            (name,),
        )

    # -- public conveniences (each in its own transaction) ------------------------------------

    async def record_applied(
        self, name: str, checksum: str | None = None, duration: float | None = None
    ) -> None:
        """Mark ``name`` applied without running it (after applying it by hand).

        Without ``checksum`` the checksum of the migration file of that name is used.
        """
        await self.ensure()
        async with self.adapter.transaction():
            await self.write(
                name,
                state=APPLIED,
                checksum=checksum or self._checksum_for(name),
                duration=duration,
                direction="up",
            )

    async def record_rolled_back(self, name: str) -> None:
        """Mark ``name`` not applied (after undoing it by hand)."""
        if not await self.exists():
            return
        async with self.adapter.transaction():
            await self.delete(name)
