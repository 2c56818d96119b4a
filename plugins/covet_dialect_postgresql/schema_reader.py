"""Reading a live PostgreSQL schema from pg_catalog in eight bulk queries, whatever its size.

One query each for the schemas, the relations, the columns, the constraints, the indexes, the
enum types, everything else (triggers, functions, domains, rules, policies, extensions), and
the statements that recreate extensions, domains and standalone sequences (carried), all
filtered by namespace, so 1,000 tables cost the same eight round trips as ten. The server
does the formatting (``format_type``, ``pg_get_expr``, ``pg_get_constraintdef``,
``pg_get_indexdef``); Python only maps its spelling onto the portable model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from covet_core.schema.model import Schema
from covet_core.schema.prefetch import Prefetch
from covet_dialect_postgresql.catalog import (
    CARRIED,
    COLUMNS,
    CONSTRAINTS,
    ENUMS,
    INDEXES,
    NAMESPACES,
    OTHERS,
    RELATIONS,
    for_server,
)
from covet_dialect_postgresql.schema_rows import CatalogModel, check_expression, portable_type

__all__ = ["PostgreSQLSchemaReader", "check_expression", "portable_type", "schema_reader"]

# JIT off for this transaction, through its cost threshold (-1: never), and the threshold as
# it was. Not through "jit" itself: asyncpg turns that off at session level around its type
# introspection and then restores the value it found, which inside this transaction is
# "off", so the session would keep it. A server without JIT has no such setting.
_JIT_OFF = (
    "SELECT was, CASE WHEN was IS NOT NULL THEN set_config('jit_above_cost', '-1', true) END"
    " FROM (SELECT current_setting('jit_above_cost', true) AS was OFFSET 0) s"  # read first
)


class PostgreSQLSchemaReader:
    """``await PostgreSQLSchemaReader(adapter).read(["app"])``."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def read(self, schemas: Sequence[str] | None = None) -> Schema:
        # One transaction: one snapshot for all the queries (DDL committed between two of
        # them cannot pair a key with columns not read), and a scope for a setting that ends
        # with it. JIT is turned off: on analysed catalogs the planner prices the per-row
        # subqueries of the catalog queries above jit_above_cost, and compiling them took
        # ~190 ms of a 210 ms constraint query at 1,000 tables (it runs in 20 ms without).
        adapter = self.adapter
        outer = adapter.in_transaction
        async with adapter.transaction():
            if not outer:
                await adapter.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            threshold = await adapter.fetch_value(_JIT_OFF)
            schema = await self._read(schemas)
            # In the caller's transaction the setting would outlive the savepoint released
            # next (a failed read rolls the savepoint back, and the setting with it).
            if outer and threshold is not None:
                await adapter.execute("SELECT set_config('jit_above_cost', $1, true)", (threshold,))
            return schema

    async def _read(self, schemas: Sequence[str] | None) -> Schema:
        # Rows read by name only: the driver's own records where the adapter offers them.
        fetch = getattr(self.adapter, "fetch_rows", self.adapter.fetch_all)
        spaces = await self.adapter.fetch_one(NAMESPACES, (list(schemas) if schemas else None,))
        assert spaces is not None  # an aggregate always returns its row
        oids, version = (list(spaces["oids"]),), spaces["version"]
        model = CatalogModel(spaces)
        # In the order the model maps them; each is sent before the rows of the one before
        # it are mapped, so the server runs it meanwhile.
        queries = [
            (RELATIONS, oids),
            (for_server(COLUMNS, version), oids),
            (for_server(INDEXES, version), oids),
            (for_server(CONSTRAINTS, version), oids),
            (for_server(CARRIED, version), oids),
            (OTHERS, oids),
            (ENUMS, oids),
        ]
        async with Prefetch(fetch, queries) as rows:
            model.relations(await rows.next())
            # The indexes before the constraints: the columns, the longest to map, are mapped
            # while the server runs the longer of the two queries.
            model.columns(await rows.next())
            model.indexes(await rows.next())
            model.constraints(await rows.next())
            model.carried_statements(await rows.next())
            model.others(await rows.next())
            return model.schema(await rows.next())


def schema_reader(adapter: Any) -> PostgreSQLSchemaReader:
    return PostgreSQLSchemaReader(adapter)
