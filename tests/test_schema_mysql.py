"""The MySQL / MariaDB schema reader, normaliser and renderer against the real server.

Every round trip renders with covet, runs the DDL, reads the catalog back and compares after
normalisation, which is what the comparator does with a live schema and a model.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Target, chinook_ddl, database_target
from covet_dialect_mysql import DIALECT
from covet_dialect_mysql.expression import canonical_expression
from covet_dialect_mysql.normalise import normalise, normalise_table
from covet_dialect_mysql.render import render
from covet_dialect_mysql.schema_reader import MySQLSchemaReader, parse_type

from covet_core.schema import (
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    CheckConstraint,
    Column,
    ColumnType,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropEnum,
    EnumType,
    ForeignKey,
    Index,
    Operation,
    RebuildTable,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_core.schema.order import foreign_key_order
from covet_core.schema.reader import SchemaReader

AUTHORS = Table(
    "authors",
    (
        Column("id", ColumnType("bigint"), nullable=False, autoincrement=True),
        Column("code", ColumnType("string", 10), nullable=False),
    ),
    primary_key=("id",),
    unique_constraints=(UniqueConstraint("uq_authors_code", ("code",)),),
)
BOOKS = Table(
    "books",
    (
        Column("id", ColumnType("integer"), nullable=False, autoincrement=True),
        Column("title", ColumnType("string", 200), nullable=False, default="'untitled'"),
        Column("isbn", ColumnType("char", 13), comment="ISBN-13, no 'dashes' or \\"),
        Column("body", ColumnType("text")),
        Column("pages", ColumnType("smallint"), nullable=False, default="0"),
        Column("big", ColumnType("bigint", unsigned=True)),
        Column("flag", ColumnType("boolean"), nullable=False, default="false"),
        Column("ratio", ColumnType("float"), default="1.5"),
        Column("weight", ColumnType("real")),
        Column("price", ColumnType("decimal", precision=10, scale=2), default="0"),
        Column("created", ColumnType("timestamp"), nullable=False, default="CURRENT_TIMESTAMP"),
        Column("updated", ColumnType("timestamptz")),
        Column("day", ColumnType("date")),
        Column("at", ColumnType("time")),
        Column("blob", ColumnType("binary")),
        Column("data", ColumnType("json")),
        Column("meta", ColumnType("jsonb")),
        Column("uid", ColumnType("uuid")),
        Column(
            "status", ColumnType("enum", values=("draft", "it's out", "a\\b")), default="'draft'"
        ),
        Column("author_id", ColumnType("bigint")),
        Column("code", ColumnType("string")),
    ),
    primary_key=("id",),
    comment="every type",
    indexes=(
        Index("ix_books_author_day", ("author_id", "day")),
        Index("ix_books_title_prefix", (), expression="title(20) DESC"),
    ),
    unique_constraints=(UniqueConstraint("uq_books_title_author", ("title", "author_id")),),
    check_constraints=(
        CheckConstraint("ck_books_pages", "pages >= 0 AND (price > 0 OR flag = 1)"),
    ),
    foreign_keys=(
        ForeignKey(
            "fk_books_author_id_authors",
            ("author_id",),
            "authors",
            ("id",),
            on_delete="CASCADE",
            on_update="SET NULL",
        ),
    ),
)


@pytest.fixture
async def db(mysql: Target) -> AsyncIterator[Any]:
    adapter = mysql.new_adapter()
    await adapter.connect()
    yield adapter
    await adapter.disconnect()


async def apply(adapter: Any, *operations: Operation) -> None:
    for operation in operations:
        for sql in render(operation) or []:
            await adapter.execute(sql)


async def read(adapter: Any) -> Schema:
    return await SchemaReader(adapter, "mysql").read_schema()


def canon(table: Table) -> Table:
    return normalise_table(table)


async def test_rich_table_round_trips_and_reads_as_written(db: Any) -> None:
    await apply(db, CreateTable(AUTHORS), CreateTable(BOOKS))
    schema = await read(db)
    assert set(schema.tables) == {"authors", "books"}
    for model in (AUTHORS, BOOKS):
        assert canon(schema.table(model.name)) == canon(model)
        assert canon(canon(model)) == canon(model)  # idempotent
    books = schema.table("books")
    assert books.schema is None and books.primary_key == ("id",)
    assert books.comment == "every type"
    col = {c.name: c for c in books.columns}
    assert col["id"].autoincrement and col["id"].type == ColumnType("integer")
    assert col["title"].type == ColumnType("string", 200) and col["title"].default == "'untitled'"
    assert not col["title"].nullable and col["isbn"].nullable
    assert col["flag"].type == ColumnType("boolean") and col["flag"].default == "0"
    assert col["big"].type == ColumnType("bigint", unsigned=True)
    assert col["ratio"].type == ColumnType("float") and col["weight"].type == ColumnType("real")
    assert col["price"].type == ColumnType("decimal", precision=10, scale=2)
    assert col["price"].default == "0.00"
    assert col["created"].type == ColumnType("timestamp", precision=6)
    assert col["created"].default == "CURRENT_TIMESTAMP(6)"
    assert col["data"].type == ColumnType("json") and col["meta"].type == ColumnType("json")
    assert col["uid"].type == ColumnType("char", 36)
    assert col["status"].type == ColumnType("enum", values=("draft", "it's out", "a\\b"))
    assert col["isbn"].comment == "ISBN-13, no 'dashes' or \\"
    assert col["code"].type == ColumnType("string", 255)
    # The json_valid() check MariaDB adds for a JSON column is part of the type, not a check.
    assert [c.name for c in books.check_constraints] == ["ck_books_pages"]
    assert "`pages` >= 0" in books.check_constraints[0].expression
    (fk,) = books.foreign_keys
    assert (fk.on_delete, fk.on_update, fk.ref_table) == ("CASCADE", "SET NULL", "authors")
    assert books.unique_constraints == (
        UniqueConstraint("uq_books_title_author", ("title", "author_id")),
    )
    by_name = {i.name: i for i in books.indexes}
    assert by_name["ix_books_author_day"].columns == ("author_id", "day")
    assert not by_name["ix_books_author_day"].unique
    assert by_name["ix_books_title_prefix"].expression == "`title`(20) DESC"
    assert schema.table("authors").unique_constraints == (
        UniqueConstraint("uq_authors_code", ("code",)),
    )


async def test_partial_index_and_enum_types_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="MySQL has no partial indexes"):
        render(CreateIndex("t", Index("ix_t_a", ("a",), where="a > 0")))
    mood = EnumType("mood", ("sad", "ok"))
    for op in (CreateEnum(mood), DropEnum(mood), AddEnumValue(mood, "glad")):
        with pytest.raises(ValueError, match="no enum types"):
            render(op)
    with pytest.raises(ValueError, match="alters tables in place"):
        render(RebuildTable(AUTHORS, AUTHORS, ()))
    with pytest.raises(ValueError, match="unnamed constraint"):
        render(DropConstraint("t", CheckConstraint(None, "a > 0")))
    # Each constraint kind has its own DROP on MySQL; the FK takes its implicit index along.
    assert render(DropConstraint("t", UniqueConstraint("uq", ("a",)))) == [
        "ALTER TABLE `t` DROP INDEX `uq`"
    ]
    assert render(DropConstraint("t", CheckConstraint("ck", "a > 0"))) == [
        "ALTER TABLE `t` DROP CONSTRAINT `ck`"
    ]
    drop_fk = (render(DropConstraint("t", ForeignKey("fk", ("a",), "u", ("id",)))) or [""])[0]
    assert drop_fk.startswith("ALTER TABLE `t` DROP FOREIGN KEY `fk`")


def test_normaliser_folds_what_mysql_cannot_tell_apart() -> None:
    assert parse_type("tinyint(1)") == ColumnType("boolean")
    assert parse_type("int(11)") == ColumnType("integer")
    assert parse_type("datetime") == ColumnType("timestamp", precision=0)
    assert parse_type("varchar(255)") == ColumnType("string", 255)
    assert parse_type("enum('a','b''c')") == ColumnType("enum", values=("a", "b'c"))
    assert parse_type("decimal(10,2) unsigned") == ColumnType("decimal", None, 10, 2, unsigned=True)
    t = Table(
        "t",
        (
            Column("a", ColumnType("timestamptz"), default="now()"),
            Column("b", ColumnType("integer"), default="'7'"),
            Column("c", ColumnType("string"), default="NULL"),
            Column("d", ColumnType("boolean"), default="TRUE"),
        ),
        indexes=(Index("ux_t_b", ("b",), unique=True), Index("fk_t", ("b",))),
        foreign_keys=(ForeignKey("fk_t", ("b",), "u", ("id",), on_delete="RESTRICT"),),
        check_constraints=(CheckConstraint("CONSTRAINT_1", "NOT (b = 1)"),),
    )
    n = normalise_table(t)
    assert [c.default for c in n.columns] == ["CURRENT_TIMESTAMP(6)", "7", None, "1"]
    assert n.columns[0].type == ColumnType("timestamp", precision=6)
    assert n.indexes == () and n.unique_constraints == (UniqueConstraint("ux_t_b", ("b",)),)
    assert n.foreign_keys[0].on_delete is None
    assert n.check_constraints == (CheckConstraint(None, "`b` <> 1"),)
    # Different expressions stay different; equal ones written differently meet.
    assert canonical_expression("a > 0 AND b > 0") != canonical_expression("a > 0 OR b > 0")
    assert canonical_expression("a - (b - c)") != canonical_expression("a - b - c")
    assert canonical_expression("NOT (a > 1 AND b IS NULL)") == "`a` <= 1 or `b` is not null"
    assert normalise(Schema.of([t])).tables["t"] == n


def _expected_after(table: Table, op: Operation) -> Table:
    if isinstance(op, AlterColumn):
        return table.replace(
            columns=tuple(op.after if c.name == op.after.name else c for c in table.columns)
        )
    field = {
        UniqueConstraint: "unique_constraints",
        CheckConstraint: "check_constraints",
        ForeignKey: "foreign_keys",
    }[type(op.constraint)]  # type: ignore[attr-defined]
    current = getattr(table, field)
    if isinstance(op, AddConstraint):
        return table.replace(**{field: (*current, op.constraint)})
    assert isinstance(op, DropConstraint)
    return table.replace(**{field: tuple(c for c in current if c != op.constraint)})


ORDERS = Table(
    "orders",
    (
        Column("id", ColumnType("integer"), nullable=False, autoincrement=True),
        Column("qty", ColumnType("integer")),
        Column("note", ColumnType("string", 40), default="'n/a'"),
        Column("author_id", ColumnType("bigint")),
        Column("code", ColumnType("string", 20)),
        Column("ref_id", ColumnType("bigint")),
    ),
    primary_key=("id",),
    indexes=(Index("ix_orders_qty", ("qty",)),),
    unique_constraints=(UniqueConstraint("uq_orders_code", ("code",)),),
    check_constraints=(CheckConstraint("ck_orders_qty", "qty >= 0"),),
    foreign_keys=(ForeignKey("fk_orders_author_id_authors", ("author_id",), "authors", ("id",)),),
)
# The operations every dialect runs are the conformance suite's
# (tests/dialects/test_suite_mysql.py). These are where MySQL differs: MODIFY COLUMN restates
# the whole column (comment, default, type), and a foreign key leaves its index behind.
OPERATIONS = [
    AlterColumn(
        "orders",
        ORDERS.column("qty"),
        Column("qty", ColumnType("bigint"), nullable=False, default="5", comment="how many"),
    ),
    AlterColumn("orders", ORDERS.column("note"), Column("note", ColumnType("text"))),
    AddConstraint(
        "orders",
        ForeignKey(
            "fk_orders_ref_id_authors", ("ref_id",), "authors", ("id",), on_delete="SET NULL"
        ),
    ),
    DropConstraint("orders", ORDERS.check_constraints[0]),
    DropConstraint("orders", ORDERS.foreign_keys[0]),
]


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.describe())
async def test_mysql_operations_and_their_reverse_on_a_table_with_rows(db: Any, op: Any) -> None:
    await apply(db, CreateTable(AUTHORS), CreateTable(ORDERS))
    await db.execute("INSERT INTO authors (id, code) VALUES (1, 'a'), (2, 'b')")
    await db.execute("INSERT INTO orders (qty, note, author_id, code) VALUES (1, 'x', 1, 'c1')")
    before = (await read(db)).table("orders")
    await apply(db, op)
    after = await read(db)
    expected = _expected_after(ORDERS, op)
    assert canon(after.table(expected.name)) == canon(expected)
    assert await db.fetch_value(f"SELECT count(*) FROM `{expected.name}`") == 1
    await apply(db, op.reverse())
    restored = canon((await read(db)).table("orders"))
    assert restored == canon(_expected_after(expected, op.reverse()))
    if not isinstance(op, DropColumn):  # a re-added column comes back last, and empty
        assert restored == canon(before) == canon(ORDERS)


HAND_WRITTEN = [
    "CREATE TABLE parent (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
    "name VARCHAR(50) NOT NULL UNIQUE) ENGINE=InnoDB",
    """CREATE TABLE child (
      id BIGINT NOT NULL AUTO_INCREMENT,
      parent_id INT UNSIGNED,
      amount DECIMAL(12,4) NOT NULL DEFAULT '0.5000',
      active TINYINT(1) NOT NULL DEFAULT 1,
      kind ENUM('x','y') NOT NULL DEFAULT 'x',
      seen DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
      at TIMESTAMP(3) NULL,
      doc JSON,
      n INT CHECK (n > 0),
      PRIMARY KEY (id),
      KEY child_amount (amount, kind),
      CONSTRAINT `child_ibfk_1` FOREIGN KEY (parent_id) REFERENCES parent (id)
        ON DELETE RESTRICT ON UPDATE CASCADE,
      CHECK (amount >= 0)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='kids'""",
    "CREATE VIEW adults AS SELECT * FROM child WHERE amount > 1",
    "CREATE TRIGGER child_bi BEFORE INSERT ON child FOR EACH ROW SET NEW.amount = NEW.amount",
    "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
    "CREATE PROCEDURE noop() SELECT 1",
]


async def test_hand_written_ddl_reads_as_the_expected_model(db: Any) -> None:
    for sql in HAND_WRITTEN:
        await db.execute(sql)
    schema = await read(db)
    assert set(schema.tables) == {"parent", "child"}
    assert {str(o) for o in schema.ignored} == {
        "view adults",
        "trigger child_bi",
        "function twice",
        "procedure noop",
    }
    parent = schema.table("parent")
    assert parent.columns[0].type == ColumnType("integer", unsigned=True)
    assert parent.unique_constraints == (UniqueConstraint("name", ("name",)),)
    child = schema.table("child")
    expected = Table(
        "child",
        (
            Column("id", ColumnType("bigint"), nullable=False, autoincrement=True),
            Column("parent_id", ColumnType("integer", unsigned=True)),
            Column("amount", ColumnType("decimal", None, 12, 4), nullable=False, default="0.5"),
            Column("active", ColumnType("boolean"), nullable=False, default="TRUE"),
            Column("kind", ColumnType("enum", values=("x", "y")), nullable=False, default="'x'"),
            Column(
                "seen", ColumnType("timestamp", precision=0), default="now()", on_update="now()"
            ),
            Column("at", ColumnType("mysql_timestamp", precision=3)),
            Column("doc", ColumnType("json")),
            Column("n", ColumnType("integer")),
        ),
        primary_key=("id",),
        indexes=(Index("child_amount", ("amount", "kind")),),
        check_constraints=(CheckConstraint(None, "n > 0"), CheckConstraint(None, "amount >= 0")),
        foreign_keys=(ForeignKey(None, ("parent_id",), "parent", ("id",), on_update="CASCADE"),),
    )
    assert canon(child) == canon(expected)
    assert child.comment == "kids" and child.column("seen").default == "CURRENT_TIMESTAMP"
    assert child.column("seen").on_update == "CURRENT_TIMESTAMP"  # was dropped (issue 14)
    assert child.foreign_keys[0].on_delete == "RESTRICT"  # as the server says; normalised: None
    assert {c.name for c in child.check_constraints} == {"n", "CONSTRAINT_1"}


@pytest.mark.filterwarnings("ignore:Name .* ignored for PRIMARY key")  # Chinook's own DDL
def test_chinook_reads_and_recreates_identically(mysql: Target, tmp_path: Path) -> None:
    ddl = chinook_ddl(DIALECT)
    with database_target("mysql", tmp_path / "again") as other:
        asyncio.run(_chinook(mysql, other, ddl))


async def _chinook(target: Target, other: Target, ddl: list[str]) -> None:
    db = target.new_adapter()
    await db.connect()
    try:
        for sql in ddl:
            await db.execute(sql)
        first = await read(db)
    finally:
        await db.disconnect()
    assert sorted(first.tables) == sorted(
        [
            "Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine",
            "MediaType", "Playlist", "PlaylistTrack", "Track",
        ]
    )  # fmt: skip
    assert first.table("PlaylistTrack").primary_key == ("PlaylistId", "TrackId")
    track = first.table("Track")
    assert {f.name for f in track.foreign_keys} == {
        "FK_TrackAlbumId",
        "FK_TrackGenreId",
        "FK_TrackMediaTypeId",
    }
    assert {i.name for i in track.indexes} == {
        "IFK_TrackAlbumId",
        "IFK_TrackGenreId",
        "IFK_TrackMediaTypeId",
    }
    assert track.column("Name").type == ColumnType("string", 200)
    assert track.column("UnitPrice").type == ColumnType("decimal", None, 10, 2)
    assert first.table("Invoice").column("InvoiceDate").type == ColumnType("timestamp", precision=0)
    employee = first.table("Employee")
    assert employee.foreign_keys == (
        ForeignKey("FK_EmployeeReportsTo", ("ReportsTo",), "Employee", ("EmployeeId",)),
    )
    fresh = other.new_adapter()
    await fresh.connect()
    try:
        await apply(
            fresh, *(CreateTable(t) for t in foreign_key_order(list(first.tables.values()))[0])
        )
        second = await read(fresh)
    finally:
        await fresh.disconnect()
    assert normalise(second).tables == normalise(first).tables


async def test_other_schemas_are_read_with_their_name(db: Any) -> None:
    side = f"{db.database}_side"
    await apply(db, CreateTable(AUTHORS))
    await db.execute(f"CREATE DATABASE `{side}`")
    try:
        other = AUTHORS.replace(
            name="notes",
            schema=side,
            unique_constraints=(),
            foreign_keys=(ForeignKey("fk_notes_id_authors", ("id",), "authors", ("id",)),),
        )
        await db.execute((render(CreateTable(other)) or [""])[0].replace("`authors`", f"`{db.database}`.`authors`"))  # fmt: skip
        only_side = await MySQLSchemaReader(db).read([side])
        assert list(only_side.tables) == [f"{side}.notes"]
        notes = only_side.table("notes", side)
        assert notes.foreign_keys[0].ref_schema is None  # the connection's own database
        both = await MySQLSchemaReader(db).read([db.database, side])
        assert sorted(both.tables) == sorted(["authors", f"{side}.notes"])
        assert canon(both.table("notes", side)) == canon(other)
    finally:
        await db.execute(f"DROP DATABASE `{side}`")
