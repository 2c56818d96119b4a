"""The comparator and the models, offline: what operations a difference produces, in what order,
and which pairs are renames. (Round trips through real databases: test_schema_roundtrip.py.)"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest

from covet_core.errors import ConfigError
from covet_core.models import (
    BigInteger,
    Boolean,
    Check,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Model,
    ModelSchemaReader,
    String,
    Text,
    Unique,
)
from covet_core.schema import (
    AddColumn,
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    IgnoredObject,
    RenameColumn,
    RenameTable,
    Schema,
)
from covet_core.schema import Index as SchemaIndex
from covet_core.schema.comparator import SchemaComparator


class User(Model):
    __tablename__ = "users"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    user_name = Column(String(50), nullable=False, unique=True)
    email = Column(String(255), nullable=False, index=True)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, server_default="CURRENT_TIMESTAMP")
    __checks__ = [Check("length(user_name) > 2", name="name_long_enough")]


class Post(Model):
    __tablename__ = "posts"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    author_id = Column(BigInteger, ForeignKey("users.id", on_delete="cascade"), nullable=False)
    title = Column(String(200), nullable=False)
    body = Column(Text)
    __indexes__ = [Index("author_id", "title")]


class Comment(Model):
    __tablename__ = "comments"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    post_id = Column(BigInteger, ForeignKey("posts.id"))
    body = Column(Text, nullable=False)
    __unique__ = [Unique("post_id", "id")]


def models(*classes: type[Model]) -> Schema:
    return ModelSchemaReader(list(classes)).read_schema()


def compare(current: Schema, target: Schema, **kwargs: object) -> list:
    return SchemaComparator(**kwargs).compare(current, target).operations  # type: ignore[arg-type]


def with_columns(schema: Schema, table: str, **renames: str) -> Schema:
    """``schema`` with columns of ``table`` renamed (``new=old``): the database before a rename."""
    t = schema.tables[table]
    old_names = {new: old for new, old in renames.items()}
    cols = tuple(dataclasses.replace(c, name=old_names.get(c.name, c.name)) for c in t.columns)

    def names(items: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(old_names.get(n, n) for n in items)

    t = dataclasses.replace(
        t,
        columns=cols,
        indexes=tuple(dataclasses.replace(i, columns=names(i.columns)) for i in t.indexes),
        unique_constraints=tuple(
            dataclasses.replace(u, columns=names(u.columns)) for u in t.unique_constraints
        ),
    )
    return Schema(tables={**schema.tables, table: t}, enums=dict(schema.enums))


def test_models_read_into_the_schema_model_with_deterministic_names() -> None:
    users = models(User).table("users")
    assert [c.name for c in users.columns] == ["id", "user_name", "email", "active", "created_at"]
    assert users.primary_key == ("id",) and users.primary_key_name == "pk_users"
    assert users.column("id").autoincrement and not users.column("id").nullable
    assert users.column("active").default == "TRUE"
    assert users.column("created_at").default == "CURRENT_TIMESTAMP"
    assert [u.name for u in users.unique_constraints] == ["uq_users_user_name"]
    assert [i.name for i in users.indexes] == ["ix_users_email"]
    assert users.check_constraints[0].name == "ck_users_name_long_enough"
    fk = models(Post).table("posts").foreign_keys[0]
    assert (fk.name, fk.ref_table, fk.ref_columns, fk.on_delete) == (
        "fk_posts_author_id_users",
        "users",
        ("id",),
        "CASCADE",
    )


def test_a_module_of_models_contributes_its_own_models_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop_models.py").write_text(
        "from covet_core.models import Model, Column, Integer\n"
        "from tests.test_schema_diff import User  # imported, not defined here: not collected\n"
        "class Tag(Model):\n    id = Column(Integer, primary_key=True)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("shop_models")
    schema = ModelSchemaReader([module]).read_schema()
    assert list(schema.tables) == ["tag"]


def test_bad_models_are_one_line_errors() -> None:
    class Broken(Model):
        id = Column(Integer, primary_key=True)
        __indexes__ = [Index("nope")]

    with pytest.raises(ConfigError, match="no column 'nope'"):
        models(Broken)
    with pytest.raises(ConfigError, match="not both"):
        Column(Integer, default=1, server_default="2")
    with pytest.raises(ConfigError, match=r"table\.column"):

        class BadRef(Model):
            id = Column(Integer, ForeignKey("nowhere"), primary_key=True)

        models(BadRef)


def test_an_unchanged_schema_has_no_changes() -> None:
    schema = models(User, Post, Comment)
    diff = SchemaComparator().compare(schema, models(User, Post, Comment))
    assert not diff.has_changes() and diff.operations == []


def test_new_tables_are_created_in_foreign_key_order_and_dropped_in_reverse() -> None:
    ops = compare(Schema(), models(Comment, Post, User))
    assert [op.table.name for op in ops] == ["users", "posts", "comments"]
    assert all(isinstance(op, CreateTable) for op in ops)
    back = compare(models(Comment, Post, User), Schema())
    assert [(type(op), op.name) for op in back] == [
        (DropTable, "comments"),
        (DropTable, "posts"),
        (DropTable, "users"),
    ]
    assert all(op.destructive and op.table is not None for op in back)


def test_a_foreign_key_cycle_is_closed_after_both_tables_exist() -> None:
    class A(Model):
        __tablename__ = "a"
        id = Column(Integer, primary_key=True)
        b_id = Column(Integer, ForeignKey("b.id"))

    class B(Model):
        __tablename__ = "b"
        id = Column(Integer, primary_key=True)
        a_id = Column(Integer, ForeignKey("a.id"))

    ops = compare(Schema(), models(A, B))
    kinds = [type(op).__name__ for op in ops]
    assert kinds == ["CreateTable", "CreateTable", "AddConstraint"]
    created = {ops[0].table.name: ops[0].table, ops[1].table.name: ops[1].table}
    late = ops[2]
    assert late.constraint not in created[late.table].foreign_keys


def test_column_changes_become_add_alter_drop() -> None:
    class UserV2(Model):
        __tablename__ = "users"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        user_name = Column(String(80), nullable=False, unique=True)  # wider
        email = Column(String(255), nullable=True, index=True)  # NULL allowed
        active = Column(Boolean, nullable=False, default=True)
        created_at = Column(DateTime, server_default="CURRENT_TIMESTAMP")
        bio = Column(Text)  # new
        __checks__ = [Check("length(user_name) > 2", name="name_long_enough")]

    old = models(User)
    new = models(UserV2)
    # a column that only the database has, unrelated in type to anything added
    users = old.tables["users"]
    legacy = dataclasses.replace(users.column("id"), name="legacy_counter", autoincrement=False)
    old.tables["users"] = dataclasses.replace(users, columns=(*users.columns, legacy))
    ops = compare(old, new)
    assert [type(op) for op in ops] == [AddColumn, AlterColumn, AlterColumn, DropColumn]
    add, widen, nullable, drop = ops
    assert add.column.name == "bio"
    assert widen.type_changed and widen.destructive and widen.after.type.length == 80
    assert nullable.nullable_changed and not nullable.type_changed and not nullable.destructive
    assert drop.column.name == "legacy_counter" and drop.destructive


def test_index_and_constraint_changes() -> None:
    class UserV2(Model):
        __tablename__ = "users"
        id = Column(BigInteger, primary_key=True, autoincrement=True)
        user_name = Column(String(50), nullable=False)  # unique dropped
        email = Column(String(255), nullable=False, unique=True)  # index -> unique
        active = Column(Boolean, nullable=False, default=True)
        created_at = Column(DateTime, server_default="CURRENT_TIMESTAMP")
        __checks__ = [Check("length(user_name) > 3", name="name_long_enough")]  # changed
        __indexes__ = [Index("active", "created_at", where="active")]

    ops = compare(models(User), models(UserV2))
    described = [op.describe() for op in ops]
    assert [type(op) for op in ops] == [
        DropIndex,
        DropConstraint,
        DropConstraint,
        AddConstraint,
        AddConstraint,
        CreateIndex,
    ], described
    assert ops[0].index.name == "ix_users_email"
    assert {ops[1].constraint.name, ops[2].constraint.name} == {
        "uq_users_user_name",
        "ck_users_name_long_enough",
    }
    assert ops[-1].index.where == "active"


def test_an_index_renamed_but_identical_is_no_change() -> None:
    db = models(User)
    users = db.tables["users"]
    db.tables["users"] = dataclasses.replace(
        users, indexes=(dataclasses.replace(users.indexes[0], name="users_email_idx"),)
    )
    assert compare(db, models(User)) == []


def test_an_expression_index_the_models_do_not_know_is_kept_and_reported() -> None:
    db = models(User)
    users = db.tables["users"]
    expr = SchemaIndex("users_lower_email", (), expression="lower(email)")
    db.tables["users"] = dataclasses.replace(users, indexes=(*users.indexes, expr))
    db.ignored = [IgnoredObject("view", "active_users")]
    diff = SchemaComparator().compare(db, models(User))
    assert diff.operations == []
    assert any("users_lower_email" in w for w in diff.warnings)
    assert [str(o) for o in diff.ignored] == ["view active_users"]


# -- renames ----------------------------------------------------------------------------------


def test_the_guides_username_to_user_name_is_a_rename() -> None:
    db = with_columns(models(User), "users", user_name="username")
    diff = SchemaComparator().compare(db, models(User))
    assert diff.operations == [RenameColumn("users", "username", "user_name")]
    assert [str(r) for r in diff.detected_renames] == ["users.username -> user_name"]
    assert diff.detected_renames[0].flag == "users.username:user_name"


def test_a_different_type_is_never_a_rename() -> None:
    db = models(User)
    users = db.tables["users"]
    old = dataclasses.replace(users.column("user_name"), name="username", type=Integer())
    db.tables["users"] = dataclasses.replace(
        users,
        columns=tuple(old if c.name == "user_name" else c for c in users.columns),
        unique_constraints=(),
    )
    ops = compare(db, models(User))
    kinds = {type(op) for op in ops}
    assert RenameColumn not in kinds and {AddColumn, DropColumn} <= kinds


def test_two_renames_in_one_table() -> None:
    db = with_columns(models(User), "users", user_name="username", email="email_address")
    ops = compare(db, models(User))
    assert sorted((op.old, op.new) for op in ops) == [
        ("email_address", "email"),
        ("username", "user_name"),
    ]
    assert all(isinstance(op, RenameColumn) for op in ops)


def test_explicit_renames_and_turning_detection_off() -> None:
    db = with_columns(models(User), "users", user_name="login")  # names too unlike to guess
    guessed = SchemaComparator().compare(db, models(User))
    assert {type(op) for op in guessed.operations} >= {AddColumn, DropColumn}
    assert [str(p) for p in guessed.possible_renames] == ["users.login -> user_name"]
    told = compare(db, models(User), renames=["users.login:user_name"])
    assert told == [RenameColumn("users", "login", "user_name")]
    off = compare(
        with_columns(models(User), "users", user_name="username"),
        models(User),
        detect_renames=False,
    )
    assert RenameColumn not in {type(op) for op in off}
    rejected = compare(
        with_columns(models(User), "users", user_name="username"),
        models(User),
        rejected_renames=["users.username:user_name"],
    )
    assert RenameColumn not in {type(op) for op in rejected}


def test_explicit_renames_that_do_not_fit_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="no table 'nobody'"):
        compare(models(User), models(User), renames=["nobody.a:b"])
    with pytest.raises(ConfigError, match="has no column 'ghost'"):
        compare(models(User), models(User), renames=["users.ghost:user_name"])
    with pytest.raises(ConfigError, match=r"table\.old:new"):
        compare(models(User), models(User), renames=["users.user_name"])


def test_a_table_with_the_same_columns_under_a_new_name_is_a_rename() -> None:
    class People(User):
        __tablename__ = "people"

    db = models(User, Post)
    target = models(People)
    post = db.tables["posts"]
    fk = dataclasses.replace(post.foreign_keys[0], ref_table="people")
    target.tables["posts"] = dataclasses.replace(post, foreign_keys=(fk,))
    diff = SchemaComparator().compare(db, target)
    ops = diff.operations
    assert ops[0] == RenameTable("users", "people")
    # the constraint and index names still say users_*: the same shape is not a change, and the
    # posts foreign key follows the renamed table as the server itself does.
    assert ops[1:] == []
    assert diff.detected_renames[0].kind == "table"


# -- enums ------------------------------------------------------------------------------------


def test_enum_types_are_created_first_and_extended_in_place() -> None:
    class Ticket(Model):
        id = Column(Integer, primary_key=True)
        state = Column(Enum("open", "closed", name="ticket_state"))

    class TicketV2(Model):
        __tablename__ = "ticket"
        id = Column(Integer, primary_key=True)
        state = Column(Enum("open", "pending", "closed", "archived", name="ticket_state"))

    ops = compare(Schema(), models(Ticket))
    assert isinstance(ops[0], CreateEnum) and ops[0].enum.values == ("open", "closed")
    assert isinstance(ops[1], CreateTable)
    grow = compare(models(Ticket), models(TicketV2))
    adds = [op for op in grow if isinstance(op, AddEnumValue)]
    assert [(op.value, op.before) for op in adds] == [("pending", "closed"), ("archived", None)]
    shrink = SchemaComparator().compare(models(TicketV2), models(Ticket))
    assert not any(isinstance(op, AddEnumValue) for op in shrink.operations)
    assert any("ticket_state" in w for w in shrink.warnings)


# -- SQLite: what it can alter in place, and what becomes a rebuild ----------------------------


def sqlite_ops(current: Schema, target: Schema, **kwargs: object) -> list:
    return SchemaComparator("sqlite", **kwargs).compare(current, target).operations  # type: ignore[arg-type]


def test_sqlite_alters_become_one_rebuild_that_maps_renamed_columns() -> None:
    class UserV2(User):
        __tablename__ = "users"
        user_name = Column(String(80), nullable=False, unique=True)  # wider: not in place

    db = with_columns(models(User), "users", user_name="username")
    ops = sqlite_ops(db, models(UserV2), renames=["users.username:user_name"])
    assert [type(op).__name__ for op in ops] == ["RebuildTable"]
    rebuild = ops[0]
    assert ("user_name", "username") in rebuild.column_map
    assert rebuild.after.column("user_name").type.length == 80
    assert {type(c).__name__ for c in rebuild.changes} >= {"RenameColumn", "AlterColumn"}
    assert rebuild.reverse().column_map == tuple((o, n) for n, o in rebuild.column_map)


def test_sqlite_adds_and_drops_plain_columns_in_place() -> None:
    class Plain(Model):
        __tablename__ = "plain"
        id = Column(Integer, primary_key=True)
        a = Column(Integer)

    class PlainV2(Model):
        __tablename__ = "plain"
        id = Column(Integer, primary_key=True)
        b = Column(String(10), nullable=False, default="x")  # constant default: in place

    ops = sqlite_ops(models(Plain), models(PlainV2), detect_renames=False)
    assert [type(op) for op in ops] == [AddColumn, DropColumn]


def test_sqlite_rebuilds_for_what_add_and_drop_column_cannot_do() -> None:
    class Plain(Model):
        __tablename__ = "plain"
        id = Column(Integer, primary_key=True)
        qty = Column(Integer)
        __checks__ = [Check("qty > 0", name="qty_positive")]

    class Stamped(Model):
        __tablename__ = "plain"
        id = Column(Integer, primary_key=True)
        qty = Column(Integer)
        at = Column(DateTime, server_default="CURRENT_TIMESTAMP")  # not a constant
        __checks__ = [Check("qty > 0", name="qty_positive")]

    class NoQty(Model):
        __tablename__ = "plain"
        id = Column(Integer, primary_key=True)

    assert [type(op).__name__ for op in sqlite_ops(models(Plain), models(Stamped))] == [
        "RebuildTable"
    ]
    # qty is used by a check: SQLite refuses DROP COLUMN, so the table is rebuilt
    ops = sqlite_ops(models(Plain), models(NoQty))
    assert [type(op).__name__ for op in ops] == ["RebuildTable"] and ops[0].destructive


def test_what_a_database_cannot_express_is_a_one_line_error(tmp_path: Path) -> None:
    from covet_core.schema.generator import MigrationGenerator

    class Published(Model):
        __tablename__ = "posts"
        id = Column(Integer, primary_key=True)
        state = Column(String(10))
        __indexes__ = [Index("state", where="state = 'published'")]

    with pytest.raises(ConfigError, match=r"mysql has no partial indexes: index ix_posts_state"):
        SchemaComparator("mysql").compare(Schema(dialect="mysql"), models(Published))
    # A renderer still refuses on its own, for a diff built by hand.
    diff = SchemaComparator("postgresql").compare(Schema(dialect="mysql"), models(Published))
    with pytest.raises(ConfigError, match=r"cannot create table posts .* on mysql: .*partial"):
        MigrationGenerator("mysql", tmp_path).generate_from_diff(diff, "posts")
    assert list(tmp_path.iterdir()) == []  # nothing written
