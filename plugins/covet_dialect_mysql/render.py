"""DDL rendering for MySQL / MariaDB: the default renderer, overriding what MySQL spells
differently (pure; every identifier through the dialect's quoting)."""

from __future__ import annotations

import re
from dataclasses import replace

from covet_core.schema.model import (
    Column,
    ColumnType,
    Constraint,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
)
from covet_core.schema.operations import (
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    RenameTable,
)
from covet_core.schema.render import COLLATION_NAME, DdlRenderer, sql_string_value
from covet_dialect_mysql import quote
from covet_dialect_mysql.expression import encode_string as sql_string

# InnoDB for transactions and row locks; utf8mb4 because MySQL's "utf8" is 3-byte only.
TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
_NO_ACTION = frozenset({"NO ACTION", "RESTRICT"})
_ACTIONS = _NO_ACTION | {"CASCADE", "SET NULL", "SET DEFAULT"}
_KINDS = {"fulltext": "FULLTEXT ", "spatial": "SPATIAL "}
"""Index methods MySQL writes as the index's kind (``Index.method``)."""
DEFAULT_TIMESTAMP_PRECISION = 6
"""``timestamp`` without a precision renders DATETIME(6): microseconds, like the others."""
INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "integer", "bigint"})
_NOW = re.compile(
    r"^\s*(?:current_timestamp|now|localtimestamp|localtime)\s*(?:\(\s*(\d*)\s*\))?\s*$", re.I
)


def current_timestamp(default: str | None, column_type: ColumnType) -> str | None:
    """``CURRENT_TIMESTAMP`` spelt with the column's own precision (MySQL 8 refuses a
    DATETIME(6) default of CURRENT_TIMESTAMP(0); MariaDB widens it silently), or ``None``
    when ``default`` is not the current time."""
    match = _NOW.match(default or "")
    if match is None:
        return None
    if column_type.name in ("timestamp", "timestamptz", "mysql_timestamp"):
        precision = column_type.precision
        if precision is None:
            precision = 0 if column_type.name == "mysql_timestamp" else 6
    else:
        precision = int(match.group(1) or 0)
    return f"CURRENT_TIMESTAMP({precision})" if precision else "CURRENT_TIMESTAMP"


def collation_name(name: str) -> str:
    if not COLLATION_NAME.fullmatch(name):
        raise ValueError(f"invalid collation name {name!r}")
    return name


class MySQLRenderer(DdlRenderer):
    carries = "mysql"  # views, triggers, routines, events, sequences: SHOW CREATE's text
    dialect_name = "MySQL"
    table_options = TABLE_OPTIONS
    types = {
        "text": "TEXT",
        "integer": "INT",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "boolean": "BOOLEAN",  # an alias of TINYINT(1)
        "date": "DATE",
        "json": "JSON",  # MariaDB: LONGTEXT with a json_valid() check, read back as json
        "jsonb": "JSON",
        "uuid": "CHAR(36)",  # MySQL 8 has no UUID type; MariaDB's needs 10.7
    }

    def string_type(self, length: int | None) -> str:
        # MySQL has no unbounded VARCHAR; 255 is the conventional portable default.
        return f"VARCHAR({length or 255})"

    def decimal_type(self, precision: int | None, scale: int | None) -> str:
        if precision is None:
            return "DECIMAL"  # the server's default, DECIMAL(10,0)
        return f"DECIMAL({precision},{scale or 0})"

    def enum_type(self, column_type: ColumnType) -> str:
        return f"ENUM({', '.join(sql_string(v) for v in column_type.values)})"

    def render_type(self, column_type: ColumnType) -> str:
        name, precision = column_type.name, column_type.precision
        sql: str
        if name in ("timestamp", "timestamptz"):
            # DATETIME, not TIMESTAMP: no zone conversion and no 2038 limit.
            fsp = DEFAULT_TIMESTAMP_PRECISION if precision is None else precision
            sql = f"DATETIME({fsp})" if fsp else "DATETIME"
        elif name in ("mysql_timestamp", "time"):
            sql = ("TIMESTAMP" if name == "mysql_timestamp" else "TIME") + (
                f"({precision})" if precision else ""
            )
        elif name == "binary":
            sql = f"BINARY({column_type.length})" if column_type.length else "LONGBLOB"
        elif name in ("float", "real"):
            sql = "DOUBLE" if name == "float" else "FLOAT"  # FLOAT is single precision
            if precision is not None:
                sql += f"({precision},{column_type.scale or 0})"
        elif name == "set":
            sql = f"SET({', '.join(sql_string(v) for v in column_type.values)})"
        elif name in INTEGER_TYPES and name not in self.types:
            sql = name.upper()  # a display width means nothing (MySQL 8 drops it)
        else:
            sql = super().render_type(column_type)
        return f"{sql} UNSIGNED" if column_type.unsigned else sql

    def column(self, column: Column) -> str:
        # MySQL's own order: type, COLLATE, NULL, DEFAULT, ON UPDATE, AUTO_INCREMENT, COMMENT.
        sql = f"{self.quote(column.name)} {self.render_type(column.type)}"
        if column.collation:
            sql += f" COLLATE {collation_name(column.collation)}"
        sql += self.generated(column)
        if not column.nullable:
            sql += " NOT NULL"
        elif column.type.name == "mysql_timestamp":
            sql += " NULL"  # without it, old servers make a TIMESTAMP NOT NULL
        if column.default is not None:
            sql += f" DEFAULT {self.default(column)}"
        if column.on_update:
            now = current_timestamp(column.on_update, column.type)
            if now is None:
                raise ValueError(
                    f"column {column.name}: ON UPDATE takes CURRENT_TIMESTAMP only, "
                    f"not {column.on_update!r}"
                )
            sql += f" ON UPDATE {now}"
        if column.autoincrement:
            sql += " AUTO_INCREMENT"
        return sql + self.column_comment(column)

    def default(self, column: Column) -> str:
        assert column.default is not None
        now = current_timestamp(column.default, column.type)
        if now is not None:
            return now
        value = sql_string_value(column.default)
        # The model's ANSI literal, spelt so MySQL reads the same value (backslashes doubled).
        return column.default if value is None else sql_string(value)

    def column_comment(self, column: Column) -> str:
        return f" COMMENT {sql_string(column.comment)}" if column.comment else ""

    def index_options(self, index: Index) -> None:
        if index.method in _KINDS and not index.include and not index.nulls_not_distinct:
            return  # FULLTEXT / SPATIAL: written as the index's kind
        super().index_options(index)

    def index_kind(self, index: Index) -> str:
        """``UNIQUE ``, ``FULLTEXT ``, ``SPATIAL `` or nothing, before ``INDEX``."""
        if index.method:
            return _KINDS[index.method]
        return "UNIQUE " if index.unique else ""

    def index_keys(self, index: Index) -> str:
        self.index_options(index)
        if index.where:
            raise ValueError(
                f"MySQL has no partial indexes: index {index.name} has WHERE {index.where}; "
                "drop the condition or index a generated column instead"
            )
        return index.expression or self.names(index.columns)

    def table_body(self, table: Table, *, foreign_keys: bool = True) -> list[str]:
        # A column-level CHECK (MariaDB names it after its column) is declared on its column.
        on_column = [c for c in table.check_constraints if c.column]
        if not on_column:
            return super().table_body(table, foreign_keys=foreign_keys)
        rest = tuple(c for c in table.check_constraints if not c.column)
        parts = super().table_body(
            replace(table, check_constraints=rest), foreign_keys=foreign_keys
        )
        for i, column in enumerate(table.columns):
            parts[i] += "".join(
                f" CHECK ({c.expression})" for c in on_column if c.column == column.name
            )
        return parts

    def inline_indexes(self, table: Table) -> list[str]:
        # Indexes inline, before the foreign keys: a key declared first backs its FK, so InnoDB
        # adds no implicit index that would later block dropping the user's own.
        return [
            f"{self.index_kind(i)}INDEX {self.quote(i.name)} ({self.index_keys(i)})"
            + _comment(i.comment)
            for i in table.indexes
        ]

    def constraint(self, constraint: Constraint) -> str:
        text = super().constraint(constraint)
        return text + _comment(getattr(constraint, "comment", None))

    def create_table(self, operation: CreateTable) -> list[str]:
        table = operation.table
        exists = "IF NOT EXISTS " if operation.if_not_exists else ""
        body = ",\n    ".join(self.table_body(table))
        options = f" {self.table_options}"
        if table.collation:
            # The collation names its character set; DEFAULT CHARSET=utf8mb4 would contradict.
            options = f" ENGINE=InnoDB COLLATE={collation_name(table.collation)}"
        # Table.options as the reader wrote them: another engine, then ROW_FORMAT=, MAX_ROWS=
        # ... in the server's order, and PARTITION BY ... as SHOW CREATE TABLE printed it.
        written = [o for o in table.options if not o.upper().startswith("PARTITION BY")]
        engine = next((o for o in written if o.upper().startswith("ENGINE=")), None)
        if engine:
            options = options.replace("ENGINE=InnoDB", engine)
        if table.comment:
            options += f" COMMENT={sql_string(table.comment)}"
        options += "".join(f" {o}" for o in written if o is not engine)
        options += "".join(f"\n{o}" for o in table.options if o.upper().startswith("PARTITION BY"))
        name = self.table_name(table.name, table.schema)
        return [f"CREATE TABLE {exists}{name} (\n    {body}\n){options}"]

    def rename_table(self, operation: RenameTable) -> list[str]:
        # Qualify both names: a bare new name would move the table to the current database.
        old = self.table_name(operation.old, operation.schema)
        return [f"RENAME TABLE {old} TO {self.table_name(operation.new, operation.schema)}"]

    def alter_column(self, operation: AlterColumn) -> list[str]:
        # MODIFY restates the whole column: anything left out (comment, default) is dropped.
        table = self.table_name(operation.table, operation.schema)
        return [f"ALTER TABLE {table} MODIFY COLUMN {self.column(operation.after)}"]

    def index_sql(self, table: str, schema: str | None, index: Index) -> str:
        keys = self.index_keys(index)  # refuses what MySQL cannot write, first
        return (
            f"CREATE {self.index_kind(index)}INDEX {self.quote(index.name)} ON "
            f"{self.table_name(table, schema)} ({keys}){_comment(index.comment)}"
        )

    def create_index(self, operation: CreateIndex) -> list[str]:
        return [self.index_sql(operation.table, operation.schema, operation.index)]

    def drop_index(self, operation: DropIndex) -> list[str]:
        table = self.table_name(operation.table, operation.schema)
        return [f"DROP INDEX {self.quote(operation.index.name)} ON {table}"]

    def foreign_key_actions(self, fk: ForeignKey) -> tuple[str | None, str | None]:
        written = fk.written_actions
        if written is None:
            return fk.on_delete, fk.on_update

        def same(stored: str | None, wanted: str | None) -> bool:
            return (None if stored in _NO_ACTION else stored) == wanted

        known = all(a is None or a in _ACTIONS for a in written)  # catalog words only
        if known and same(written[0], fk.on_delete) and same(written[1], fk.on_update):
            # As the original stored them: NO ACTION shows apart from the default RESTRICT.
            return written
        return fk.on_delete, fk.on_update

    def primary_key(self, table: Table) -> str:
        # MySQL's primary key is always named PRIMARY; a name given here only earns a warning.
        return f"PRIMARY KEY ({self.names(table.primary_key)})"

    def drop_constraint(self, operation: DropConstraint) -> list[str]:
        constraint = operation.constraint
        if not constraint.name:
            raise ValueError(f"cannot drop an unnamed constraint on {operation.table}")
        table = self.table_name(operation.table, operation.schema)
        name = self.quote(constraint.name)
        if isinstance(constraint, ForeignKey):
            # InnoDB leaves behind the index it made for the key, named after it. MariaDB can
            # drop it in the same statement (IF EXISTS: a user index may have replaced it);
            # MySQL skips the executable comment and keeps the index.
            # When the server named the key (t_ibfk_1) it named the index after the first column.
            generated = re.fullmatch(r".+_ibfk_\d+", constraint.name)
            index = self.quote(constraint.columns[0]) if generated else name
            return [f"ALTER TABLE {table} DROP FOREIGN KEY {name}/*M!100100 , DROP INDEX IF EXISTS {index}*/"]  # fmt: skip
        if isinstance(constraint, UniqueConstraint):
            return [f"ALTER TABLE {table} DROP INDEX {name}"]  # a UNIQUE constraint is an index
        # DROP CONSTRAINT, not DROP CHECK: MariaDB knows only the former, MySQL 8 both.
        return [f"ALTER TABLE {table} DROP CONSTRAINT {name}"]


RENDERER = MySQLRenderer(quote)
render = RENDERER.render
render_type = RENDERER.render_type


def _comment(text: str | None) -> str:
    """An index or key's ``COMMENT '...'`` (MySQL keeps it with the key, not apart)."""
    return f" COMMENT {sql_string(text)}" if text else ""
