"""DDL rendering for SQLite: the default renderer with SQLite's type affinities."""

from __future__ import annotations

from covet_core.dialect import quote_ansi
from covet_core.schema.render import DdlRenderer


class SQLiteRenderer(DdlRenderer):
    dialect_name = "SQLite"
    # SQLite's type affinity only distinguishes these; it enforces no lengths.
    types = {
        "string": "TEXT",
        "text": "TEXT",
        "integer": "INTEGER",
        "bigint": "INTEGER",
        "smallint": "INTEGER",
        "boolean": "INTEGER",
        "float": "REAL",
        "decimal": "NUMERIC",
        "timestamp": "TEXT",
        "timestamptz": "TEXT",
        "date": "TEXT",
        "binary": "BLOB",
    }


RENDERER = SQLiteRenderer(quote_ansi)
render = RENDERER.render
render_type = RENDERER.render_type
