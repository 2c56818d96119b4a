"""DDL rendering for SQLite.

Portable types render as declared type names that read back as the same portable type
(string(255) -> ``VARCHAR(255)``, bigint -> ``BIGINT``, timestamptz -> ``TIMESTAMPTZ``), because
SQLite keeps the declared text. Storage follows SQLite's affinity rules on those names: INT ->
INTEGER affinity; CHAR / TEXT / CLOB -> TEXT; BLOB -> BLOB; REAL / FLOA / DOUB -> REAL; every
other name (BOOLEAN, DATE, TIMESTAMP, TIMESTAMPTZ, NUMERIC, JSON, UUID) -> NUMERIC, which keeps
ISO-8601 text, JSON documents and UUIDs as text (only numeric-looking text is converted).

An auto-increment key is exactly ``INTEGER PRIMARY KEY AUTOINCREMENT``, declared on the column;
a bigint or smallint auto-increment key renders that way too (the normaliser folds it to
integer). ALTER TABLE does only RENAME, ADD COLUMN and DROP COLUMN: the other changes arrive as
``RebuildTable`` (see :mod:`covet_dialect_sqlite.rebuild`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from covet_core.dialect import quote_ansi
from covet_core.schema.model import Column, ColumnType, Table
from covet_core.schema.operations import (
    AddColumn,
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    CreateEnum,
    CreateTable,
    DropConstraint,
    DropEnum,
    RebuildTable,
)
from covet_core.schema.render import COLLATION_NAME, DdlRenderer
from covet_dialect_sqlite.sqltext import BLOB, NUMBER, OP, STRING, WORD, tokenize

INTEGER_TYPES = ("smallint", "integer", "bigint")
# A declared type is written back only when it is type-name words and numeric arguments:
# nothing read from a database reaches a statement as anything but what it was.
_DECLARED = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]*(?:\(\s*[+-]?\d+\s*(?:,\s*[+-]?\d+\s*)?\))?")
_LITERAL_WORDS = {"NULL", "TRUE", "FALSE", "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"}
_NON_CONSTANT = {"CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"}


def is_literal(default: str) -> bool:
    """True for what SQLite takes after DEFAULT without parentheses: a literal, a signed
    number, NULL, TRUE / FALSE or CURRENT_TIMESTAMP and friends."""
    tokens = tokenize(default)
    if len(tokens) == 2 and tokens[0].kind == OP and tokens[0].value in "+-":
        tokens = tokens[1:]
        return tokens[0].kind == NUMBER
    if len(tokens) != 1:
        return False
    token = tokens[0]
    return token.kind in (STRING, NUMBER, BLOB) or (
        token.kind == WORD and token.value.upper() in _LITERAL_WORDS
    )


class SQLiteRenderer(DdlRenderer):
    dialect_name = "SQLite"
    carries = "sqlite"  # views and triggers, as sqlite_master holds them
    foreign_key_options = frozenset({"deferrable"})  # SQLite parses MATCH and ignores it
    types = {
        "smallint": "SMALLINT",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "float": "FLOAT",
        "real": "REAL",
        "boolean": "BOOLEAN",
        "text": "TEXT",
        "binary": "BLOB",
        "date": "DATE",
        "json": "JSON",
        "jsonb": "JSONB",
        "uuid": "UUID",
        "": "",
    }

    def render_type(self, column_type: ColumnType) -> str:
        declared = column_type.declared
        if declared is not None and _DECLARED.fullmatch(declared):
            return declared  # SQLite keeps what was declared: write it back as it was
        name = column_type.name
        if name in ("timestamp", "timestamptz", "time"):
            word = {"timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "time": "TIME"}[name]
            precision = column_type.precision
            return f"{word}({precision})" if precision is not None else word
        return super().render_type(column_type)

    def enum_type(self, column_type: ColumnType) -> str:
        # No enum type: the labels' longest length, as the normaliser expects.
        longest = max((len(v) for v in column_type.values), default=0)
        return f"VARCHAR({longest})" if longest else "TEXT"

    def column(self, column: Column) -> str:
        if column.autoincrement:
            raise ValueError(
                f"SQLite: column {column.name} auto-increments, so it must be the table's "
                "only primary-key column (INTEGER PRIMARY KEY AUTOINCREMENT)"
            )
        return self._column(column, "")

    def _column(self, column: Column, key: str) -> str:
        from covet_dialect_sqlite.normalise import normalise_default  # it imports this module

        if column.on_update:
            raise ValueError(f"SQLite has no ON UPDATE for column {column.name}")
        type_sql = self.render_type(column.type)
        sql = f"{self.quote(column.name)} {type_sql}".rstrip() + key
        if column.collation:
            if not COLLATION_NAME.fullmatch(column.collation):
                raise ValueError(f"column {column.name}: invalid collation {column.collation!r}")
            sql += f" COLLATE {column.collation}"
        sql += self.generated(column)
        if not column.nullable:
            sql += " NOT NULL"
        default = column.default.strip() if column.default is not None else None
        written = column.written_default
        if written is not None and normalise_default(written, column.type) == column.default:
            default = written.strip()  # as the original wrote it (NULL, FALSE): same value
        if default is not None:
            sql += f" DEFAULT {default if is_literal(default) else f'({default})'}"
        return sql

    def table_body(self, table: Table, *, foreign_keys: bool = True) -> list[str]:
        table = _rowid_alias_as_declared(table)
        auto = [c for c in table.columns if c.autoincrement]
        if not auto:
            return super().table_body(table, foreign_keys=foreign_keys)
        column = auto[0]
        if len(auto) > 1 or table.primary_key != (column.name,):
            self.column(column)  # raises: AUTOINCREMENT needs a one-column integer key
        if column.type.name not in INTEGER_TYPES:
            raise ValueError(
                f"SQLite: auto-increment column {table.name}.{column.name} must be an integer"
            )
        name = table.primary_key_name
        constraint = f" CONSTRAINT {self.quote(name)}" if name else ""
        key = f"{constraint} PRIMARY KEY AUTOINCREMENT"
        parts = [
            self._column(_as_integer_key(c), key) if c is column else self._column(c, "")
            for c in table.columns
        ]
        parts += [self.constraint(u) for u in table.unique_constraints]
        parts += [self.constraint(c) for c in table.check_constraints]
        if foreign_keys:
            parts += [self.constraint(f) for f in table.foreign_keys]
        return parts

    def create_table(self, operation: CreateTable) -> list[str]:
        statements = super().create_table(operation)
        options = operation.table.options
        if options:
            if any(o not in ("STRICT", "WITHOUT ROWID") for o in options):
                raise ValueError(f"SQLite: unknown table options {options!r}")
            statements[0] += " " + ", ".join(options)
        return statements

    # -- what ALTER TABLE cannot do ----------------------------------------------------------

    def add_column(self, operation: AddColumn) -> list[str]:
        column = operation.column
        default = (column.default or "").strip()
        if default and (not is_literal(default) or default.upper() in _NON_CONSTANT):
            raise ValueError(
                f"SQLite cannot ADD COLUMN {operation.table}.{column.name} with the non-constant "
                f"default {default}: rebuild the table instead (RebuildTable)"
            )
        return super().add_column(operation)

    def alter_column(self, operation: AlterColumn) -> list[str]:
        raise ValueError(
            f"SQLite cannot alter column {operation.table}.{operation.name} in place: "
            "rebuild the table instead (RebuildTable; the comparator does so for SQLite)"
        )

    def add_constraint(self, operation: AddConstraint) -> list[str]:
        raise ValueError(
            f"SQLite cannot add a constraint to the existing table {operation.table}: "
            "rebuild the table instead (RebuildTable)"
        )

    def drop_constraint(self, operation: DropConstraint) -> list[str]:
        raise ValueError(
            f"SQLite cannot drop a constraint from the existing table {operation.table}: "
            "rebuild the table instead (RebuildTable)"
        )

    # Enum labels live in the columns (VARCHAR) on SQLite: a type has nothing to create.
    def create_enum(self, operation: CreateEnum) -> list[str]:
        return []

    def drop_enum(self, operation: DropEnum) -> list[str]:
        return []

    def add_enum_value(self, operation: AddEnumValue) -> list[str]:
        return []

    def rebuild_table(self, operation: RebuildTable) -> list[str]:
        from covet_dialect_sqlite.rebuild import rebuild_statements

        return rebuild_statements(self, operation)


def _rowid_alias_as_declared(table: Table) -> Table:
    """An INTEGER primary key is the rowid, never NULL whatever the column says: it is written
    with or without NOT NULL as the original was (``written_not_null``), so a copy's pragmas
    match; a model's key says NOT NULL."""
    if len(table.primary_key) != 1:
        return table
    key = table.primary_key[0]
    columns = tuple(
        replace(c, nullable=True)
        if c.name == key
        and c.written_not_null is False
        and (c.autoincrement or render_type(c.type) == "INTEGER")
        else c
        for c in table.columns
    )
    return replace(table, columns=columns)


def _as_integer_key(column: Column) -> Column:
    """The auto-increment key column as SQLite requires it: declared exactly INTEGER."""
    return Column(column.name, ColumnType("integer"), column.nullable, column.default)


RENDERER = SQLiteRenderer(quote_ansi)
render = RENDERER.render
render_type = RENDERER.render_type
