"""PostgreSQL schema reader, normaliser and renderer against the real server.

The law under test: ``normalise(read(apply(render(CreateTable(t))))) == normalise(t)``, and
PostgreSQL's own operations (identity, enum types, expression indexes) applied to a table with
rows read back as the expected after-state, their reverse as the before-state. What every
dialect must do is the conformance suite's (tests/dialects/test_suite_postgresql.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import chinook_ddl, database_target
from covet_dialect_postgresql import DIALECT
from covet_dialect_postgresql.expression import canonical
from covet_dialect_postgresql.normalise import normalise, normalise_table
from covet_dialect_postgresql.render import render
from covet_dialect_postgresql.schema_reader import PostgreSQLSchemaReader, portable_type

from covet_core.errors import DatabaseError
from covet_core.schema import (
    AddColumn,
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    CheckConstraint,
    Column,
    ColumnType,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropEnum,
    DropIndex,
    EnumType,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_core.schema.order import foreign_key_order
from covet_core.schema.reader import SchemaReader


def t(name: str, length: int | None = None, **kw: Any) -> ColumnType:
    return ColumnType(name, length=length, **kw)


MOOD = EnumType("mood", ("sad", "ok", "happy"))
PARENT = Table("parent", (Column("id", t("integer"), nullable=False),), primary_key=("id",))
RICH = Table(
    "rich",
    (
        Column("id", t("bigint"), nullable=False, autoincrement=True),
        Column("small", t("smallint"), default="'7'"),
        Column("count", t("integer"), nullable=False, default="0"),
        Column("ratio", t("float")),
        Column("single", t("real")),
        Column("price", t("decimal", precision=10, scale=2), default="'9.99'"),
        Column("active", t("boolean"), nullable=False, default="1"),
        Column("email", t("string", 120), nullable=False, comment="login address"),
        Column("nick", t("string")),
        Column("code", t("char", 2), default="'xx'"),
        Column("body", t("text")),
        Column("blob", t("binary")),
        Column("born", t("date")),
        Column("alarm", t("time")),
        Column("seen", t("timestamp", precision=3)),
        Column("created", t("timestamp"), nullable=False, default="CURRENT_TIMESTAMP"),
        Column("updated", t("timestamptz"), default="now()"),
        Column("doc", t("json")),
        Column("meta", t("jsonb"), default="'{}'"),
        Column("token", t("uuid"), default="gen_random_uuid()"),
        Column("mood", t("enum", values=MOOD.values, enum_name="mood"), default="'ok'"),
        Column("span", t("interval")),
        Column("tags", t("text[]")),
        Column("status", t("string", 10), nullable=False, default="'new'"),
        Column("parent_id", t("integer")),
    ),
    primary_key=("id",),
    primary_key_name="pk_rich",
    comment="everything at once",
    indexes=(
        Index("ix_rich_count_born", ("count", "born")),
        Index("ix_rich_live", ("email",), unique=True, where="active AND status <> 'gone'"),
        Index("ix_rich_lower_email", (), expression="lower(email)"),
    ),
    unique_constraints=(
        UniqueConstraint("uq_rich_code_nick", ("code", "nick")),
        UniqueConstraint(None, ("token",)),
    ),
    check_constraints=(
        CheckConstraint("ck_rich_price", "price > 0 AND count >= 0"),
        CheckConstraint("ck_rich_status", "status IN ('new', 'old') OR status LIKE 'x%'"),
        CheckConstraint(None, "small BETWEEN 1 AND 9"),
    ),
    foreign_keys=(
        ForeignKey(
            "fk_rich_parent_id_parent",
            ("parent_id",),
            "parent",
            ("id",),
            on_delete="CASCADE",
            on_update="SET NULL",
        ),
    ),
)


async def connect(pg: Any) -> Any:
    adapter = pg.new_adapter()
    await adapter.connect()
    return adapter


async def apply(adapter: Any, *operations: Any) -> None:
    for operation in operations:
        for sql in render(operation):
            await adapter.execute(sql)


async def read(adapter: Any, schemas: list[str] | None = None) -> Schema:
    return await PostgreSQLSchemaReader(adapter).read(schemas)


async def read_table(adapter: Any, name: str, schema: str | None = None) -> Table:
    return normalise_table((await read(adapter, [schema] if schema else None)).table(name, schema))


async def test_rich_table_round_trip(pg):
    adapter = await connect(pg)
    try:
        await apply(adapter, CreateEnum(MOOD), CreateTable(PARENT), CreateTable(RICH))
        schema = await read(adapter)
    finally:
        await adapter.disconnect()
    assert normalise_table(schema.table("rich")) == normalise_table(RICH)
    assert normalise_table(schema.table("parent")) == normalise_table(PARENT)
    assert normalise(normalise(schema)).tables == normalise(schema).tables  # idempotent

    rich = schema.table("rich")
    assert schema.enums == {"mood": MOOD}
    assert rich.comment == "everything at once" and rich.primary_key_name == "pk_rich"
    assert rich.column("id") == Column("id", t("bigint"), nullable=False, autoincrement=True)
    assert rich.column("email").type == t("string", 120)
    assert rich.column("email").comment == "login address"
    assert rich.column("price").type == t("decimal", precision=10, scale=2)
    assert rich.column("seen").type == t("timestamp", precision=3)
    assert rich.column("updated").type == t("timestamptz")
    assert rich.column("code").type == t("char", 2)
    assert rich.column("mood").type == t("enum", values=("sad", "ok", "happy"), enum_name="mood")
    assert rich.column("span").type == t("interval") and rich.column("tags").type == t("text[]")
    assert rich.column("created").default == "CURRENT_TIMESTAMP"
    assert rich.column("status").default == "'new'::character varying"  # the server's spelling
    assert normalise_table(rich).column("status").default == "'new'"
    assert normalise_table(rich).column("updated").default == "CURRENT_TIMESTAMP"
    assert rich.column("active").default == "true" and rich.column("nick").nullable
    (fk,) = rich.foreign_keys
    assert (fk.on_delete, fk.on_update, fk.ref_table, fk.ref_schema) == (
        "CASCADE", "SET NULL", "parent", None,
    )  # fmt: skip
    indexes = {i.name: i for i in rich.indexes}
    assert set(indexes) == {"ix_rich_count_born", "ix_rich_live", "ix_rich_lower_email"}
    assert indexes["ix_rich_count_born"].columns == ("count", "born")
    live = indexes["ix_rich_live"]
    assert live.unique and live.columns == ("email",) and "status" in (live.where or "")
    assert indexes["ix_rich_lower_email"] == Index(
        "ix_rich_lower_email", (), expression="lower(email::text)"
    )
    checks = {c.name: c.expression for c in rich.check_constraints}
    # Unnamed constraints get PostgreSQL's own names, which the normaliser predicts.
    assert checks["rich_small_check"] == "small >= 1 AND small <= 9"
    assert {u.name for u in rich.unique_constraints} == {"uq_rich_code_nick", "rich_token_key"}


async def test_postgresql_operations_and_their_reverse(pg):
    adapter = await connect(pg)
    base = Table(
        "item",
        (Column("id", t("integer"), nullable=False, autoincrement=True),
         Column("name", t("string", 20), nullable=False, default="'x'"),
         Column("qty", t("integer")),
         Column("state", t("string", 10)),
         Column("note", t("text"))),
        primary_key=("id",),
    )  # fmt: skip
    other = Table("owner", (Column("id", t("integer"), nullable=False),), primary_key=("id",))
    try:
        await apply(adapter, CreateTable(base), CreateTable(other), CreateEnum(MOOD))
        await adapter.execute("INSERT INTO owner VALUES (1), (2)")
        await adapter.execute(
            "INSERT INTO item (name, qty, state, note) VALUES ('a', 1, 'sad', 'n'), ('b', 2, 'ok', NULL)"
        )
        name, qty, state, note = (base.column(c) for c in ("name", "qty", "state", "note"))
        mood = t("enum", values=MOOD.values, enum_name="mood")
        # The operations every dialect runs are the conformance suite's
        # (tests/dialects/test_suite_postgresql.py); these are PostgreSQL's own: identity and
        # enum-typed columns, column comments, expression indexes.
        cases = [
            (AlterColumn("item", name, Column("name", t("text"), default="'y'", comment="label")),
             base.replace(columns=(base.columns[0], Column("name", t("text"), default="'y'", comment="label"), *base.columns[2:]))),
            (AlterColumn("item", qty, Column("qty", t("bigint"), nullable=False, autoincrement=True)),
             base.replace(columns=(*base.columns[:2], Column("qty", t("bigint"), nullable=False, autoincrement=True), *base.columns[3:]))),
            (AlterColumn("item", state, Column("state", mood, default="'ok'")),
             base.replace(columns=(*base.columns[:3], Column("state", mood, default="'ok'"), note))),
            (CreateIndex("item", Index("ix_item_expr", (), unique=True, expression="lower(name), (qty + 1)")),
             base.replace(indexes=(Index("ix_item_expr", (), unique=True, expression="lower(name), (qty + 1)"),))),
            (AddConstraint("item", ForeignKey("fk_item_qty_owner", ("qty",), "owner", ("id",), on_delete="SET NULL")),
             base.replace(foreign_keys=(ForeignKey("fk_item_qty_owner", ("qty",), "owner", ("id",), on_delete="SET NULL"),))),
        ]  # fmt: skip
        for operation, expected in cases:
            before = await read_table(adapter, "item")
            await apply(adapter, operation)
            assert await read_table(adapter, "item") == normalise_table(expected), operation
            await apply(adapter, operation.reverse())
            assert await read_table(adapter, "item") == before, operation.reverse()
        assert await adapter.fetch_value("SELECT count(*) FROM item") == 2  # rows survived

        # Enum types grow in place.
        await apply(adapter, AddEnumValue(MOOD, "meh", before="ok"), AddEnumValue(MOOD, "wow"))
        assert (await read(adapter)).enums["mood"].values == ("sad", "meh", "ok", "happy", "wow")
        with pytest.raises(NotImplementedError):
            AddEnumValue(MOOD, "x").reverse()
        await apply(adapter, DropEnum(MOOD))
        assert (await read(adapter)).enums == {}
        await apply(adapter, DropEnum(MOOD).reverse())
        assert (await read(adapter)).enums == {"mood": MOOD}
    finally:
        await adapter.disconnect()


HAND_WRITTEN = """
CREATE TYPE app.level AS ENUM ('low', 'high');
CREATE TABLE app.author (
    author_id serial PRIMARY KEY,
    name varchar(100) NOT NULL UNIQUE,
    level app.level DEFAULT 'low',
    joined timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE app.book (
    id bigint GENERATED ALWAYS AS IDENTITY,
    author_id int REFERENCES app.author ON DELETE RESTRICT,
    title text CHECK (length(title) > 0),
    price numeric(8, 2) DEFAULT 0.00,
    isbn char(13),
    CONSTRAINT book_pk PRIMARY KEY (id)
);
COMMENT ON COLUMN app.book.isbn IS 'ISBN-13';
CREATE INDEX book_cheap ON app.book (price) WHERE price < 10;
CREATE INDEX book_title_desc ON app.book (author_id, title DESC);
CREATE VIEW app.cheap_books AS SELECT * FROM app.book WHERE price < 10;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER book_touch BEFORE UPDATE ON app.book FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE SEQUENCE app.tickets;
CREATE TABLE app._covet_state (id int PRIMARY KEY);
CREATE TRIGGER covet_touch BEFORE UPDATE ON app._covet_state FOR EACH ROW EXECUTE FUNCTION app.touch();
"""


async def test_hand_written_ddl_in_a_named_schema(pg):
    adapter = await connect(pg)
    try:
        await adapter.execute("CREATE SCHEMA app")
        await adapter.execute(HAND_WRITTEN)
        await adapter.execute("CREATE TABLE public.elsewhere (id int)")
        schema = await read(adapter, ["app"])
        facade = await SchemaReader(adapter, DIALECT, schemas=["app"]).read_schema()
        default = await read(adapter)
    finally:
        await adapter.disconnect()
    assert set(default.tables) == {"elsewhere"}  # no schemas: the default one only
    assert set(facade.tables) == {"app.author", "app.book"}  # covet's own tables left out
    assert set(schema.tables) == {"app.author", "app.book", "app._covet_state"}
    assert {str(o) for o in schema.ignored} == {
        "view app.cheap_books", "function app.touch", "trigger app.book_touch on book",
        "sequence app.tickets",
        "unread schema (pass schemas=[...]) public",
    }  # fmt: skip
    level = t("enum", values=("low", "high"), enum_name="app.level")
    author = normalise_table(schema.table("author", "app"))
    assert author == normalise_table(Table(
        "author",
        (Column("author_id", t("integer"), nullable=False, autoincrement=True),
         Column("name", t("string", 100), nullable=False),
         Column("level", level, default="'low'"),
         Column("joined", t("timestamptz"), nullable=False, default="CURRENT_TIMESTAMP")),
        primary_key=("author_id",), schema="app",
        unique_constraints=(UniqueConstraint("author_name_key", ("name",)),),
    ))  # fmt: skip
    book = schema.table("book", "app")
    assert book.primary_key == ("id",) and book.primary_key_name == "book_pk"
    assert book.column("id").autoincrement and book.column("id").default is None
    assert book.column("isbn") == Column("isbn", t("char", 13), comment="ISBN-13")
    assert normalise_table(book).column("price").default == "0.00"
    assert book.foreign_keys == (
        ForeignKey("book_author_id_fkey", ("author_id",), "author", ("author_id",),
                   ref_schema="app", on_delete="RESTRICT"),
    )  # fmt: skip
    assert [c.expression for c in normalise_table(book).check_constraints] == ["length(title) > 0"]
    assert {i.name: (i.columns, i.where, i.expression) for i in book.indexes} == {
        "book_cheap": (("price",), "price < 10::numeric", None),
        "book_title_desc": ((), None, "author_id, title DESC"),
    }
    assert schema.enums == {"app.level": EnumType("level", ("low", "high"), "app")}
    # What was read renders back into another database's schema and reads the same.
    copy = [normalise_table(tb) for tb in (schema.table("author", "app"), book)]
    adapter = await connect(pg)
    try:
        await adapter.execute("CREATE SCHEMA app2")
        renamed = [tb.replace(schema="app2", foreign_keys=tuple(
            fk.__class__(**{**fk.__dict__, "ref_schema": "app2"}) for fk in tb.foreign_keys
        )) for tb in copy]  # fmt: skip
        moved = t("enum", values=("low", "high"), enum_name="app2.level")
        renamed[0] = renamed[0].replace(columns=tuple(
            c if c.name != "level" else Column("level", moved, default="'low'")
            for c in renamed[0].columns
        ))  # fmt: skip
        await apply(adapter, CreateEnum(EnumType("level", ("low", "high"), "app2")))
        await apply(adapter, *(CreateTable(tb) for tb in renamed))
        await apply(adapter, DropIndex("book", renamed[1].indexes[0], "app2"))
        again = await read(adapter, ["app2"])
    finally:
        await adapter.disconnect()
    assert normalise_table(again.table("author", "app2")) == renamed[0]
    assert normalise_table(again.table("book", "app2")) == renamed[1].replace(
        indexes=renamed[1].indexes[1:]
    )


async def _load_and_read(target: Any, statements: list[str]) -> Schema:
    adapter = await connect(target)
    try:
        for statement in statements:
            await adapter.execute(statement)
        return await read(adapter)
    finally:
        await adapter.disconnect()


async def _create_and_read(target: Any, tables: list[Table]) -> Schema:
    adapter = await connect(target)
    try:
        await apply(adapter, *(CreateTable(tb) for tb in foreign_key_order(tables)[0]))
        return await read(adapter)
    finally:
        await adapter.disconnect()


def test_chinook_reads_and_rebuilds(pg, tmp_path):
    # Synchronous: a second fresh database comes from conftest's (asyncio.run-based) recipe.
    schema = asyncio.run(_load_and_read(pg, chinook_ddl(DIALECT)))
    assert len(schema.tables) == 11
    track = schema.table("track")
    assert track.primary_key == ("track_id",) and track.primary_key_name == "track_pkey"
    assert {(fk.name, fk.columns, fk.ref_table, fk.on_delete) for fk in track.foreign_keys} == {
        ("track_album_id_fkey", ("album_id",), "album", None),
        ("track_genre_id_fkey", ("genre_id",), "genre", None),
        ("track_media_type_id_fkey", ("media_type_id",), "media_type", None),
    }
    assert schema.table("playlist_track").primary_key == ("playlist_id", "track_id")
    assert sum(len(tb.foreign_keys) for tb in schema.tables.values()) == 11
    assert sum(len(tb.indexes) for tb in schema.tables.values()) == 11
    assert schema.table("track").indexes[0] == Index("track_album_id_idx", ("album_id",))
    assert schema.table("invoice").column("total").type == t("decimal", precision=10, scale=2)
    assert schema.table("employee").column("birth_date").type == t("timestamp")

    with database_target("postgresql", tmp_path / "fresh") as fresh:
        again = asyncio.run(_create_and_read(fresh, list(schema.tables.values())))
    assert normalise(again).tables == normalise(schema).tables


# -- offline: the normaliser and renderer on their own ---------------------------------------


def test_expressions_keep_their_meaning():
    types = {"a": t("integer"), "s": t("string", 5)}

    def same(x: str, y: str) -> bool:
        return canonical(x, types, str) == canonical(y, types, str)

    assert same("(a > 0)", "a>0") and same("s::text = ANY (ARRAY['x'::text])", "s IN ('x')")
    assert same("NOT (a BETWEEN 1 AND 2)", "NOT (a >= 1 AND a <= 2)")
    assert not same("(a = 1 OR a = 2) AND a > 0", "a = 1 OR a = 2 AND a > 0")
    assert not same("a::date = '2020-01-01'", "a = '2020-01-01'")
    assert not same("a - (1 - 2)", "a - 1 - 2") and not same("a > 1", "a >= 1")
    assert same("s LIKE 'x%'", "s::text ~~ 'x%'::text") and not same("s LIKE 'x'", "s ILIKE 'x'")
    # Beyond the parser: compared as written, never folded into something else.
    assert canonical("EXTRACT(year FROM a)  = 1", types, str) == "EXTRACT(year FROM a) = 1"


def test_types_and_defaults_fold_to_one_spelling():
    assert portable_type("character varying(255)") == t("string", 255)
    assert portable_type("timestamp(3) with time zone") == t("timestamptz", precision=3)
    assert portable_type("bit varying(8)") == t("bit varying", 8)
    model = Table("x", (Column("id", t("serial"), default="nextval('x')"),
                        Column("flag", t("bool"), default="'t'"),
                        Column("n", t("numeric", precision=5), default="NULL")))  # fmt: skip
    out = normalise_table(model)
    assert out.columns == (
        Column("id", t("integer"), nullable=False, autoincrement=True),
        Column("flag", t("boolean"), default="true"),
        Column("n", t("decimal", precision=5, scale=0)),
    )
    assert normalise_table(out) == out


def test_rendering_specific_to_postgresql():
    index = Index("ix", ("a",))
    assert render(DropIndex("t", index, "app")) == ['DROP INDEX "app"."ix"']
    assert render(AddEnumValue(MOOD, "meh", before="ok")) == [
        "ALTER TYPE \"mood\" ADD VALUE 'meh' BEFORE 'ok'"
    ]
    change = AlterColumn("t", Column("a", t("string", 5)), Column("a", t("integer")))
    assert render(change) == ['ALTER TABLE "t" ALTER COLUMN "a" TYPE INTEGER USING "a"::INTEGER']
    assert render(AddColumn("t", Column("b", t("text"), comment="it's"))) == [
        'ALTER TABLE "t" ADD COLUMN "b" TEXT',
        "COMMENT ON COLUMN \"t\".\"b\" IS 'it''s'",
    ]
    with pytest.raises(ValueError, match="enum_name"):
        render(AddColumn("t", Column("m", t("enum", values=("a",)))))


async def test_key_columns_are_named_in_key_order_even_to_a_schema_not_read(pg):
    """Keys come as column numbers and are named from the columns read: a dropped column
    (numbers with a gap), keys in another order than the columns, and a foreign key to a
    table of a schema not read (named by the server) must all read by name, in key order."""
    adapter = await connect(pg)
    try:
        await adapter.execute("CREATE SCHEMA outside")
        await adapter.execute(
            "CREATE TABLE outside.ref (x int, y int, PRIMARY KEY (y, x));"
            "CREATE TABLE parent (gone int, a int, b int, c int);"
            "ALTER TABLE parent DROP COLUMN gone;"
            "ALTER TABLE parent ADD CONSTRAINT parent_pk PRIMARY KEY (c, a);"
            "ALTER TABLE parent ADD CONSTRAINT parent_ba UNIQUE (b, a);"
            "CREATE TABLE child (p int, q int, r int,"
            " CONSTRAINT to_parent FOREIGN KEY (r, p) REFERENCES parent (c, a),"
            " CONSTRAINT to_outside FOREIGN KEY (q, p) REFERENCES outside.ref (y, x))"
        )
        schema = await read(adapter)
    finally:
        await adapter.disconnect()
    parent, child = schema.table("parent"), schema.table("child")
    assert parent.primary_key == ("c", "a")
    assert [u.columns for u in parent.unique_constraints] == [("b", "a")]
    keys = {
        fk.name: (fk.columns, fk.ref_schema, fk.ref_table, fk.ref_columns)
        for fk in child.foreign_keys
    }
    assert keys == {
        "to_parent": (("r", "p"), None, "parent", ("c", "a")),
        "to_outside": (("q", "p"), "outside", "ref", ("y", "x")),
    }


class _Watching:
    """The real adapter, noting what the server says of the session at each catalog query."""

    def __init__(self, adapter: Any) -> None:
        self.adapter, self.seen = adapter, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.adapter, name)

    async def fetch_rows(self, sql: str, params: Any = None) -> Any:
        self.seen.append(
            await self.adapter.fetch_one(
                "SELECT current_setting('jit_above_cost') AS threshold,"
                " current_setting('transaction_isolation') AS isolation,"
                " current_setting('transaction_read_only') AS read_only, now() AS started"
            )
        )
        return await self.adapter.fetch_rows(sql, params)


async def test_a_read_is_one_read_only_snapshot_without_jit_and_leaves_the_session_as_it_was(pg):
    """The catalog queries run in one REPEATABLE READ, READ ONLY transaction with JIT off
    (compiling their subqueries cost ten times the query on analysed catalogs); the session's
    settings, and a caller's own open transaction, are as they were after the read."""
    adapter = await connect(pg)
    try:
        await adapter.execute("CREATE TABLE t (id int PRIMARY KEY)")
        await adapter.execute("SET jit = on")
        await adapter.execute("SET jit_above_cost = 5000")
        watching = _Watching(adapter)
        schema = await PostgreSQLSchemaReader(watching).read()
        assert schema.table("t").primary_key == ("id",)
        assert len(watching.seen) >= 6
        assert {(s["threshold"], s["isolation"], s["read_only"]) for s in watching.seen} == {
            ("-1", "repeatable read", "on")
        }
        assert len({s["started"] for s in watching.seen}) == 1  # one transaction
        assert not adapter.in_transaction
        assert await adapter.fetch_value("SELECT current_setting('jit')") == "on"
        assert await adapter.fetch_value("SELECT current_setting('jit_above_cost')") == "5000"

        # Inside the caller's transaction: its isolation and settings stay, and it goes on.
        async with adapter.transaction():
            await adapter.execute("SET LOCAL jit_above_cost = 7000")
            await adapter.execute("INSERT INTO t VALUES (1)")
            watching = _Watching(adapter)
            await PostgreSQLSchemaReader(watching).read()
            assert {(s["threshold"], s["isolation"]) for s in watching.seen} == {
                ("-1", "read committed")
            }
            assert adapter.in_transaction
            assert await adapter.fetch_value("SELECT current_setting('jit_above_cost')") == "7000"
            await adapter.execute("INSERT INTO t VALUES (2)")
        assert await adapter.fetch_value("SELECT count(*) FROM t") == 2

        # A read that fails in the caller's transaction raises its own error, and the
        # caller's transaction goes on (the read's savepoint, its setting with it, is undone).
        async with adapter.transaction():
            await adapter.execute("SET LOCAL jit_above_cost = 7000")
            await adapter.execute("SET LOCAL statement_timeout = 1")  # ms: the carried query
            with pytest.raises(DatabaseError, match="statement timeout"):
                await PostgreSQLSchemaReader(adapter).read()
            await adapter.execute("SET LOCAL statement_timeout = 0")
            assert await adapter.fetch_value("SELECT current_setting('jit_above_cost')") == "7000"
            await adapter.execute("INSERT INTO t VALUES (3)")
        assert await adapter.fetch_value("SELECT count(*) FROM t") == 3
    finally:
        await adapter.disconnect()
