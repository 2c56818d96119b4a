"""DDL rendering for PostgreSQL: the default (ANSI) renderer with PostgreSQL's types and ways.

What differs from ANSI: named enum types (``CREATE TYPE ... AS ENUM``), column and table
comments as ``COMMENT ON`` statements, ``ALTER COLUMN ... TYPE ... USING`` so a type change
converts the existing rows, identity columns added and dropped in place, and ``DROP INDEX``
with the schema-qualified index name (an index lives in its table's schema).

``ALTER TYPE ... ADD VALUE`` may run inside a transaction block from PostgreSQL 12 on (the
servers covet supports; CI runs 15): the new label cannot be *used* by later statements of the
same transaction, so a migration that adds a value and writes rows with it must split in two.
On PostgreSQL 11 and older the statement itself fails inside a transaction.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from covet_core.schema.model import Column, ColumnType, Index, Table, UniqueConstraint
from covet_core.schema.operations import (
    AddColumn,
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    CreateEnum,
    CreateTable,
    DropEnum,
    ReplaceObject,
)
from covet_core.schema.render import DdlRenderer, sql_string
from covet_dialect_postgresql import quote
from covet_dialect_postgresql.expression import canonical_default

# A type the portable set does not name is written as the server spells it (format_type's
# output: ``interval``, ``integer[]``, ``bit varying(8)``, ``"MyDomain"``), nothing else.
# A type the portable set does not name, as format_type spells it (an array of a type with
# a modifier included: numeric(10,2)[], timestamp(3) with time zone[]); nothing else may
# reach the SQL.
_OWN_TYPE = re.compile(r'^[A-Za-z_][A-Za-z0-9_ ."]*(?:\(\d+(?:,\d+)?\))?(?: [a-z ]+)?(?:\[\])*$')
# What the catalog query writes: keywords and numbers only, nothing else reaches the SQL.
_SEQUENCE_OPTIONS = re.compile(r"(?:[A-Z]+(?: BY| WITH)? -?\d+ ?)+(?:CYCLE)?")
_DEFERRAL = frozenset({"DEFERRABLE INITIALLY DEFERRED", "DEFERRABLE INITIALLY IMMEDIATE"})
_SERIAL = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}
_PRECISION_TYPES = {"timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMP", "time": "TIME"}


class PostgreSQLRenderer(DdlRenderer):
    dialect_name = "PostgreSQL"
    carries = "postgresql"

    def replace_object(self, operation: ReplaceObject) -> list[str]:
        """A function or procedure in place (pg_get_functiondef already says ``CREATE OR
        REPLACE``): dropping it would fail while a view, a default or a trigger uses it.
        PostgreSQL refuses the replacement, naming why, when the return type changes; up
        --dry-run --verify shows that before a deploy. (A changed view never gets here: the
        comparator recreates it with the views after it.)"""
        new = operation.new
        if new.kind in ("function", "procedure") and new.create.startswith("CREATE OR REPLACE"):
            return self.carried(new, new.create)
        return super().replace_object(operation)

    foreign_key_options = frozenset({"match", "deferrable"})
    types = {
        "text": "TEXT",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",
        "float": "DOUBLE PRECISION",
        "real": "REAL",
        "date": "DATE",
        "binary": "BYTEA",
        "json": "JSON",
        "jsonb": "JSONB",
        "uuid": "UUID",
    }

    def qualified_type(self, name: str) -> str:
        """``schema.name`` (as ``ColumnType.enum_name`` spells it) -> quoted SQL."""
        return ".".join(self.quote(part) for part in name.split(".", 1))

    def enum_type(self, column_type: ColumnType) -> str:
        if not column_type.enum_name:
            raise ValueError(
                "PostgreSQL enum columns need a named type: set ColumnType.enum_name "
                f"(labels {', '.join(column_type.values)})"
            )
        return self.qualified_type(column_type.enum_name)

    def render_type(self, column_type: ColumnType) -> str:
        name = column_type.name
        if name in _PRECISION_TYPES:
            sql = _PRECISION_TYPES[name]
            if column_type.precision is not None:
                sql += f"({column_type.precision})"
            return sql + (" WITH TIME ZONE" if name == "timestamptz" else "")
        if name in self.types or name in ("string", "char", "decimal", "enum"):
            return super().render_type(column_type)
        if not _OWN_TYPE.match(name):
            raise ValueError(f"PostgreSQL has no mapping for type {name!r}")
        args = [a for a in (column_type.length, column_type.precision) if a is not None]
        if column_type.scale is not None:
            args.append(column_type.scale)
        if not args:
            return name.upper() if '"' not in name else name
        if name.endswith("[]"):
            raise ValueError(f"write the array type {name!r} with its arguments in the name")
        return f"{name.upper()}({', '.join(map(str, args))})"

    def autoincrement(self, column: Column) -> str:
        kind = "ALWAYS" if column.autoincrement_kind == "always" else "BY DEFAULT"
        options = column.sequence_options
        if options and not _SEQUENCE_OPTIONS.fullmatch(options):
            raise ValueError(f"column {column.name}: unexpected sequence options {options!r}")
        return f" GENERATED {kind} AS IDENTITY" + (f" ({options})" if options else "")

    def column(self, column: Column) -> str:
        serial = _SERIAL.get(column.type.name)
        if column.autoincrement and column.autoincrement_kind == "serial" and serial:
            # As it was made: SERIAL creates the same <table>_<column>_seq, owned, as default.
            column = replace(column, type=ColumnType(serial), autoincrement=False, default=None)
        written = column.written_default
        if written is not None and written != column.default:
            from covet_dialect_postgresql.normalise import normalise_default  # imports this

            if normalise_default(written, column.type) == column.default:
                # As the original wrote it (DEFAULT NULL::character varying): the same value.
                column = replace(column, default=written)
        if column.type.name == "boolean" and column.default is not None:
            # Portable models may say 1 / 0 (MySQL's spelling); PostgreSQL wants a boolean.
            default = canonical_default(column.default, column.type, str)
            column = replace(column, default=default)
        return super().column(column)

    def index_options(self, index: Index) -> None:
        """PostgreSQL has every option an ``Index`` can carry."""

    def column_options(self, column: Column) -> None:
        if column.on_update:
            raise ValueError(f"PostgreSQL has no ON UPDATE for column {column.name}")
        if column.generated and not column.stored:
            raise ValueError(f"PostgreSQL generated columns are STORED: column {column.name}")

    def collate(self, column: Column) -> str:
        # ``schema.name`` as ColumnType.enum_name spells it; pg_catalog's without a schema.
        return f" COLLATE {self.qualified_type(column.collation)}" if column.collation else ""

    def index_sql(self, table: str, schema: str | None, index: Index) -> str:
        # The server's grammar order: USING, keys, INCLUDE, NULLS NOT DISTINCT, WHERE.
        unique = "UNIQUE " if index.unique else ""
        using = f" USING {self.quote(index.method)}" if index.method else ""
        keys = index.expression if index.expression else self.names(index.columns)
        sql = (
            f"CREATE {unique}INDEX {self.quote(index.name)} ON "
            f"{self.table_name(table, schema)}{using} ({keys})"
        )
        if index.include:
            sql += f" INCLUDE ({self.names(index.include)})"
        if index.nulls_not_distinct:
            sql += " NULLS NOT DISTINCT"
        return sql + (f" WHERE {index.where}" if index.where else "")

    # -- comments ---------------------------------------------------------------------------

    def comment_on_column(self, table: str, schema: str | None, column: Column) -> str:
        text = sql_string(column.comment) if column.comment else "NULL"
        name = f"{self.table_name(table, schema)}.{self.quote(column.name)}"
        return f"COMMENT ON COLUMN {name} IS {text}"

    def create_table(self, operation: CreateTable) -> list[str]:
        """With ``INHERITS (...)`` (``Table.parents``; the table then declares only its own
        columns and checks, the rest comes from the parents), and ``UNLOGGED``, ``PARTITION
        BY ...`` and ``WITH (...)`` (``Table.options``): a table as it was read. Partitions
        are carried (``CREATE TABLE ... PARTITION OF``)."""
        table = operation.table
        # A constraint added NOT VALID cannot be declared so in CREATE TABLE: added after it.
        keys: list[Any] = [*table.check_constraints, *table.foreign_keys]
        unvalidated = [c for c in keys if not c.validated and not getattr(c, "inherited", False)]
        if table.parents or unvalidated:
            own = replace(
                table,
                columns=tuple(c for c in table.columns if not c.inherited),
                check_constraints=tuple(
                    c for c in table.check_constraints if not c.inherited and c.validated
                ),
                foreign_keys=tuple(f for f in table.foreign_keys if f.validated),
            )
            operation = replace(operation, table=own)
        statements = super().create_table(operation)
        name = self.table_name(table.name, table.schema)
        statements[1:1] = [
            f"ALTER TABLE {name} ADD {self.constraint(c)} NOT VALID" for c in unvalidated
        ]
        if "UNLOGGED" in table.options:
            statements[0] = "CREATE UNLOGGED TABLE" + statements[0].removeprefix("CREATE TABLE")
        if table.parents:
            names = ", ".join(self.table_name(name, schema) for schema, name in table.parents)
            statements[0] += f" INHERITS ({names})"
        # The order PostgreSQL's grammar has them in: PARTITION BY, then WITH.
        for prefix in ("PARTITION BY ", "WITH ("):
            statements[0] += "".join(f" {o}" for o in table.options if o.startswith(prefix))
        return statements

    def table_comments(self, table: Table) -> list[str]:
        statements = []
        if table.comment:
            name = self.table_name(table.name, table.schema)
            statements.append(f"COMMENT ON TABLE {name} IS {sql_string(table.comment)}")
        statements += [
            self.comment_on_column(table.name, table.schema, c) for c in table.columns if c.comment
        ]
        return statements

    # -- operations ---------------------------------------------------------------------------

    def constraint(self, constraint: Any) -> str:
        if isinstance(constraint, UniqueConstraint):
            name = f"CONSTRAINT {self.quote(constraint.name)} " if constraint.name else ""
            nnd = " NULLS NOT DISTINCT" if constraint.nulls_not_distinct else ""
            text = f"{name}UNIQUE{nnd} ({self.names(constraint.columns)})"
            if constraint.include:
                text += f" INCLUDE ({self.names(constraint.include)})"
            if constraint.deferrable:
                text += f" {self.checked(constraint.deferrable, _DEFERRAL, 'deferrable')}"
            return text
        text = super().constraint(constraint)
        return text + " NO INHERIT" if getattr(constraint, "no_inherit", False) else text

    def primary_key(self, table: Table) -> str:
        text = super().primary_key(table)
        if table.primary_key_deferrable:
            text += f" {self.checked(table.primary_key_deferrable, _DEFERRAL, 'deferrable')}"
        return text

    def add_constraint(self, operation: AddConstraint) -> list[str]:
        statements = super().add_constraint(operation)
        if not getattr(operation.constraint, "validated", True):
            statements[0] += " NOT VALID"
        return statements

    def add_column(self, operation: AddColumn) -> list[str]:
        statements = super().add_column(operation)
        if operation.column.comment:
            statements.append(
                self.comment_on_column(operation.table, operation.schema, operation.column)
            )
        return statements

    def alter_column(self, operation: AlterColumn) -> list[str]:
        self.column_options(operation.after)
        if (operation.before.generated, operation.before.stored) != (
            operation.after.generated,
            operation.after.stored,
        ):
            raise ValueError(
                f"PostgreSQL cannot change whether or how column {operation.name} is generated "
                "in place: drop the column and add it again"
            )
        table = self.table_name(operation.table, operation.schema)
        name = self.quote(operation.name)
        column = f"ALTER TABLE {table} ALTER COLUMN {name}"
        before, after = operation.before, operation.after
        statements = []
        if operation.autoincrement_changed and not after.autoincrement:
            statements.append(f"{column} DROP IDENTITY IF EXISTS")
        # The old default may not cast to the new type ('x'::varchar to an enum): drop it
        # first and set the new one after the type has changed.
        reset_default = operation.default_changed or (
            operation.type_changed and before.default is not None
        )
        if reset_default and before.default is not None:
            statements.append(f"{column} DROP DEFAULT")
        collation_changed = before.collation != after.collation
        if operation.type_changed or collation_changed:
            new_type = self.render_type(after.type)
            collate = self.collate(after) or (' COLLATE "default"' if collation_changed else "")
            using = f" USING {name}::{new_type}" if operation.type_changed else ""
            statements.append(f"{column} TYPE {new_type}{collate}{using}")
        if reset_default and after.default is not None:
            statements.append(f"{column} SET DEFAULT {after.default}")
        if operation.nullable_changed:
            statements.append(f"{column} {'DROP' if after.nullable else 'SET'} NOT NULL")
        if operation.autoincrement_changed and after.autoincrement:
            # Identity needs NOT NULL (set above when the model says so; identity implies it).
            if after.nullable:
                statements.append(f"{column} SET NOT NULL")
            statements.append(f"{column} ADD GENERATED BY DEFAULT AS IDENTITY")
            # Existing rows keep their values: start the new sequence after the largest one,
            # or the next insert collides with them.
            statements.append(
                f"SELECT setval(pg_get_serial_sequence({sql_string(table)}, "
                f"{sql_string(operation.name)}), COALESCE(MAX({name}), 0) + 1, false) FROM {table}"
            )
        if operation.comment_changed:
            statements.append(self.comment_on_column(operation.table, operation.schema, after))
        return statements

    def create_enum(self, operation: CreateEnum) -> list[str]:
        enum = operation.enum
        labels = ", ".join(sql_string(v) for v in enum.values)
        return [f"CREATE TYPE {self.table_name(enum.name, enum.schema)} AS ENUM ({labels})"]

    def drop_enum(self, operation: DropEnum) -> list[str]:
        return [f"DROP TYPE {self.table_name(operation.enum.name, operation.enum.schema)}"]

    def add_enum_value(self, operation: AddEnumValue) -> list[str]:
        enum = operation.enum
        sql = f"ALTER TYPE {self.table_name(enum.name, enum.schema)} ADD VALUE {sql_string(operation.value)}"
        if operation.before is not None:
            sql += f" BEFORE {sql_string(operation.before)}"
        return [sql]


RENDERER = PostgreSQLRenderer(quote)
render = RENDERER.render
render_type = RENDERER.render_type
