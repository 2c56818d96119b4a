"""Declarative models: tables described in Python, read into the schema model for a diff.

    class User(Model):
        __tablename__ = "users"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        user_name = Column(String(50), nullable=False, unique=True)
        email = Column(String(255), nullable=False, index=True)
        status = Column(String(20), nullable=False, default="active")
        created_at = Column(DateTime, server_default="CURRENT_TIMESTAMP")
        __checks__ = [Check("status IN ('active', 'banned')", name="status_valid")]

    class Post(Model):
        __tablename__ = "posts"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        author_id = Column(BigInteger, ForeignKey("users.id", on_delete="CASCADE"))
        __indexes__ = [Index("author_id", "id")]

``ModelSchemaReader([User, Post]).read_schema()`` or ``ModelSchemaReader([myapp.models])``.
Every index and constraint gets an explicit, deterministic name (``pk_users``,
``ix_users_email``, ``uq_users_user_name``, ``fk_posts_author_id_users``,
``ck_users_status_valid``), so the database keeps the names the models chose and a later diff
matches them exactly. ``default=`` is a literal value (quoted for you); ``server_default=`` is
SQL text used as written.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from covet_core.errors import ConfigError
from covet_core.model_types import (
    JSON,
    JSONB,
    UUID,
    BigInteger,
    Binary,
    Boolean,
    Char,
    Date,
    DateTime,
    Decimal,
    Enum,
    Float,
    Integer,
    Numeric,
    Real,
    SmallInteger,
    String,
    Text,
    Time,
)
from covet_core.schema.model import CheckConstraint, ColumnType, EnumType, Schema, Table
from covet_core.schema.model import Column as SchemaColumn
from covet_core.schema.model import ForeignKey as SchemaForeignKey
from covet_core.schema.model import Index as SchemaIndex
from covet_core.schema.model import UniqueConstraint as SchemaUnique

__all__ = [
    "JSON",
    "JSONB",
    "UUID",
    "BigInteger",
    "Binary",
    "Boolean",
    "Char",
    "Check",
    "Column",
    "Date",
    "DateTime",
    "Decimal",
    "Enum",
    "Float",
    "ForeignKey",
    "Index",
    "Integer",
    "Model",
    "ModelSchemaReader",
    "Numeric",
    "Real",
    "SmallInteger",
    "String",
    "Text",
    "Time",
    "Unique",
]

MAX_NAME = 63  # PostgreSQL's identifier limit in bytes, the smallest of the three


@dataclass(frozen=True)
class ForeignKey:
    """``ForeignKey("users.id", on_delete="CASCADE")`` (``schema.table.column`` also works)."""

    target: str
    on_delete: str | None = None
    on_update: str | None = None
    name: str | None = None
    deferrable: str | None = None  # PostgreSQL: "DEFERRABLE INITIALLY DEFERRED"
    match: str | None = None  # PostgreSQL: "FULL"


@dataclass(frozen=True)
class Index:
    """A table-level index over ``columns`` (in ``__indexes__``); ``where`` makes it partial.
    PostgreSQL only: ``using`` (``"gin"``), ``include`` columns, ``nulls_not_distinct``."""

    columns: tuple[str, ...]
    unique: bool
    where: str | None
    name: str | None
    using: str | None
    include: tuple[str, ...]
    nulls_not_distinct: bool

    def __init__(
        self,
        *columns: str,
        unique: bool = False,
        where: str | None = None,
        name: str | None = None,
        using: str | None = None,
        include: tuple[str, ...] = (),
        nulls_not_distinct: bool = False,
    ) -> None:
        for attr, value in (
            ("columns", columns), ("unique", unique), ("where", where), ("name", name),
            ("using", using), ("include", tuple(include)),
            ("nulls_not_distinct", nulls_not_distinct),
        ):  # fmt: skip
            object.__setattr__(self, attr, value)


@dataclass(frozen=True)
class Unique:
    """A multi-column unique constraint (in ``__unique__``)."""

    columns: tuple[str, ...]
    name: str | None

    def __init__(self, *columns: str, name: str | None = None) -> None:
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "name", name)


@dataclass(frozen=True)
class Check:
    """A check constraint (in ``__checks__``); ``name`` is required so it can be matched."""

    expression: str
    name: str


class Column:
    """One column. ``type`` is a type (``Integer``) or a configured one (``String(50)``)."""

    def __init__(
        self,
        type: ColumnType | Callable[[], ColumnType],
        *args: ForeignKey,
        primary_key: bool = False,
        nullable: bool | None = None,
        default: Any = None,
        server_default: str | None = None,
        autoincrement: bool = False,
        unique: bool = False,
        index: bool = False,
        comment: str | None = None,
        name: str | None = None,
        collation: str | None = None,
        on_update: str | None = None,
        generated: str | None = None,
        stored: bool = False,
    ) -> None:
        self.type = type if isinstance(type, ColumnType) else type()
        if not isinstance(self.type, ColumnType):
            raise ConfigError(f"Column type must be a covet type such as String(50), not {type!r}")
        self.foreign_keys = args
        self.primary_key = primary_key
        self.nullable = (not primary_key) if nullable is None else nullable
        if default is not None and server_default is not None:
            raise ConfigError("give a column default= or server_default=, not both")
        self.default = server_default if server_default is not None else _literal(default)
        self.autoincrement = autoincrement
        self.unique = unique
        self.index = index
        self.comment = comment
        self.name = name
        self.collation = collation  # MySQL / SQLite
        self.on_update = on_update  # MySQL: "CURRENT_TIMESTAMP"
        self.generated, self.stored = generated, stored  # GENERATED ALWAYS AS (...) [STORED]
        self.order = next(_counter)

    def __set_name__(self, owner: type, name: str) -> None:
        if self.name is None:
            self.name = name


_counter = itertools.count()  # declaration order of columns across all models


def _literal(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ConfigError(f"default {value!r}: use a str, int, float or bool, or server_default=")


class Model:
    """Base class of declarative models. Subclasses name ``__tablename__`` (default: the class
    name in snake_case) and optionally ``__schema__``, ``__indexes__``, ``__unique__``,
    ``__checks__`` and ``__comment__``."""

    __tablename__: ClassVar[str]
    __schema__: ClassVar[str | None] = None
    __indexes__: ClassVar[Iterable[Index]] = ()
    __unique__: ClassVar[Iterable[Unique]] = ()
    __checks__: ClassVar[Iterable[Check]] = ()
    __comment__: ClassVar[str | None] = None
    __abstract__: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__abstract__" not in cls.__dict__:
            cls.__abstract__ = False


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def constraint_name(prefix: str, table: str, *parts: str) -> str:
    """``prefix_table_parts``; past the identifier limit, shortened with a stable hash."""
    return fit_identifier("_".join((prefix, table, *parts)), MAX_NAME)


def fit_identifier(name: str, limit: int) -> str:
    """``name`` when it has at most ``limit`` UTF-8 bytes; else cut, with a stable hash of the
    whole name appended so that two long names stay distinct."""
    encoded = name.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:8]
    head = name[: limit - 9]
    while len(head.encode("utf-8", "surrogatepass")) > limit - 9:
        head = head[:-1]  # whole characters only
    return f"{head}_{digest}"


def _columns(model: type[Model]) -> list[Column]:
    found: dict[str, Column] = {}
    for klass in reversed(model.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Column):
                found[attr] = value
    return sorted(found.values(), key=lambda c: c.order)


def table_of(model: type[Model]) -> tuple[Table, list[EnumType]]:
    """The ``Table`` a model describes, and the named enum types its columns use."""
    name = model.__dict__.get("__tablename__") or snake_case(model.__name__)
    schema = model.__schema__
    columns = _columns(model)
    if not columns:
        raise ConfigError(f"model {model.__name__} declares no columns")
    cols, indexes, uniques, fks, enums = [], [], [], [], []
    for col in columns:
        assert col.name is not None
        cols.append(
            SchemaColumn(
                col.name,
                col.type,
                col.nullable,
                col.default,
                col.autoincrement,
                col.comment,
                on_update=col.on_update,
                collation=col.collation,
                generated=col.generated,
                stored=col.stored,
            )
        )
        if col.type.name == "enum" and col.type.enum_name:
            enums.append(EnumType(col.type.enum_name, col.type.values, schema))
        if col.unique:
            uniques.append(SchemaUnique(constraint_name("uq", name, col.name), (col.name,)))
        if col.index:
            indexes.append(SchemaIndex(constraint_name("ix", name, col.name), (col.name,)))
        for fk in col.foreign_keys:
            fks.append(_foreign_key(name, schema, (col.name,), fk))
    for index in model.__indexes__:
        indexes.append(
            SchemaIndex(
                index.name or constraint_name("ix", name, *index.columns),
                tuple(index.columns),
                index.unique,
                index.where,
                method=index.using,
                include=index.include,
                nulls_not_distinct=index.nulls_not_distinct,
            )
        )
    for unique in model.__unique__:
        uniques.append(
            SchemaUnique(
                unique.name or constraint_name("uq", name, *unique.columns), unique.columns
            )
        )
    checks = [
        CheckConstraint(constraint_name("ck", name, c.name), c.expression) for c in model.__checks__
    ]
    known = {c.name for c in columns}
    for ref in [*(i.columns for i in indexes), *(u.columns for u in uniques)]:
        for column in ref:
            if column not in known:
                raise ConfigError(
                    f"model {model.__name__}: no column {column!r} (in an index or unique)"
                )
    table = Table(
        name,
        tuple(cols),
        primary_key=tuple(c.name for c in columns if c.primary_key and c.name),
        schema=schema,
        comment=model.__comment__,
        indexes=tuple(indexes),
        unique_constraints=tuple(uniques),
        check_constraints=tuple(checks),
        foreign_keys=tuple(fks),
        primary_key_name=constraint_name("pk", name),
    )
    return table, enums


def _foreign_key(
    table: str, schema: str | None, columns: tuple[str, ...], fk: ForeignKey
) -> SchemaForeignKey:
    parts = fk.target.split(".")
    if len(parts) not in (2, 3):
        raise ConfigError(f"ForeignKey({fk.target!r}): write table.column or schema.table.column")
    ref_schema = parts[0] if len(parts) == 3 else schema
    ref_table, ref_column = parts[-2], parts[-1]
    return SchemaForeignKey(
        fk.name or constraint_name("fk", table, *columns, ref_table),
        columns,
        ref_table,
        (ref_column,),
        ref_schema,
        fk.on_delete.upper() if fk.on_delete else None,
        fk.on_update.upper() if fk.on_update else None,
        deferrable=fk.deferrable,
        match=fk.match,
    )


def collect_models(items: Iterable[type[Model] | ModuleType]) -> list[type[Model]]:
    """Model classes from classes and modules (a module contributes the models defined in it)."""
    found: list[type[Model]] = []
    for item in items:
        if isinstance(item, ModuleType):
            for value in vars(item).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Model)
                    and not value.__dict__.get("__abstract__", False)
                    and value.__module__ == item.__name__
                ):
                    found.append(value)
        elif isinstance(item, type) and issubclass(item, Model):
            found.append(item)
        else:
            raise ConfigError(f"{item!r} is neither a Model subclass nor a module of models")
    return list(dict.fromkeys(found))


class ModelSchemaReader:
    """``ModelSchemaReader([User, Post]).read_schema()`` (or a module of models)."""

    def __init__(self, models: Iterable[type[Model] | ModuleType]) -> None:
        self.models = collect_models(models)

    def read_schema(self) -> Schema:
        tables: dict[str, Table] = {}
        enums: dict[str, EnumType] = {}
        for model in self.models:
            table, used = table_of(model)
            if table.key in tables:
                raise ConfigError(f"two models describe table {table.key}")
            tables[table.key] = table
            for enum in used:
                if enums.get(enum.key, enum) != enum:
                    raise ConfigError(f"enum {enum.key} is declared with two different value lists")
                enums[enum.key] = enum
        return Schema(tables=tables, enums=enums)
