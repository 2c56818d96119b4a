"""DDL rendering for DuckDB: covet's ANSI ``DdlRenderer`` with what DuckDB does differently.

Why not subclass covet's PostgreSQL renderer, although DuckDB's SQL looks like PostgreSQL's:
that renderer is part of another plugin, not of covet's public contract, and most of what it
adds is what DuckDB lacks (identity columns, ``ALTER TYPE ... ADD VALUE``, FK actions, in-place
ALTER on any table). The ANSI base already renders what DuckDB shares with PostgreSQL.

- Auto-increment: DuckDB has no identity columns or SERIAL. A column that auto-increments
  takes its values from a sequence named ``<table>_<column>_seq``, created with the table
  (``DEFAULT nextval('...')``); the reader maps such a default back to ``autoincrement``.
- Enums are DuckDB's anonymous ``ENUM('a', 'b')`` column type: a named type would read back
  as the anonymous one anyway.
- Foreign keys take no ON DELETE / ON UPDATE action: asking for one is an error naming it.
- No partial indexes (refused before rendering, by the ``partial_indexes`` capability).
- Table and column comments are ``COMMENT ON`` statements, as on PostgreSQL.
- Changes DuckDB cannot make in place arrive as ``RebuildTable`` (see ``rebuild_statements``).
"""

from __future__ import annotations

from covet_core.dialect import quote_ansi
from covet_core.schema.model import Column, ColumnType, ForeignKey, Table
from covet_core.schema.operations import (
    AddColumn,
    AddEnumValue,
    CreateEnum,
    CreateTable,
    DropEnum,
    DropTable,
    RebuildTable,
)
from covet_core.schema.render import DdlRenderer, sql_string

REBUILD_ROWS = "_covet_rebuild_rows"


def sequence_name(table: str, column: str) -> str:
    return f"{table}_{column}_seq"


class DuckDBRenderer(DdlRenderer):
    dialect_name = "DuckDB"
    types = {
        "smallint": "SMALLINT",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "float": "DOUBLE",
        "real": "REAL",
        "boolean": "BOOLEAN",
        "text": "VARCHAR",
        "binary": "BLOB",
        "date": "DATE",
        "time": "TIME",
        "timestamptz": "TIMESTAMPTZ",  # takes no precision in DuckDB
        "json": "JSON",
        "jsonb": "JSON",
        "uuid": "UUID",
    }

    def render_type(self, column_type: ColumnType) -> str:
        if column_type.name == "timestamp":
            return "TIMESTAMP"  # microseconds; TIMESTAMP(3) would become TIMESTAMP_MS
        return super().render_type(column_type)

    def char_type(self, length: int | None) -> str:
        return self.string_type(length)  # CHAR is VARCHAR in DuckDB (no padding)

    def enum_type(self, column_type: ColumnType) -> str:
        if not column_type.values:
            raise ValueError("DuckDB: an enum column needs at least one label")
        return f"ENUM({', '.join(sql_string(v) for v in column_type.values)})"

    def _sequence(self, table: Table, column: Column) -> str:
        return self.table_name(sequence_name(table.name, column.name), table.schema)

    def column(self, column: Column) -> str:
        if column.autoincrement:
            raise ValueError(
                f"DuckDB: auto-increment column {column.name} can only be created with its "
                "table (it takes its values from a sequence made for it)"
            )
        return super().column(column)

    def _table_column(self, table: Table, column: Column) -> str:
        if not column.autoincrement:
            return self.column(column)
        if column.type.name not in ("smallint", "integer", "bigint"):
            raise ValueError(
                f"DuckDB: auto-increment column {table.name}.{column.name} must be an integer"
            )
        sequence = sql_string(self._sequence(table, column))
        plain = Column(column.name, column.type, column.nullable, f"nextval({sequence})")
        return self.column(plain)

    def table_body(self, table: Table, *, foreign_keys: bool = True) -> list[str]:
        parts = [self._table_column(table, c) for c in table.columns]
        if table.primary_key:
            parts.append(self.primary_key(table))
        parts += [self.constraint(u) for u in table.unique_constraints]
        parts += [self.constraint(c) for c in table.check_constraints]
        if foreign_keys:
            parts += [self.constraint(f) for f in table.foreign_keys]
        return parts

    def foreign_key(self, fk: ForeignKey) -> str:
        if fk.on_delete or fk.on_update:
            action = f"ON DELETE {fk.on_delete}" if fk.on_delete else f"ON UPDATE {fk.on_update}"
            raise ValueError(
                f"DuckDB foreign keys take no {action} (foreign key on "
                f"{', '.join(fk.columns)} -> {fk.ref_table}): remove the action, or do it in "
                "the application"
            )
        return super().foreign_key(fk)

    def create_table(self, operation: CreateTable) -> list[str]:
        table = operation.table
        sequences = [
            f"CREATE SEQUENCE IF NOT EXISTS {self._sequence(table, c)}"
            for c in table.columns
            if c.autoincrement
        ]
        return sequences + super().create_table(operation)

    def drop_table(self, operation: DropTable) -> list[str]:
        statements = super().drop_table(operation)
        table = operation.table
        if table is not None:  # the sequences made for it go with it
            statements += [
                f"DROP SEQUENCE IF EXISTS {self._sequence(table, c)}"
                for c in table.columns
                if c.autoincrement
            ]
        return statements

    # Comments: COMMENT ON works on any table, indexed or referenced, unlike most ALTERs.
    def comment_on_column(self, table: str, schema: str | None, column: Column) -> str:
        text = sql_string(column.comment) if column.comment else "NULL"
        name = f"{self.table_name(table, schema)}.{self.quote(column.name)}"
        return f"COMMENT ON COLUMN {name} IS {text}"

    def table_comments(self, table: Table) -> list[str]:
        statements = []
        if table.comment:
            name = self.table_name(table.name, table.schema)
            statements.append(f"COMMENT ON TABLE {name} IS {sql_string(table.comment)}")
        return statements + [
            self.comment_on_column(table.name, table.schema, c) for c in table.columns if c.comment
        ]

    def add_column(self, operation: AddColumn) -> list[str]:
        statements = super().add_column(operation)
        if operation.column.comment:
            column = operation.column
            statements.append(self.comment_on_column(operation.table, operation.schema, column))
        return statements

    # Enum labels live in the column types: a named type has nothing to create.
    def create_enum(self, operation: CreateEnum) -> list[str]:
        return []

    def drop_enum(self, operation: DropEnum) -> list[str]:
        return []

    def add_enum_value(self, operation: AddEnumValue) -> list[str]:
        return []

    def rebuild_table(self, operation: RebuildTable) -> list[str]:
        return rebuild_statements(self, operation)


def rebuild_statements(renderer: DuckDBRenderer, operation: RebuildTable) -> list[str]:
    """Copy the rows aside, drop the table, create it as ``after``, copy the rows back, then
    its indexes. All inside the migration's transaction (DuckDB's DDL is transactional), so a
    failure leaves the table as it was. DuckDB refuses to drop a table that another table's
    foreign key references ("... is main key table of the table ..."): such a rebuild fails
    and nothing changes; drop the referencing foreign keys first (rebuilding those tables)."""
    q = renderer.quote
    before, after = operation.before, operation.after
    old = renderer.table_name(before.name, before.schema)
    new = renderer.table_name(after.name, after.schema)
    pairs = [
        (n, o) for n, o in operation.column_map if after.has_column(n) and before.has_column(o)
    ]
    select = ", ".join(f"{q(o)} AS {q(n)}" for n, o in pairs) or "NULL AS _covet_none"
    rows = f"temp.{q(REBUILD_ROWS)}"
    statements = [
        f"CREATE TEMP TABLE {q(REBUILD_ROWS)} AS SELECT {select} FROM {old}",
        f"DROP TABLE {old}",
        *renderer.create_table(CreateTable(after.replace(indexes=()))),
    ]
    if pairs:
        columns = ", ".join(q(n) for n, _ in pairs)
        statements.append(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {rows}")
    statements.append(f"DROP TABLE {rows}")
    statements += [renderer.index_sql(after.name, after.schema, i) for i in after.indexes]
    return statements


RENDERER = DuckDBRenderer(quote_ansi)
