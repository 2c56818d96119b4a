"""The schema model: tables, columns, keys, indexes and constraints as frozen, comparable data.

One model serves the three sources a diff compares: a live database (a dialect's reader),
Python models (``ModelSchemaReader``) and a generated migration's intent. Values are
*portable* (``ColumnType("string", length=255)``, not ``character varying(255)``); each dialect's
``schema_normaliser`` folds what its server cannot tell apart (MySQL's BOOLEAN is TINYINT(1))
so that both sides of a comparison speak the same canonical form.

Portable type names: ``smallint``, ``integer``, ``bigint``, ``float`` (double precision),
``real`` (single precision), ``decimal`` (precision, scale), ``boolean``, ``string`` (VARCHAR,
length), ``char`` (length), ``text``, ``binary``, ``date``, ``time``, ``timestamp`` (without
time zone, optional precision), ``timestamptz``, ``json``, ``jsonb``, ``uuid``, ``enum``
(``values``; on PostgreSQL the named type in ``enum_name``). Any other type keeps the
dialect's own spelling, lower-cased (``inet``, ``tsvector``, ``mediumtext``), and renders as is.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from covet_core.errors import ConfigError
from covet_core.escaping import one_line


@dataclass(frozen=True)
class ColumnType:
    name: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple[str, ...] = ()
    """Enum labels, in order."""
    enum_name: str | None = None
    """PostgreSQL: the enum type's name (``schema.name`` outside the default schema)."""
    unsigned: bool = False
    """MySQL integer / decimal types only."""
    declared: str | None = field(default=None, compare=False)
    """The type exactly as the database declares it, where that spelling is kept and matters
    (SQLite: ``DATETIME`` and ``INT`` stay so, not ``TIMESTAMP`` / ``INTEGER``): the same
    dialect's renderer writes it back. Not compared: the portable fields say what it is."""

    def __str__(self) -> str:
        if self.name == "enum":
            label = self.enum_name or "enum"
            return f"{label}({', '.join(repr(v) for v in self.values)})"
        args = [a for a in (self.length, self.precision, self.scale) if a is not None]
        text = f"{self.name}({', '.join(map(str, args))})" if args else self.name
        return f"{text} unsigned" if self.unsigned else text


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = True
    default: str | None = None
    """Server default as SQL text valid in the dialect (``'active'``, ``0``,
    ``CURRENT_TIMESTAMP``); ``None`` when there is none. A default that is one string
    literal is written the ANSI way on every dialect (quotes doubled, a backslash is just a
    backslash): readers and renderers of a dialect whose literals differ convert it."""
    autoincrement: bool = False
    """Identity / serial / AUTO_INCREMENT / SQLite's INTEGER PRIMARY KEY AUTOINCREMENT."""
    comment: str | None = None
    on_update: str | None = None
    """MySQL ``ON UPDATE CURRENT_TIMESTAMP[(fsp)]``: the value set when the row changes."""
    collation: str | None = None
    """The column's collation when it is not its table's (MySQL ``latin1_bin``, SQLite
    ``NOCASE``); a MySQL collation implies its character set."""
    autoincrement_kind: str | None = field(default=None, compare=False)
    """How PostgreSQL makes an autoincrement column's values when it is not an identity BY
    DEFAULT: ``serial`` or ``always`` (identity ALWAYS). Read so a copy is made the same way;
    not compared, since models say only ``autoincrement``."""
    sequence_options: str | None = field(default=None, compare=False)
    """PostgreSQL: an identity's sequence options when not the defaults (``START WITH 7
    INCREMENT BY 1 ...``, as the server's numbers), written back in a copy; not compared."""
    written_not_null: bool | None = field(default=None, compare=False)
    """SQLite: whether the CREATE text says NOT NULL on an INTEGER primary key (the rowid,
    never NULL either way), so a copy writes it as the original did; ``None`` for models."""
    written_default: str | None = field(default=None, compare=False)
    """The default exactly as the database keeps it (SQLite ``FALSE``, PostgreSQL
    ``NULL::character varying``), which the comparison folds (``0``, no default) and a copy
    writes back when it means the same; ``None`` for models."""
    generated: str | None = None
    """A generated column's expression (``GENERATED ALWAYS AS (...)``), as SQL text."""
    stored: bool = False
    """A generated column is computed on write (STORED) rather than on read (VIRTUAL)."""
    inherited: bool = field(default=False, compare=False)
    """PostgreSQL: the column comes only from a parent (``INHERITS``), so a copy does not
    declare it and a change to it is made on the parent (it reaches the children)."""


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    """The predicate of a partial index (PostgreSQL, SQLite), as SQL text without ``WHERE``."""
    expression: str | None = None
    """The keys as SQL text when any key is more than a bare column (``columns`` is then
    empty): an expression, or a column with its sort order, ``NULLS FIRST``, collation or
    operator class (``title DESC NULLS LAST``, ``name gin_trgm_ops``), as the server spells
    them. Compared after the dialect's canonical form; the comparator never drops such an
    index it cannot see in the models."""
    method: str | None = None
    """The access method (PostgreSQL ``USING gin``); ``None`` is the dialect's default."""
    include: tuple[str, ...] = ()
    """Non-key columns stored in the index (PostgreSQL ``INCLUDE (...)``)."""
    nulls_not_distinct: bool = False
    """A unique index where NULLs collide (PostgreSQL 15 ``NULLS NOT DISTINCT``)."""
    comment: str | None = field(default=None, compare=False)
    """MySQL: the index's ``COMMENT '...'``, written in a copy. Not compared (models do not
    say it); a difference between two databases is a warning. (PostgreSQL's index comments
    are carried as ``COMMENT ON INDEX``.)"""


@dataclass(frozen=True)
class UniqueConstraint:
    name: str | None
    columns: tuple[str, ...]
    comment: str | None = field(default=None, compare=False)
    """MySQL: the key's ``COMMENT '...'``; see ``Index.comment``."""
    deferrable: str | None = field(default=None, compare=False)
    """PostgreSQL: ``DEFERRABLE INITIALLY DEFERRED`` / ``... IMMEDIATE``, written in a copy.
    Not compared (models do not say it); a difference between two databases is a warning."""
    include: tuple[str, ...] = field(default=(), compare=False)
    """PostgreSQL: the key's ``INCLUDE (...)`` columns; like ``deferrable``."""
    nulls_not_distinct: bool = field(default=False, compare=False)
    """PostgreSQL 15: ``UNIQUE NULLS NOT DISTINCT``; like ``deferrable``."""


@dataclass(frozen=True)
class CheckConstraint:
    name: str | None
    expression: str
    """SQL text without the ``CHECK`` keyword and its outer parentheses."""
    inherited: bool = field(default=False, compare=False)
    """PostgreSQL: the check comes only from a parent (``INHERITS``); see ``Column``."""
    validated: bool = field(default=True, compare=False)
    """PostgreSQL: ``False`` for a check added ``NOT VALID``; see ``ForeignKey``."""
    column: str | None = field(default=None, compare=False)
    """MariaDB: the column a column-level ``CHECK`` is declared on (the server names it after
    the column); a copy declares it there too. Not compared."""
    no_inherit: bool = field(default=False, compare=False)
    """PostgreSQL: ``NO INHERIT`` (the check does not reach inheriting tables); written in a
    copy, not compared."""


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    ref_schema: str | None = None
    on_delete: str | None = None
    """``CASCADE``, ``SET NULL``, ``SET DEFAULT``, ``RESTRICT``; ``None`` is NO ACTION."""
    on_update: str | None = None
    deferrable: str | None = None
    """``DEFERRABLE INITIALLY DEFERRED`` / ``DEFERRABLE INITIALLY IMMEDIATE``; ``None`` is
    NOT DEFERRABLE (PostgreSQL)."""
    match: str | None = None
    """``FULL``; ``None`` is MATCH SIMPLE, the default (PostgreSQL)."""
    written_actions: tuple[str | None, str | None] | None = field(default=None, compare=False)
    """MySQL: ON DELETE / ON UPDATE as the server stores them (``NO ACTION`` is shown apart
    from the default RESTRICT, though InnoDB treats them alike), for an exact copy."""
    validated: bool = field(default=True, compare=False)
    """PostgreSQL: ``False`` for a key added ``NOT VALID`` and not validated since (the rows
    from before it are unchecked); a copy adds it ``NOT VALID`` too. Not compared."""


Constraint = UniqueConstraint | CheckConstraint | ForeignKey


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    schema: str | None = None
    """``None`` is the connection's default schema (``public``, the MySQL database, ``main``)."""
    comment: str | None = field(default=None, compare=False)
    indexes: tuple[Index, ...] = ()
    unique_constraints: tuple[UniqueConstraint, ...] = ()
    check_constraints: tuple[CheckConstraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    primary_key_name: str | None = field(default=None, compare=False)
    primary_key_deferrable: str | None = field(default=None, compare=False)
    """PostgreSQL: the primary key's ``DEFERRABLE INITIALLY ...``; see ``UniqueConstraint``."""
    parents: tuple[tuple[str | None, str], ...] = field(default=(), compare=False)
    """PostgreSQL: the (schema, name) of each table this one ``INHERITS`` from, in order; a
    copy is created after them, declaring only its own columns and checks."""
    options: tuple[str, ...] = field(default=(), compare=False)
    """SQLite: ``STRICT`` / ``WITHOUT ROWID`` as declared, written in a copy (and kept by a
    rebuild); PostgreSQL: ``PARTITION BY ...`` of a partitioned table. Not compared, since
    models do not say them."""
    collation: str | None = None
    """MySQL: the table's default collation (and so character set) when it is not the one
    covet creates tables with (``DEFAULT CHARSET=utf8mb4`` and that set's default)."""

    @property
    def key(self) -> str:
        return qualified_name(self.name, self.schema)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    def replace(self, **changes: object) -> Table:
        return replace(self, **changes)  # type: ignore[arg-type]


def kept_parts(
    table: Table,
    columns: Sequence[Column],
    indexes: Sequence[Index],
    uniques: Sequence[UniqueConstraint],
    checks: Sequence[CheckConstraint],
    foreign_keys: Sequence[ForeignKey],
) -> bool:
    """Whether a normaliser kept every column, index, key and check of ``table`` as the very
    objects they were, in order: then it can keep the table itself (the dialect checks its
    own table-level fields)."""
    return (
        _same_objects(columns, table.columns)
        and _same_objects(indexes, table.indexes)
        and _same_objects(uniques, table.unique_constraints)
        and _same_objects(checks, table.check_constraints)
        and _same_objects(foreign_keys, table.foreign_keys)
    )


def _same_objects(new: Sequence[Any], old: Sequence[Any]) -> bool:
    return len(new) == len(old) and all(map(operator.is_, new, old))


@dataclass(frozen=True)
class EnumType:
    """A PostgreSQL ``CREATE TYPE ... AS ENUM``."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None

    @property
    def key(self) -> str:
        return qualified_name(self.name, self.schema)


@dataclass(frozen=True)
class IgnoredObject:
    """Something in the database the schema model does not cover (a view, a trigger, a
    function): reported so users know, never dropped by a generated migration."""

    kind: str
    name: str
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} {qualified_name(self.name, self.schema)}"


@dataclass(frozen=True)
class CarriedObject:
    """An object covet does not model but can reproduce: the server's own statements that
    create and drop it (PostgreSQL extensions, schemas, domains, sequences), carried
    verbatim so a generated migration never uses something it did not create.

    Matched with an ``IgnoredObject`` of the same kind, name and schema (the reader lists
    both): the comparator creates what only the target has, and leaves the rest alone."""

    kind: str
    name: str
    schema: str | None
    create: str
    drop: str
    stage: int = 0
    """When it is created: 0 before enum types (schemas, extensions), 1 after them (domains,
    sequences), 2 and up after the tables (functions, then views, then triggers)."""
    dialect: str = ""
    """The dialect whose SQL ``create`` and ``drop`` are; no other renders them."""

    @property
    def ignored(self) -> IgnoredObject:
        return IgnoredObject(self.kind, self.name, self.schema)

    def __str__(self) -> str:
        return str(self.ignored)


@dataclass
class Schema:
    """Everything one read produced. ``tables`` and ``enums`` are keyed by ``qualified_name``."""

    tables: dict[str, Table] = field(default_factory=dict)
    enums: dict[str, EnumType] = field(default_factory=dict)
    ignored: list[IgnoredObject] = field(default_factory=list)
    dialect: str | None = None
    """The dialect the schema was read from; ``None`` for models (portable)."""
    carried: list[CarriedObject] = field(default_factory=list)
    """Unmodelled objects the reader can recreate (each also in ``ignored``)."""

    @classmethod
    def of(
        cls,
        tables: list[Table] | tuple[Table, ...],
        enums: list[EnumType] | tuple[EnumType, ...] = (),
        *,
        dialect: str | None = None,
        ignored: list[IgnoredObject] | None = None,
        carried: list[CarriedObject] | None = None,
    ) -> Schema:
        keyed: dict[str, Table] = {}
        for table in tables:
            first = keyed.setdefault(table.key, table)
            if first is not table:
                raise same_key_error(first, table)
        return cls(
            tables=keyed,
            enums={e.key: e for e in enums},
            ignored=list(ignored or []),
            dialect=dialect,
            carried=list(carried or []),
        )

    def table(self, name: str, schema: str | None = None) -> Table:
        return self.tables[qualified_name(name, schema)]


def same_key_error(first: Table, second: Table) -> ConfigError:
    """Two tables whose ``schema.name`` reads the same (a table named "a.b" and table b of
    schema a): one would silently replace the other in the schema, so reading stops."""

    def spelt(table: Table) -> str:
        where = f"of schema {one_line(table.schema)!r}" if table.schema else "in the current schema"
        return f"table {one_line(table.name)!r} {where}"

    return ConfigError(
        f"{spelt(first)} and {spelt(second)} are both {one_line(first.key)!r} to covet, which "
        f"keys tables by schema.name; read one schema at a time (schemas=[...]) or rename one"
    )


def qualified_name(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name
