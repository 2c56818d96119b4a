"""The live schema of a DuckDB database in six catalog queries, whatever its size.

``duckdb_tables()``, ``duckdb_columns()``, ``duckdb_constraints()``, ``duckdb_indexes()``,
``duckdb_views()`` and ``duckdb_sequences()``, each filtered to the schemas asked for.

What DuckDB does not keep is not invented: constraint names (DuckDB names every constraint
itself, ``t_a_key``, whatever CREATE TABLE said) read as ``None``; VARCHAR lengths are gone
(``text``). An auto-increment column is one whose default is ``nextval`` of the sequence this
plugin creates for it (``<table>_<column>_seq``). Views and other sequences are reported as
ignored objects, never dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from covet_core.schema.model import (
    CheckConstraint,
    Column,
    ForeignKey,
    IgnoredObject,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_dialect_duckdb.render import sequence_name
from covet_dialect_duckdb.sqltext import (
    identifier,
    last_group,
    portable_type,
    split_top_level,
    string_value,
    strip_outer_parens,
)

_WHERE = "database_name = current_database() AND schema_name IN ({marks})"
_TABLES = "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE {w} AND NOT temporary"
_COLUMNS = (
    "SELECT schema_name, table_name, column_name, column_index, data_type, column_default,"
    " is_nullable, comment FROM duckdb_columns() WHERE {w} AND NOT internal"
    " ORDER BY schema_name, table_name, column_index"
)
_CONSTRAINTS = (
    "SELECT schema_name, table_name, constraint_index, constraint_type, expression,"
    " constraint_column_names AS columns, referenced_table, referenced_column_names AS refs"
    " FROM duckdb_constraints() WHERE {w} ORDER BY schema_name, table_name, constraint_index"
)
_INDEXES = (
    "SELECT schema_name, table_name, index_name, is_unique, sql FROM duckdb_indexes()"
    " WHERE {w} ORDER BY schema_name, table_name, index_name"
)
_VIEWS = "SELECT schema_name, view_name FROM duckdb_views() WHERE {w} AND NOT internal"
_SEQUENCES = "SELECT schema_name, sequence_name FROM duckdb_sequences() WHERE {w}"
_NEXTVAL = re.compile(r"^nextval\((.*)\)$", re.S)


class DuckDBSchemaReader:
    """``await DuckDBSchemaReader(adapter).read()``: the tables of the current schema (or of
    the schemas named), their columns, keys, indexes and constraints."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def read(self, schemas: Sequence[str] | None = None) -> Schema:
        default = await self.adapter.fetch_value("SELECT current_schema()")
        names = list(schemas) if schemas else [default]
        where = _WHERE.format(marks=", ".join("?" for _ in names))
        fetch = self.adapter.fetch_all
        tables = await fetch(_TABLES.format(w=where), names)
        columns = await fetch(_COLUMNS.format(w=where), names)
        constraints = await fetch(_CONSTRAINTS.format(w=where), names)
        indexes = await fetch(_INDEXES.format(w=where), names)
        views = await fetch(_VIEWS.format(w=where), names)
        sequences = await fetch(_SEQUENCES.format(w=where), names)

        def label(schema_name: str) -> str | None:
            return None if schema_name == default else schema_name

        by_table: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for kind, rows in (("columns", columns), ("constraints", constraints)):
            for row in rows:
                by_table[(row["schema_name"], row["table_name"])][kind].append(row)
        for row in indexes:
            by_table[(row["schema_name"], row["table_name"])]["indexes"].append(row)

        schema = Schema(dialect="duckdb")
        used_sequences: set[tuple[str, str]] = set()
        for row in tables:
            key = (row["schema_name"], row["table_name"])
            table = _table(row, label(row["schema_name"]), by_table[key])
            used_sequences |= {
                (row["schema_name"], sequence_name(table.name, c.name))
                for c in table.columns
                if c.autoincrement
            }
            schema.tables[table.key] = table
        for row in views:
            schema.ignored.append(
                IgnoredObject("view", row["view_name"], label(row["schema_name"]))
            )
        for row in sequences:
            if (row["schema_name"], row["sequence_name"]) not in used_sequences:
                schema.ignored.append(
                    IgnoredObject("sequence", row["sequence_name"], label(row["schema_name"]))
                )
        return schema


def _table(row: dict[str, Any], label: str | None, parts: dict[str, list[dict[str, Any]]]) -> Table:
    name = row["table_name"]
    primary_key: tuple[str, ...] = ()
    uniques, checks, fks = [], [], []
    for con in parts["constraints"]:
        kind, cols = con["constraint_type"], tuple(con["columns"] or ())
        if kind == "PRIMARY KEY":
            primary_key = cols
        elif kind == "UNIQUE":
            uniques.append(UniqueConstraint(None, cols))
        elif kind == "CHECK":
            checks.append(CheckConstraint(None, strip_outer_parens(con["expression"] or "")))
        elif kind == "FOREIGN KEY":
            fks.append(ForeignKey(None, cols, con["referenced_table"], tuple(con["refs"] or ())))
    columns = tuple(_column(name, c) for c in parts["columns"])
    return Table(
        name,
        columns,
        primary_key=primary_key,
        schema=label,
        comment=row["comment"] or None,
        indexes=tuple(_index(i) for i in parts["indexes"]),
        unique_constraints=tuple(uniques),
        check_constraints=tuple(checks),
        foreign_keys=tuple(fks),
    )


def _column(table: str, row: dict[str, Any]) -> Column:
    default = row["column_default"]
    autoincrement = False
    if default is not None and (match := _NEXTVAL.match(default.strip())):
        argument = string_value(match.group(1)) or ""
        sequence = identifier(argument.split(".")[-1]) if argument else None
        if sequence == sequence_name(table, row["column_name"]):
            autoincrement, default = True, None
    return Column(
        row["column_name"],
        portable_type(row["data_type"]),
        nullable=bool(row["is_nullable"]),
        default=default,
        autoincrement=autoincrement,
        comment=row["comment"] or None,
    )


def _index(row: dict[str, Any]) -> Index:
    keys = split_top_level(last_group(row["sql"] or "") or "")
    names = [identifier(k) for k in keys]
    unique = bool(row["is_unique"])
    if keys and all(n is not None for n in names):
        return Index(row["index_name"], tuple(n for n in names if n is not None), unique)
    return Index(row["index_name"], (), unique, expression=", ".join(keys))
