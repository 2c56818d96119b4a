"""SQLite schema reader, normaliser and renderer against real database files: what is SQLite's
own (its type affinities, the table rebuild, hand-written DDL, Chinook). What every dialect must
do (each operation and its reverse, a constant number of catalog queries) is the conformance
suite's, run by tests/dialects/test_suite_sqlite.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import chinook_ddl, write_migration
from covet_dialect_sqlite import DIALECT
from covet_dialect_sqlite.adapter import SQLiteAdapter
from covet_dialect_sqlite.normalise import normalise, normalise_default, normalise_table
from covet_dialect_sqlite.render import render
from covet_dialect_sqlite.schema_reader import portable_type
from covet_dialect_sqlite.sqlcanon import canonical_expression

from covet.database.migrations import MigrationManager
from covet_core.errors import DatabaseError, IntegrityError
from covet_core.schema import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CheckConstraint,
    Column,
    ColumnType,
    CreateEnum,
    CreateTable,
    DropConstraint,
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
from covet_core.sqlsplit import SQLITE_RULES, split

T = ColumnType
PARENT = Table(
    "parent",
    (Column("id", T("integer"), nullable=False), Column("label", T("string", 40))),
    primary_key=("id",),
    primary_key_name="pk_parent",
)
RICH = Table(
    "rich",
    (
        Column("id", T("bigint"), nullable=False, autoincrement=True),
        Column("name", T("string", 120), nullable=False, default="'anon'"),
        Column("code", T("char", 3)),
        Column("body", T("text"), comment="free text"),
        Column("small", T("smallint"), default="0"),
        Column("big", T("bigint")),
        Column("price", T("decimal", precision=10, scale=2), default="'0'"),
        Column("ratio", T("float")),
        Column("single", T("real")),
        Column("active", T("boolean"), nullable=False, default="true"),
        Column("born", T("date")),
        Column("at", T("time")),
        Column("created", T("timestamp"), nullable=False, default="CURRENT_TIMESTAMP"),
        Column("created_tz", T("timestamptz"), default="datetime('now')"),
        Column("doc", T("json")),
        Column("docb", T("jsonb")),
        Column("token", T("uuid")),
        Column("raw", T("binary")),
        Column("mood", T("enum", values=("happy", "sad"))),
        Column("parent_id", T("integer")),
    ),
    primary_key=("id",),
    primary_key_name="pk_rich",
    comment="everything",
    indexes=(
        Index("ix_rich_name_code", ("name", "code")),
        Index("ix_rich_created_active", ("created",), where="active = 1 AND price > 0"),
        Index("ix_rich_lower_name", (), expression="lower(name)"),
        Index("uix_rich_token", ("token",), unique=True),
    ),
    unique_constraints=(UniqueConstraint("uq_rich_name_code", ("name", "code")),),
    check_constraints=(CheckConstraint("ck_rich_price", "price >= 0 AND small < 100"),),
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


def run(coro_fn: Callable[[SQLiteAdapter], Awaitable[None]], path: Path, **kw: Any) -> None:
    async def go() -> None:
        adapter = SQLiteAdapter(str(path), **kw)
        await adapter.connect()
        try:
            await coro_fn(adapter)
        finally:
            await adapter.disconnect()

    asyncio.run(go())


async def apply(adapter: SQLiteAdapter, *ops: Operation) -> None:
    async with adapter.transaction():
        for op in ops:
            for sql in render(op) or []:
                await adapter.execute(sql)


async def read(adapter: Any) -> Schema:
    return await SchemaReader(adapter, "sqlite").read_schema()


def assert_same(got: Table, want: Table) -> None:
    got, want = normalise_table(got), normalise_table(want)
    for field in ("columns", "primary_key", "indexes", "unique_constraints"):
        assert getattr(got, field) == getattr(want, field), field
    assert got.check_constraints == want.check_constraints
    assert got.foreign_keys == want.foreign_keys
    assert got == want


def test_rich_table_round_trips_and_reads_what_it_should(tmp_path: Path) -> None:
    async def go(adapter: SQLiteAdapter) -> None:
        await apply(adapter, CreateTable(PARENT), CreateTable(RICH))
        schema = await read(adapter)
        assert set(schema.tables) == {"parent", "rich"}
        for table in (PARENT, RICH):
            assert_same(schema.table(table.name), table)
        rich = schema.table("rich")
        # spot checks on the raw read, before any normalising
        assert rich.column("id").autoincrement and rich.column("id").type == T("integer")
        assert not rich.column("id").nullable
        assert rich.column("name").type == T("string", 120)
        assert rich.column("name").default == "'anon'"
        assert rich.column("code").type == T("char", 3)
        assert rich.column("price").type == T("decimal", precision=10, scale=2)
        assert rich.column("ratio").type == T("float") and rich.column("single").type == T("real")
        assert rich.column("created").type == T("timestamp")
        assert rich.column("created").default == "CURRENT_TIMESTAMP"
        assert rich.column("created_tz").type == T("timestamptz")
        assert rich.column("created_tz").default == "datetime('now')"
        assert rich.column("mood").type == T("string", 5)
        assert rich.column("raw").type == T("binary")
        assert rich.primary_key == ("id",) and rich.primary_key_name == "pk_rich"
        fk = rich.foreign_keys[0]
        assert (fk.name, fk.on_delete, fk.on_update) == (
            "fk_rich_parent_id_parent",
            "CASCADE",
            "SET NULL",
        )
        indexes = {i.name: i for i in rich.indexes}
        assert set(indexes) == {
            "ix_rich_name_code", "ix_rich_created_active", "ix_rich_lower_name", "uix_rich_token"
        }  # fmt: skip
        assert indexes["ix_rich_created_active"].where == "active = 1 AND price > 0"
        assert indexes["ix_rich_lower_name"].expression == "lower(name)"
        assert indexes["ix_rich_lower_name"].columns == ()
        assert indexes["uix_rich_token"].unique and not indexes["ix_rich_name_code"].unique
        assert rich.unique_constraints == (UniqueConstraint("uq_rich_name_code", ("name", "code")),)
        assert rich.check_constraints == (
            CheckConstraint("ck_rich_price", "price >= 0 AND small < 100"),
        )
        # the declared types keep their storage meaning: the autoincrement key counts
        await adapter.execute("INSERT INTO parent (id) VALUES (1)")
        await adapter.execute("INSERT INTO rich (name, parent_id) VALUES ('a', 1)")
        row = await adapter.fetch_one("SELECT id, active, price, created FROM rich")
        assert row is not None and row["id"] == 1 and row["active"] == 1 and row["price"] == 0
        assert isinstance(row["created"], str) and row["created"][:2] == "20"
        # idempotent, and the whole schema normalises table by table
        once = normalise(schema)
        assert normalise(once).tables == once.tables

    run(go, tmp_path / "rich.db")


def _with_rows() -> Table:
    return Table(
        "items",
        (
            Column("id", T("integer"), nullable=False),
            Column("name", T("string", 50), nullable=False),
            Column("qty", T("integer"), nullable=False, default="0"),
        ),
        primary_key=("id",),
        indexes=(Index("ix_items_name", ("name",)),),
    )


def test_rebuild_operations_and_their_reverse_on_a_table_with_rows(tmp_path: Path) -> None:
    # The operations every dialect runs in place are the conformance suite's
    # (tests/dialects/test_suite_sqlite.py); what SQLite does by rebuilding the table is here.
    items = _with_rows()
    check = CheckConstraint("ck_items_qty", "qty >= 0")
    checked = items.replace(check_constraints=(check,))
    widened = items.replace(columns=(items.columns[0], Column("name", T("text")), items.columns[2]))
    same = (("id", "id"), ("name", "name"), ("qty", "qty"))
    cases: list[tuple[Operation, Table]] = [
        (RebuildTable(items, checked, same, (AddConstraint("items", check),)), checked),
        (
            RebuildTable(
                items, widened, same, (AlterColumn("items", items.columns[1], widened.columns[1]),)
            ),
            widened,
        ),
    ]
    for n, (op, after) in enumerate(cases):

        async def go(adapter: SQLiteAdapter, op: Operation = op, after: Table = after) -> None:
            await apply(adapter, CreateTable(items))
            await adapter.executemany(
                "INSERT INTO items (id, name, qty) VALUES (?, ?, ?)",
                [(i, f"n{i}", i) for i in range(1, 51)],
            )
            await apply(adapter, op)
            assert_same((await read(adapter)).table("items"), after)
            assert await adapter.fetch_value("SELECT count(*) FROM items") == 50
            await apply(adapter, op.reverse())
            assert_same((await read(adapter)).table("items"), items)
            assert await adapter.fetch_value("SELECT count(*) FROM items") == 50

        run(go, tmp_path / f"op{n}.db")


def test_what_sqlite_cannot_alter_in_place_is_refused_not_half_done() -> None:
    items = _with_rows()
    col = items.columns[1]
    with pytest.raises(ValueError, match="RebuildTable"):
        render(AlterColumn("items", col, Column("name", T("text"))))
    with pytest.raises(ValueError, match="RebuildTable"):
        render(AddConstraint("items", CheckConstraint("ck", "qty > 0")))
    with pytest.raises(ValueError, match="RebuildTable"):
        render(DropConstraint("items", UniqueConstraint("uq", ("name",))))
    with pytest.raises(ValueError, match="non-constant"):
        render(AddColumn("items", Column("at", T("timestamp"), default="CURRENT_TIMESTAMP")))
    with pytest.raises(ValueError, match="primary-key"):
        render(
            CreateTable(
                items.replace(
                    columns=(Column("id", T("integer"), autoincrement=True),), primary_key=()
                )
            )
        )
    # no enum types: the labels live in the VARCHAR columns
    assert render(CreateEnum(EnumType("mood", ("a", "b")))) == []


HAND_WRITTEN = """
CREATE TABLE [Artist] (
    [ArtistId] INTEGER NOT NULL,
    `Name` NVARCHAR(120),
    CONSTRAINT [PK_Artist] PRIMARY KEY ([ArtistId])
);
CREATE TABLE "album" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title varchar ( 160 ) NOT NULL CONSTRAINT title_not_blank CHECK (length(title) > 0),
    artist_id int CONSTRAINT fk_album_artist REFERENCES Artist ON DELETE SET NULL,
    price DECIMAL(5,2) DEFAULT (0.99),
    released DATETIME DEFAULT CURRENT_TIMESTAMP,
    slug TEXT UNIQUE,
    weird "odd, type" ,
    total INTEGER GENERATED ALWAYS AS (price * 2) VIRTUAL,
    CHECK (price >= 0 AND title <> 'x, y (z)'),
    CONSTRAINT uq_album_title_artist UNIQUE (title, artist_id)
);
CREATE INDEX album_cheap ON album (price) WHERE price < 1;
CREATE UNIQUE INDEX album_lower ON album (lower(title), artist_id);
CREATE VIEW v_album AS SELECT id, title FROM album;
CREATE TRIGGER album_touch AFTER UPDATE ON album BEGIN SELECT 1; END;
"""


def test_hand_written_ddl_reads_as_the_model_it_means(tmp_path: Path) -> None:
    async def go(adapter: SQLiteAdapter) -> None:
        for sql in split(HAND_WRITTEN, SQLITE_RULES):
            await adapter.execute(sql.text)
        schema = await read(adapter)
        assert set(schema.tables) == {"Artist", "album"}
        assert {(o.kind, o.name) for o in schema.ignored} == {
            ("view", "v_album"), ("trigger", "album_touch"),
        }  # fmt: skip
        artist = schema.table("Artist")
        assert artist.primary_key == ("ArtistId",) and artist.primary_key_name == "PK_Artist"
        assert artist.column("Name").type == T("string", 120)
        album = schema.table("album")
        assert [c.name for c in album.columns] == [
            "id", "title", "artist_id", "price", "released", "slug", "weird", "total"
        ]  # fmt: skip
        # Generated columns are modelled since issue 14 (they were only named before).
        assert album.column("total").generated == "price * 2"
        assert not album.column("total").stored
        assert album.column("id").autoincrement and not album.column("id").nullable
        assert album.column("title").type == T("string", 160)
        assert album.column("artist_id").type == T("integer")
        assert album.column("price").type == T("decimal", precision=5, scale=2)
        assert album.column("price").default == "0.99"
        assert album.column("released").type == T("timestamp")
        assert album.column("weird").type == T("odd, type")
        assert album.check_constraints == (
            CheckConstraint("title_not_blank", "length(title) > 0"),
            CheckConstraint(None, "price >= 0 AND title <> 'x, y (z)'"),
        )
        assert album.foreign_keys == (
            ForeignKey(
                "fk_album_artist", ("artist_id",), "Artist", ("ArtistId",), on_delete="SET NULL"
            ),
        )
        assert sorted(album.unique_constraints, key=lambda u: u.columns) == [
            UniqueConstraint(None, ("slug",)),
            UniqueConstraint("uq_album_title_artist", ("title", "artist_id")),
        ]
        indexes = {i.name: i for i in album.indexes}
        assert set(indexes) == {"album_cheap", "album_lower"}  # no sqlite_autoindex_*
        assert indexes["album_cheap"] == Index("album_cheap", ("price",), where="price < 1")
        assert indexes["album_lower"] == Index(
            "album_lower", (), unique=True, expression="lower(title), artist_id"
        )

    run(go, tmp_path / "hand.db")


def test_chinook_reads_and_rebuilds_in_a_fresh_database(tmp_path: Path) -> None:
    ddl = chinook_ddl(DIALECT)
    found: dict[str, Schema] = {}

    async def load(adapter: SQLiteAdapter) -> None:
        for sql in ddl:
            await adapter.execute(sql)
        found["original"] = await read(adapter)

    run(load, tmp_path / "chinook.db")
    original = found["original"]
    assert set(original.tables) == {
        "Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine",
        "MediaType", "Playlist", "PlaylistTrack", "Track",
    }  # fmt: skip
    track = original.table("Track")
    assert track.primary_key == ("TrackId",) and track.primary_key_name == "PK_Track"
    assert track.column("Name").type == T("string", 200)
    assert track.column("UnitPrice").type == T("decimal", precision=10, scale=2)
    assert {(f.columns, f.ref_table, f.ref_columns) for f in track.foreign_keys} == {
        (("AlbumId",), "Album", ("AlbumId",)),
        (("GenreId",), "Genre", ("GenreId",)),
        (("MediaTypeId",), "MediaType", ("MediaTypeId",)),
    }
    assert {i.name for i in track.indexes} == {
        "IFK_TrackAlbumId",
        "IFK_TrackGenreId",
        "IFK_TrackMediaTypeId",
    }
    assert original.table("PlaylistTrack").primary_key == ("PlaylistId", "TrackId")
    assert original.table("Employee").foreign_keys[0].ref_table == "Employee"
    assert sum(len(t.indexes) for t in original.tables.values()) == 11
    assert sum(len(t.foreign_keys) for t in original.tables.values()) == 11

    ordered, _ = foreign_key_order(list(original.tables.values()))

    async def rebuild(adapter: SQLiteAdapter) -> None:
        await apply(adapter, *(CreateTable(t) for t in ordered))
        found["copy"] = await read(adapter)

    run(rebuild, tmp_path / "fresh.db")
    assert normalise(found["copy"]).tables == normalise(original).tables


# -- the rebuild under the migration manager ---------------------------------------------------

ARTISTS = Table(
    "artists",
    (Column("id", T("integer"), nullable=False), Column("name", T("string", 80), nullable=False)),
    primary_key=("id",),
)
ALBUMS = Table(
    "albums",
    (
        Column("id", T("integer"), nullable=False, autoincrement=True),
        Column("title", T("string", 100), nullable=False),
        Column("artist_id", T("integer"), nullable=False),
        Column("price", T("decimal", precision=6, scale=2), nullable=False, default="1"),
        Column("legacy", T("integer")),
    ),
    primary_key=("id",),
    indexes=(
        Index("ix_albums_title", ("title",)),
        Index("ix_albums_cheap", ("price",), where="price < 1"),
    ),
    unique_constraints=(UniqueConstraint("uq_albums_title_artist", ("title", "artist_id")),),
    foreign_keys=(ForeignKey("fk_albums_artist_id_artists", ("artist_id",), "artists", ("id",)),),
)
TRACKS = Table(
    "tracks",
    (
        Column("id", T("integer"), nullable=False),
        Column("album_id", T("integer"), nullable=False),
    ),
    primary_key=("id",),
    foreign_keys=(ForeignKey("fk_tracks_album_id_albums", ("album_id",), "albums", ("id",)),),
)
ALBUMS_AFTER = ALBUMS.replace(
    columns=(
        ALBUMS.columns[0],
        Column("name", T("text"), nullable=False),  # renamed and widened
        ALBUMS.columns[2],
        Column("price", T("decimal", precision=8, scale=2), nullable=False, default="2"),
        Column("rating", T("smallint"), nullable=False, default="3"),
    ),
    indexes=(
        Index("ix_albums_name", ("name",)),
        Index("ix_albums_cheap", ("price",), where="price < 1"),
    ),
    unique_constraints=(UniqueConstraint("uq_albums_name_artist", ("name", "artist_id")),),
    check_constraints=(CheckConstraint("ck_albums_price", "price >= 0"),),
)
ALBUMS_REBUILD = RebuildTable(
    ALBUMS,
    ALBUMS_AFTER,
    (("id", "id"), ("name", "title"), ("artist_id", "artist_id"), ("price", "price")),
)


async def _seed(adapter: SQLiteAdapter, albums: int = 300) -> None:
    await apply(adapter, CreateTable(ARTISTS), CreateTable(ALBUMS), CreateTable(TRACKS))
    await adapter.executemany(
        "INSERT INTO artists (id, name) VALUES (?, ?)", [(i, f"artist {i}") for i in range(1, 31)]
    )
    await adapter.executemany(
        "INSERT INTO albums (title, artist_id, price, legacy) VALUES (?, ?, ?, ?)",
        [(f"album {i}", i % 30 + 1, (i % 7) / 2, i) for i in range(1, albums + 1)],
    )
    # deleted ids stay used: AUTOINCREMENT must not hand out 300 again after the rebuild
    await adapter.execute("DELETE FROM albums WHERE id = ?", (albums,))
    await adapter.executemany(
        "INSERT INTO tracks (id, album_id) VALUES (?, ?)",
        [(i, i % (albums - 1) + 1) for i in range(1, 601)],
    )


def _migration(migrations_dir: Path, op: Operation) -> None:
    forward = render(op) or []
    backward = render(op.reverse()) or []
    write_migration(migrations_dir, "2024_01_01_000000_rebuild_albums", forward, backward)


async def _fk_enforced(path: Path) -> None:
    """A fresh connection with enforcement on: the key from albums and the key into it hold."""
    other = SQLiteAdapter(str(path), foreign_keys=True)
    await other.connect()
    try:
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            await other.execute("INSERT INTO albums (name, artist_id) VALUES ('n', 999)")
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            await other.execute("INSERT INTO tracks (id, album_id) VALUES (9999, 999999)")
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            await other.execute("DELETE FROM albums WHERE id = 1")
    finally:
        await other.disconnect()


@pytest.mark.parametrize("foreign_keys", [False, True])
def test_rebuild_keeps_rows_indexes_and_foreign_keys_through_up_and_down(
    tmp_path: Path, migrations_dir: Path, foreign_keys: bool
) -> None:
    db = tmp_path / "music.db"
    _migration(migrations_dir, ALBUMS_REBUILD)

    async def go(adapter: SQLiteAdapter) -> None:
        await _seed(adapter)
        before_rows = await adapter.fetch_all(
            "SELECT id, title, artist_id, price FROM albums ORDER BY id"
        )
        manager = MigrationManager(adapter, "sqlite", migrations_dir)
        result = await manager.migrate_up()
        assert result["success"], result["error"]

        schema = await read(adapter)
        assert_same(schema.table("albums"), ALBUMS_AFTER)
        assert_same(schema.table("tracks"), TRACKS)  # the child's key still names albums
        after_rows = await adapter.fetch_all(
            "SELECT id, name AS title, artist_id, price FROM albums ORDER BY id"
        )
        assert after_rows == before_rows and len(after_rows) == 299
        assert await adapter.fetch_value("SELECT count(DISTINCT rating) FROM albums") == 1
        await adapter.execute("INSERT INTO albums (name, artist_id) VALUES ('new', 1)")
        assert await adapter.fetch_value("SELECT max(id) FROM albums") == 301
        await adapter.execute("DELETE FROM albums WHERE id = 301")
        with pytest.raises(Exception, match="CHECK"):
            await adapter.execute("INSERT INTO albums (name, artist_id, price) VALUES ('x', 1, -1)")
        indexes = await adapter.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'albums' ORDER BY name"
        )
        assert [r["name"] for r in indexes] == [
            "ix_albums_cheap", "ix_albums_name", "sqlite_autoindex_albums_1"
        ]  # fmt: skip
        await _fk_enforced(db)

        down = await manager.migrate_down()
        assert down["success"], down["error"]
        schema = await read(adapter)
        assert_same(schema.table("albums"), ALBUMS.replace(columns=ALBUMS.columns))
        rows = await adapter.fetch_all("SELECT id, title, artist_id, price FROM albums ORDER BY id")
        assert rows == before_rows
        assert await adapter.fetch_value("SELECT count(*) FROM tracks") == 600

    run(go, db, foreign_keys=foreign_keys)


def test_rebuild_refuses_what_would_lose_data_and_leaves_everything_as_it_was(
    tmp_path: Path,
) -> None:
    cascading = TRACKS.replace(foreign_keys=(replace(TRACKS.foreign_keys[0], on_delete="CASCADE"),))

    async def go(adapter: SQLiteAdapter) -> None:
        await apply(adapter, CreateTable(ARTISTS), CreateTable(ALBUMS), CreateTable(cascading))
        await adapter.execute("INSERT INTO artists (id, name) VALUES (1, 'a')")
        await adapter.execute("INSERT INTO albums (id, title, artist_id) VALUES (1, 't', 1)")
        await adapter.execute("INSERT INTO tracks (id, album_id) VALUES (1, 1)")
        # enforcement on: DROP TABLE would cascade into tracks, so the rebuild refuses
        with pytest.raises(DatabaseError, match="ON DELETE actions that rebuilding it would fire"):
            await apply(adapter, ALBUMS_REBUILD)
        assert await adapter.fetch_value("SELECT count(*) FROM tracks") == 1
        assert_same((await read(adapter)).table("albums"), ALBUMS)
        # a trigger on the table would vanish with it: refused too, and named
        await adapter.execute(
            "CREATE TRIGGER albums_touch AFTER UPDATE ON albums BEGIN SELECT 1; END"
        )
        await adapter.execute("PRAGMA foreign_keys = OFF")
        with pytest.raises(DatabaseError, match="albums has triggers"):
            await apply(adapter, ALBUMS_REBUILD)
        assert (
            await adapter.fetch_value(
                "SELECT count(*) FROM sqlite_master WHERE name = 'albums_touch'"
            )
            == 1
        )
        # enforcement on and a broken reference: foreign_key_check fails the step
        await adapter.execute("DROP TRIGGER albums_touch")
        await adapter.execute("DROP TABLE tracks")
        await adapter.execute("INSERT INTO albums (id, title, artist_id) VALUES (2, 'u', 77)")
        await adapter.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(DatabaseError, match="broke foreign keys"):
            await apply(adapter, ALBUMS_REBUILD)
        assert await adapter.fetch_value("SELECT count(*) FROM albums") == 2

    run(go, tmp_path / "guard.db", foreign_keys=True)


def test_normaliser_folds_what_sqlite_cannot_tell_apart_and_nothing_else() -> None:
    integer, text, boolean = T("integer"), T("text"), T("boolean")
    assert normalise_default("('0')", integer) == normalise_default("0", integer) == "0"
    assert normalise_default("0", text) == normalise_default("'0'", text) == "'0'"
    assert normalise_default("'abc'", text) != normalise_default("'ABC'", text)
    assert normalise_default("TRUE", boolean) == normalise_default("1", boolean) == "1"
    assert normalise_default("'true'", boolean) == "'true'"  # a string, not a boolean
    assert normalise_default("now()", T("timestamp")) == "CURRENT_TIMESTAMP"
    assert normalise_default("(datetime('now'))", T("timestamp")) == "CURRENT_TIMESTAMP"
    assert normalise_default("NULL", text) is None
    assert canonical_expression('("Price"  >= 0) ') == canonical_expression("price>=0")
    assert canonical_expression("a > 1") != canonical_expression("a >= 1")
    assert canonical_expression("name = 'X'") != canonical_expression("name = 'x'")
    assert canonical_expression('"order" = 1') != canonical_expression("1 = 1")
    assert canonical_expression("x == -1") == "x = -1"
    assert portable_type("NVARCHAR(160)") == T("string", 160)
    assert portable_type("numeric(10, 2)") == T("decimal", precision=10, scale=2)
    assert portable_type("TIMESTAMP WITH TIME ZONE") == T("timestamptz")
    assert portable_type("MEDIUMTEXT") == T("mediumtext")
    assert portable_type("INT UNSIGNED") == T("integer", unsigned=True)
    auto = Table("t", (Column("id", T("bigint"), autoincrement=True),), primary_key=("id",))
    folded = normalise_table(auto)
    assert folded.columns[0] == Column("id", T("integer"), nullable=False, autoincrement=True)
    assert normalise_table(folded) == folded
