"""PostgreSQL table inheritance (INHERITS): a child is read with every column it has, but a
copy declares only what the child declares itself, after its parents, so the database's own
account (pg_dump -s) of the copy equals the original's; a change to a parent's column is one
ALTER of the parent, never repeated on the children it reaches (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import database_target
from schema_oracle import copying, differing, oracle_of, up_down_up

from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.operations import AddColumn
from covet_core.schema.reader import SchemaReader

FAMILY = [
    # A parent created after a child would sort first by name: only INHERITS orders them.
    "CREATE TABLE zz_parent (p integer)",
    "CREATE TABLE aa_child (x integer) INHERITS (zz_parent)",
    "CREATE TABLE item (id serial PRIMARY KEY, name text NOT NULL, note text, "
    "CONSTRAINT named CHECK (length(name) > 0))",
    "CREATE TABLE tagged (tag text)",
    # The child repeats `name` with a default of its own: a merged, local column.
    "CREATE TABLE book (isbn text NOT NULL, name text DEFAULT 'untitled', "
    "CONSTRAINT isbn_len CHECK (length(isbn) = 13)) INHERITS (item)",
    "CREATE UNIQUE INDEX book_isbn ON book (isbn)",
    "ALTER TABLE book ADD PRIMARY KEY (id)",
    # Nothing of its own but a parent's, and two parents.
    "CREATE TABLE ebook () INHERITS (book)",
    "CREATE TABLE tagged_item (weight integer) INHERITS (item, tagged)",
]


def test_an_inheritance_tree_copies_exactly(tmp_path: Path) -> None:
    async def go(source, other) -> None:  # type: ignore[no-untyped-def]
        async with copying(source, FAMILY, other) as made:
            assert made.diff.unmanaged == [], made.diff.unmanaged
            assert not [i for i in made.original.ignored if "INHERITS" in i.kind]
            expected = await oracle_of(source, made.source)
            await up_down_up(made.diff, other, made.copy, tmp_path / "m", expected)
            reproduced = await SchemaReader(made.copy, other.dialect).read_schema()
            again = SchemaComparator(source.dialect).compare(reproduced, made.original)
            assert again.operations == [] and again.warnings == []

    with (
        database_target("postgresql", tmp_path / "a") as source,
        database_target("postgresql", tmp_path / "b") as other,
    ):
        asyncio.run(go(source, other))


def test_a_parent_change_is_made_once_on_the_parent(tmp_path: Path) -> None:
    before = FAMILY
    after = [*FAMILY, "ALTER TABLE item ADD COLUMN born date",
             "ALTER TABLE item ADD CONSTRAINT born_past CHECK (born < '2100-01-01')"]  # fmt: skip

    async def go(old, new) -> None:  # type: ignore[no-untyped-def]
        async with differing(old, before, new, after) as made:
            diff = made.diff
            touched = {getattr(op, "table", None) for op in diff.operations}
            # Not repeated on book, ebook, tagged_item: the parent's ALTER reaches them.
            assert touched == {"item"}, diff.operations
            assert [op.column.name for op in diff.operations if isinstance(op, AddColumn)] == [
                "born"
            ]
            expected = await oracle_of(new, made.new)
            unchanged = await oracle_of(old, made.old)
            await up_down_up(diff, old, made.old, tmp_path / "m", expected, before=unchanged)

    with (
        database_target("postgresql", tmp_path / "a") as old,
        database_target("postgresql", tmp_path / "b") as new,
    ):
        asyncio.run(go(old, new))


def test_parents_and_options_changed_between_databases_are_warned_not_ignored(
    tmp_path: Path,
) -> None:
    """covet does not ALTER a table's INHERITS, UNLOGGED or storage parameters: between two
    databases a difference in them is a warning, never silence; against models (which say
    none of them) nothing is claimed."""
    from covet_core.models import Column, Integer, Model, ModelSchemaReader

    class Plain(Model):
        __tablename__ = "plain"
        id = Column(Integer)

    before = [
        "CREATE TABLE base (x integer)",
        "CREATE TABLE plain (id integer)",
        "CREATE TABLE only_opts (id integer)",
        "CREATE TABLE dk (id integer, CONSTRAINT dk_id UNIQUE (id))",
    ]
    after = [
        "CREATE UNLOGGED TABLE only_opts (id integer)",
        "CREATE TABLE dk (id integer, CONSTRAINT dk_id UNIQUE (id) DEFERRABLE)",
        "CREATE TABLE base (x integer)",
        "CREATE UNLOGGED TABLE plain (id integer) INHERITS (base) WITH (fillfactor = 60)",
    ]

    async def go(old, new) -> None:  # type: ignore[no-untyped-def]
        async with differing(old, before, new, after) as made:
            current, target, warnings = made.current, made.target, made.diff.warnings
            assert any("plain is to inherit from base" in w for w in warnings), warnings
            assert any("options of plain" in w and "UNLOGGED" in w for w in warnings), warnings
            # Equal in every compared field, different only in options: still said.
            assert any("options of only_opts" in w for w in warnings), warnings
            assert any("deferral of the key dk_id of dk" in w for w in warnings), warnings
            back = SchemaComparator(old.dialect).compare(target, current).warnings
            assert any("inherit from nothing" in w for w in back), back
            models = ModelSchemaReader([Plain]).read_schema()
            quiet = SchemaComparator(old.dialect).compare(target, models).warnings
            assert not [w for w in quiet if "plain" in w and ("inherit" in w or "options" in w)]

    with (
        database_target("postgresql", tmp_path / "a") as old,
        database_target("postgresql", tmp_path / "b") as new,
    ):
        asyncio.run(go(old, new))
