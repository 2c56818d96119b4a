"""``_covet_data_checkpoints``: where a data migration got to, written in the same transaction
as the batch it records, so a resumed run continues exactly after the last committed batch."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from covet_core.schema import Column, ColumnType, CreateTable, Table

CHECKPOINT_TABLE = "_covet_data_checkpoints"
_COLUMNS = ("name", "table_name", "last_key", "processed", "failed", "completed", "updated_at")


def encode_key(values: tuple[Any, ...]) -> str:
    """JSON that round-trips the key types a primary key has (ints, text, dates, decimals)."""

    def one(v: Any) -> Any:
        if isinstance(v, datetime):
            return {"$t": "datetime", "v": v.isoformat()}
        if isinstance(v, date):
            return {"$t": "date", "v": v.isoformat()}
        if isinstance(v, Decimal):
            return {"$t": "decimal", "v": str(v)}
        if isinstance(v, bytes | bytearray | memoryview):
            return {"$t": "bytes", "v": bytes(v).hex()}
        return v

    return json.dumps([one(v) for v in values])


_DECODERS: dict[str, Callable[[str], Any]] = {
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "decimal": Decimal,
    "bytes": bytes.fromhex,
}


def decode_key(text: str) -> tuple[Any, ...]:
    def one(v: Any) -> Any:
        return _DECODERS[v["$t"]](v["v"]) if isinstance(v, dict) else v

    return tuple(one(v) for v in json.loads(text))


class Checkpoints:
    def __init__(self, adapter: Any, dialect: Any, plugins: Any) -> None:
        self.adapter, self.dialect, self.plugins = adapter, dialect, plugins
        self._q, self._t = dialect.quote, dialect.quote(CHECKPOINT_TABLE)

    async def ensure(self) -> None:
        stmt = self.dialect.table_exists_sql(CHECKPOINT_TABLE)
        if await self.adapter.fetch_one(stmt.text, stmt.params) is not None:
            return
        t = ColumnType
        table = Table(
            CHECKPOINT_TABLE,
            (
                Column("name", t("string", 255), nullable=False),
                Column("table_name", t("string", 255), nullable=False),
                Column("last_key", t("text")),
                Column("processed", t("bigint"), nullable=False),
                Column("failed", t("bigint"), nullable=False),
                Column("completed", t("boolean"), nullable=False),
                Column("updated_at", t("timestamptz"), nullable=False),
            ),
            primary_key=("name",),
        )
        for sql in self.plugins.render_operation(
            CreateTable(table, if_not_exists=True), self.dialect
        ):
            await self.adapter.execute(sql)

    async def load(self, name: str) -> dict[str, Any] | None:
        cols = ", ".join(self._q(c) for c in _COLUMNS)
        return await self.adapter.fetch_one(
            f"SELECT {cols} FROM {self._t} WHERE {self._q('name')} = {self.dialect.placeholder(1)}",
            (name,),
        )

    async def clear(self, name: str) -> None:
        await self.adapter.execute(
            f"DELETE FROM {self._t} WHERE {self._q('name')} = {self.dialect.placeholder(1)}",
            (name,),
        )

    async def save(
        self, name: str, table: str, last_key: tuple[Any, ...] | None, processed: int,
        failed: int, completed: bool = False,
    ) -> None:  # fmt: skip
        """Replace ``name``'s row; the caller's transaction makes it atomic with the batch.

        One UPDATE per batch (the row exists after a run's first batch); only when it matched
        nothing (or the driver cannot tell) does the row get inserted, after a DELETE so a
        driver counting changed rather than matched rows cannot cause a duplicate key."""
        values = (
            table, encode_key(last_key) if last_key is not None else None,
            processed, failed, completed, datetime.now(UTC),
        )  # fmt: skip
        p = self.dialect.placeholder
        sets = ", ".join(f"{self._q(c)} = {p(i)}" for i, c in enumerate(_COLUMNS[1:], 1))
        updated = await self.adapter.execute(
            f"UPDATE {self._t} SET {sets} WHERE {self._q('name')} = {p(len(_COLUMNS))}",
            (*values, name),
        )
        if updated == 1:
            return
        await self.clear(name)
        cols = ", ".join(self._q(c) for c in _COLUMNS)
        marks = ", ".join(self.dialect.params(len(_COLUMNS)))
        await self.adapter.execute(
            f"INSERT INTO {self._t} ({cols}) VALUES ({marks})", (name, *values)
        )

    async def unfinished(self) -> list[dict[str, Any]]:
        stmt = self.dialect.table_exists_sql(CHECKPOINT_TABLE)
        if await self.adapter.fetch_one(stmt.text, stmt.params) is None:
            return []
        cols = ", ".join(self._q(c) for c in _COLUMNS)
        rows = await self.adapter.fetch_all(
            f"SELECT {cols} FROM {self._t} ORDER BY {self._q('name')}"
        )
        return [r for r in rows if not r["completed"]]
