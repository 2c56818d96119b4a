"""DDL rendering for PostgreSQL: the default (ANSI) renderer with PostgreSQL's type names."""

from __future__ import annotations

from covet_core.dialect import quote_ansi
from covet_core.schema.render import DdlRenderer


class PostgreSQLRenderer(DdlRenderer):
    dialect_name = "PostgreSQL"
    types = {
        "text": "TEXT",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",
        "float": "DOUBLE PRECISION",
        "timestamp": "TIMESTAMP WITH TIME ZONE",
        "timestamptz": "TIMESTAMP WITH TIME ZONE",
        "date": "DATE",
        "binary": "BYTEA",
    }


RENDERER = PostgreSQLRenderer(quote_ansi)
render = RENDERER.render
render_type = RENDERER.render_type
