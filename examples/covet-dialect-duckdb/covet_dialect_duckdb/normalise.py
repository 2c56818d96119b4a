"""The canonical form of a schema on DuckDB, applied by the comparator to both sides.

- types: VARCHAR keeps no length and CHAR is VARCHAR, so string / char / text are ``text``;
  jsonb is ``json``; DECIMAL defaults to (18, 3) and ``decimal(p)`` is ``(p, 0)``; timestamps
  and times keep no precision here (this plugin renders them at microseconds); no unsigned;
  an enum is its labels (DuckDB's anonymous ENUM column type, no type name).
- nullability: primary-key columns are NOT NULL.
- names: DuckDB names every constraint itself, so unique, check and foreign-key names are
  ``None`` on both sides (index names are kept: DuckDB keeps them).
- defaults and CHECK expressions: spelled as DuckDB itself prints them. They are parsed by an
  in-memory DuckDB (no file, no network) into a scratch table and read back from its
  catalog, once per distinct table shape; ``NULL`` is no default.
- indexes and constraints are sorted.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import replace
from typing import Any

from covet_core.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    ForeignKey,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_dialect_duckdb.render import RENDERER
from covet_dialect_duckdb.sqltext import strip_outer_parens

_TEXT = ("string", "char", "text")
_scratch_lock = threading.Lock()


def normalise(schema: Schema) -> Schema:
    """Idempotent; the result renders with this plugin's renderer and reads back equal."""
    return Schema(
        tables={key: normalise_table(t) for key, t in schema.tables.items()},
        enums={},
        ignored=list(schema.ignored),
        dialect=schema.dialect,
    )


def normalise_type(column_type: ColumnType) -> ColumnType:
    name = column_type.name
    if name in _TEXT:
        return ColumnType("text")
    if name == "jsonb":
        return ColumnType("json")
    if name == "enum":
        return ColumnType("enum", values=column_type.values)
    if name == "decimal":
        if column_type.precision is None:
            return ColumnType("decimal", precision=18, scale=3)
        return ColumnType("decimal", precision=column_type.precision, scale=column_type.scale or 0)
    if name in ("timestamp", "timestamptz", "time", "binary"):
        return ColumnType(name)
    return replace(column_type, unsigned=False) if column_type.unsigned else column_type


def normalise_table(table: Table) -> Table:
    columns = [
        Column(
            c.name,
            normalise_type(c.type),
            nullable=c.nullable and c.name not in table.primary_key,
            default=None if c.autoincrement else c.default,
            autoincrement=c.autoincrement,
            comment=c.comment,
        )
        for c in table.columns
    ]
    checks = [c.expression for c in table.check_constraints]
    defaults, checks = _canonical(
        tuple((c.name, c.type, c.default) for c in columns), tuple(checks)
    )
    columns = [replace(c, default=d) for c, d in zip(columns, defaults, strict=True)]
    fks = [replace(fk, name=None) for fk in table.foreign_keys]
    uniques = [UniqueConstraint(None, u.columns) for u in table.unique_constraints]
    return replace(
        table,
        columns=tuple(columns),
        primary_key_name=None,
        indexes=tuple(sorted(table.indexes, key=lambda i: (i.name, i.columns))),
        unique_constraints=tuple(sorted(uniques, key=lambda u: u.columns)),
        check_constraints=tuple(CheckConstraint(None, e) for e in sorted(checks)),
        foreign_keys=tuple(sorted(fks, key=_fk_key)),
    )


def _fk_key(fk: ForeignKey) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    return (fk.columns, fk.ref_table, fk.ref_columns)


@functools.lru_cache(maxsize=4096)
def _canonical(
    columns: tuple[tuple[str, ColumnType, str | None], ...], checks: tuple[str, ...]
) -> tuple[list[str | None], list[str]]:
    """DuckDB's own spelling of each column default and CHECK expression; the input as it is
    (outer parentheses aside) when DuckDB cannot parse it here."""
    fallback = (
        [None if d is None or d.strip().upper() == "NULL" else d for _, _, d in columns],
        [strip_outer_parens(e) for e in checks],
    )
    if all(d is None for d in fallback[0]) and not checks:
        return fallback
    try:
        body = [
            f"{RENDERER.quote(name)} {RENDERER.render_type(ctype)}"
            + (f" DEFAULT {default}" if default is not None else "")
            for name, ctype, default in zip(
                (n for n, _, _ in columns), (t for _, t, _ in columns), fallback[0], strict=True
            )
        ]
        body += [f"CHECK ({e})" for e in checks]
    except ValueError:
        return fallback
    try:
        return _read_back(body, len(columns))
    except Exception:  # any duckdb error: keep the text as written, the comparison still works
        return fallback


def _read_back(body: list[str], count: int) -> tuple[list[str | None], list[str]]:
    import duckdb

    with _scratch_lock:
        conn = _scratch()
        conn.execute("DROP TABLE IF EXISTS covet_scratch")
        try:
            conn.execute(f"CREATE TABLE covet_scratch ({', '.join(body)})")
            rows: list[Any] = conn.execute(
                "SELECT column_default FROM duckdb_columns() WHERE table_name = 'covet_scratch' "
                "ORDER BY column_index"
            ).fetchall()
            found: list[Any] = conn.execute(
                "SELECT expression FROM duckdb_constraints() WHERE table_name = 'covet_scratch' "
                "AND constraint_type = 'CHECK' ORDER BY constraint_index"
            ).fetchall()
        finally:
            conn.execute("DROP TABLE IF EXISTS covet_scratch")
    defaults: list[str | None] = [None if r[0] in (None, "NULL") else r[0] for r in rows]
    assert len(defaults) == count, duckdb.__version__
    return defaults, [strip_outer_parens(r[0]) for r in found]


@functools.cache
def _scratch() -> Any:
    import duckdb

    return duckdb.connect(":memory:")
