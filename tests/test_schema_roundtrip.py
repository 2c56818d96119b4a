"""Models -> generated migration -> real database -> read back -> compare: nothing left.

The whole chain on every dialect (a diff that reports changes after its own migration ran is
noise, the thing users distrust most), schema evolution through every kind of operation with
the rows kept, a live schema (Chinook) reproduced in a fresh database, and the CLI.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Target, chinook_ddl, database_target

from covet_core.cli import cli
from covet_core.errors import IntegrityError
from covet_core.manager import MigrationManager
from covet_core.models import ModelSchemaReader
from covet_core.schema import Schema
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader

V1 = """
from covet_core.models import *


class Account(Model):
    __tablename__ = "accounts"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    email = Column(String(255), nullable=False, unique=True)
    name = Column(String(100))
    balance = Column(Numeric(12, 2), nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, server_default="CURRENT_TIMESTAMP")
    notes = Column(Text)
    ratio = Column(Float)
    small = Column(SmallInteger, default=7)
    birthday = Column(Date)
    legacy = Column(Integer)
    __checks__ = [Check("balance >= 0", name="balance_positive")]
    __indexes__ = [Index("name", "active")]


class Purchase(Model):
    __tablename__ = "purchases"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    account_id = Column(BigInteger, ForeignKey("accounts.id", on_delete="CASCADE"), nullable=False)
    total = Column(Numeric(10, 2), nullable=False)
    status = Column(String(20), nullable=False, default="new")
    __unique__ = [Unique("account_id", "id")]
"""

# Every kind of change at once: add (nullable, and NOT NULL with a default), widen, NULL
# allowed, new default, drop, rename, index/unique/check/foreign key added and dropped, a new
# table and a dropped one.
V2 = """
from covet_core.models import *


class Account(Model):
    __tablename__ = "accounts"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    email = Column(String(255), nullable=False, unique=True)
    full_name = Column(String(200))
    balance = Column(Numeric(12, 2), nullable=False, default=0)
    active = Column(Boolean, nullable=True, default=True)
    created_at = Column(DateTime, nullable=False, server_default="CURRENT_TIMESTAMP")
    notes = Column(Text)
    ratio = Column(Float)
    small = Column(SmallInteger, default=9)
    birthday = Column(Date)
    country = Column(String(2), nullable=False, default="NL")
    referrer = Column(String(50), index=True)
    __checks__ = [Check("balance < 1000000", name="balance_bounded")]
    __indexes__ = [Index("full_name", "active")]


class Coupon(Model):
    __tablename__ = "coupons"
    code = Column(String(20), primary_key=True)
    percent = Column(Integer, nullable=False)


class Purchase(Model):
    __tablename__ = "purchases"
    id = Column(BigInteger, primary_key=True, autoincrement=True)
    account_id = Column(BigInteger, nullable=False)
    coupon_code = Column(String(20), ForeignKey("coupons.code", on_delete="SET NULL"))
    total = Column(Numeric(10, 2), nullable=False)
    status = Column(String(20), nullable=False, default="new")
"""


def load_models(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> Schema:
    name = f"models_{abs(hash(source))}"
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return ModelSchemaReader([importlib.import_module(name)]).read_schema()


async def read(adapter: Any, target: Target) -> Schema:
    return await SchemaReader(adapter, target.dialect).read_schema()


def changes(current: Schema, target: Schema, **kwargs: Any) -> list[str]:
    diff = SchemaComparator(current.dialect, **kwargs).compare(current, target)
    return [op.describe() for op in diff.operations]


async def generate_and_apply(
    adapter: Any, target: Target, manager: MigrationManager, models: Schema, name: str, **kw: Any
) -> Path:
    current = await read(adapter, target)
    diff = SchemaComparator(target.dialect, **kw).compare(current, models)
    assert diff.has_changes()
    path = MigrationGenerator(target.dialect, manager.migrations_dir).generate_from_diff(diff, name)
    result = await manager.migrate_up()
    assert result["success"], f"{result['error']}\n{path.read_text()}"
    return path


def test_models_to_database_and_back_is_no_change(target: Target, tmp_path, monkeypatch) -> None:
    models = load_models(tmp_path, V1, monkeypatch)

    async def go() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        manager = MigrationManager(adapter, target.dialect, tmp_path / "migrations")
        path = await generate_and_apply(adapter, target, manager, models, "initial")
        assert changes(await read(adapter, target), models) == []
        assert "IRREVERSIBLE" not in path.read_text()
        down = await manager.migrate_down()
        assert down["success"], down["error"]
        assert (await read(adapter, target)).tables == {}
        await adapter.disconnect()

    asyncio.run(go())


def test_every_kind_of_change_applies_keeps_rows_and_reads_back_clean(
    target: Target, tmp_path, monkeypatch
) -> None:
    v1 = load_models(tmp_path, V1, monkeypatch)
    v2 = load_models(tmp_path, V2, monkeypatch)

    async def go() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        manager = MigrationManager(adapter, target.dialect, tmp_path / "migrations")
        await generate_and_apply(adapter, target, manager, v1, "initial")
        p = target.dialect.params(3)
        await adapter.executemany(
            f"INSERT INTO accounts (email, name, legacy) VALUES ({p[0]}, {p[1]}, {p[2]})",
            [(f"a{i}@example.com", f"Name {i}", i) for i in range(1, 201)],
        )
        await adapter.executemany(
            f"INSERT INTO purchases (account_id, total) VALUES ({p[0]}, {p[1]})",
            [(i, i * 1.5) for i in range(1, 201)],
        )
        planned = changes(await read(adapter, target), v2, renames=["accounts.name:full_name"])
        assert "rename column accounts.name to full_name" in " ".join(planned)
        path = await generate_and_apply(
            adapter, target, manager, v2, "evolve", renames=["accounts.name:full_name"]
        )
        assert changes(await read(adapter, target), v2) == []
        # every row survived, with its values, under the new column name
        assert await adapter.fetch_value("SELECT COUNT(*) FROM accounts") == 200
        assert await adapter.fetch_value("SELECT COUNT(*) FROM purchases") == 200
        name = await adapter.fetch_value(
            f"SELECT full_name FROM accounts WHERE email = {p[0]}", ("a7@example.com",)
        )
        assert name == "Name 7"
        assert (
            await adapter.fetch_value("SELECT COUNT(*) FROM accounts WHERE country = 'NL'") == 200
        )
        # dropping `legacy` and `coupons`' absence before: the file says why it will not undo
        text = path.read_text()
        assert "IRREVERSIBLE" in text and "drop column accounts.legacy" in text
        refused = await manager.migrate_down()
        assert not refused["success"] and "cannot be rolled back" in refused["error"]
        # the new foreign key is enforced: an unknown coupon is refused
        if target.name == "sqlite":
            await adapter.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            await adapter.execute(
                f"INSERT INTO purchases (account_id, coupon_code, total) VALUES ({p[0]}, {p[1]}, {p[2]})",
                (1, "NOPE", 1),
            )
        await adapter.disconnect()

    asyncio.run(go())


# Chinook's own MySQL script names its primary keys, which MySQL ignores with a warning.
@pytest.mark.filterwarnings("ignore:Name '.*' ignored for PRIMARY key")
def test_chinook_read_generated_into_a_fresh_database_reads_back_equal(
    target: Target, tmp_path
) -> None:
    ddl = chinook_ddl(target.dialect)

    async def go(other: Target) -> None:
        source = target.new_adapter()
        await source.connect()
        for statement in ddl:
            await source.execute(statement)
        original = await read(source, target)
        await source.disconnect()
        assert len(original.tables) == 11

        copy = other.new_adapter()
        await copy.connect()
        manager = MigrationManager(copy, other.dialect, tmp_path / "migrations")
        empty = await read(copy, other)
        diff = SchemaComparator(other.dialect).compare(empty, original)
        assert sum(type(op).__name__ == "CreateTable" for op in diff.operations) == 11
        MigrationGenerator(other.dialect, manager.migrations_dir).generate_from_diff(
            diff, "chinook"
        )
        result = await manager.migrate_up()
        assert result["success"], result["error"]
        reproduced = await read(copy, other)
        await copy.disconnect()
        assert changes(reproduced, original) == []
        assert reproduced.tables == original.tables or all(
            reproduced.tables[k].columns == original.tables[k].columns for k in original.tables
        )
        track = reproduced.table(next(k for k in reproduced.tables if k.lower() == "track"))
        assert len(track.foreign_keys) == 3

    with database_target(target.name, tmp_path / "copy") as other:
        asyncio.run(go(other))


def test_cli_generate_never_guesses_a_rename_silently(
    target: Target, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    module = f"shop_{uuid.uuid4().hex[:8]}"  # one process runs this once per dialect
    (tmp_path / f"{module}.py").write_text(V1)
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(tmp_path / "migrations")}
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, ["migrate", *args], env=env, catch_exceptions=False)

    first = invoke("generate", "initial", "--models", module)
    assert first.exit_code == 0, first.output
    assert "create table accounts" in first.output
    assert invoke("up").exit_code == 0
    again = invoke("generate", "noop", "--models", module)
    assert again.exit_code == 0 and "No changes detected" in again.output

    (tmp_path / f"{module}.py").write_text(V1.replace("    email =", "    email_address ="))
    sys.modules.pop(module, None)
    files = sorted((tmp_path / "migrations").iterdir())
    stopped = invoke("generate", "rename_email", "--models", module)
    assert stopped.exit_code != 0
    assert "accounts.email -> email_address" in stopped.output
    assert "--rename accounts.email:email_address" in stopped.output
    assert sorted((tmp_path / "migrations").iterdir()) == files  # nothing written

    dry = invoke("generate", "rename_email", "--models", module, "--yes", "--dry-run")
    assert dry.exit_code == 1 and "RENAME" in dry.output.upper()  # it would write a file
    assert sorted((tmp_path / "migrations").iterdir()) == files
    told = invoke(
        "generate",
        "rename_email",
        "--models",
        module,
        "--rename",
        "accounts.email:email_address",
    )
    assert told.exit_code == 0 and "Generated:" in told.output
    assert invoke("up").exit_code == 0
    assert "No changes detected" in invoke("generate", "x", "--models", module).output


HAND_WRITTEN = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL, UNIQUE (code))",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, qty INTEGER,"
    " CHECK (qty > 0), FOREIGN KEY (parent_id) REFERENCES parent (id))",
]

WITHOUT_CONSTRAINTS = """
from covet_core.models import *


class Parent(Model):
    __tablename__ = "parent"
    id = Column(Integer, primary_key=True)
    code = Column(String(10), nullable=False)


class Child(Model):
    __tablename__ = "child"
    id = Column(Integer, primary_key=True)
    parent_id = Column(Integer)
    qty = Column(Integer)
"""


def test_constraints_the_server_named_can_be_dropped(target: Target, tmp_path, monkeypatch) -> None:
    """Unnamed constraints get a name from the server (child_ibfk_1, child_qty_check); a
    generated migration that removes them must use that name."""
    models = load_models(tmp_path, WITHOUT_CONSTRAINTS, monkeypatch)

    async def go() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        for statement in HAND_WRITTEN:
            await adapter.execute(statement)
        await adapter.execute("INSERT INTO parent (id, code) VALUES (1, 'a')")
        await adapter.execute("INSERT INTO child (id, parent_id, qty) VALUES (1, 1, 5)")
        planned = changes(await read(adapter, target), models)
        assert len(planned) >= 1 and all("drop constraint" in p or "rebuild" in p for p in planned)
        manager = MigrationManager(adapter, target.dialect, tmp_path / "migrations")
        await generate_and_apply(adapter, target, manager, models, "loosen")
        assert changes(await read(adapter, target), models) == []
        await adapter.execute("INSERT INTO child (id, parent_id, qty) VALUES (2, 99, -1)")
        await adapter.execute("INSERT INTO parent (id, code) VALUES (2, 'a')")
        assert await adapter.fetch_value("SELECT COUNT(*) FROM child") == 2
        await adapter.disconnect()

    asyncio.run(go())


TICKETS = """
from covet_core.models import *


class Ticket(Model):
    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True)
    state = Column(Enum({labels}, name="ticket_state"), nullable=False, default="open")
"""


def test_enum_columns_round_trip_and_grow(target: Target, tmp_path, monkeypatch) -> None:
    """PostgreSQL: a named type, extended with ADD VALUE; MySQL: an inline ENUM, modified;
    SQLite: a VARCHAR as long as the longest label."""
    v1 = load_models(tmp_path, TICKETS.format(labels="'open', 'closed'"), monkeypatch)
    v2 = load_models(
        tmp_path, TICKETS.format(labels="'open', 'in_progress', 'closed'"), monkeypatch
    )

    async def go() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        manager = MigrationManager(adapter, target.dialect, tmp_path / "migrations")
        await generate_and_apply(adapter, target, manager, v1, "tickets")
        assert changes(await read(adapter, target), v1) == []
        await adapter.execute("INSERT INTO tickets (id, state) VALUES (1, 'closed')")
        planned = changes(await read(adapter, target), v2)
        if target.name == "postgresql":
            assert planned == ["add value 'in_progress' to enum type ticket_state"]
        await generate_and_apply(adapter, target, manager, v2, "more_states")
        assert changes(await read(adapter, target), v2) == []
        await adapter.execute("INSERT INTO tickets (id, state) VALUES (2, 'in_progress')")
        assert await adapter.fetch_value("SELECT COUNT(*) FROM tickets") == 2
        await adapter.disconnect()

    asyncio.run(go())


@pytest.mark.parametrize(("answer", "expected"), [("y", "RENAME COLUMN"), ("n", "IRREVERSIBLE")])
def test_cli_generate_asks_about_a_guessed_rename_on_a_terminal(
    tmp_path, monkeypatch, answer, expected
) -> None:
    monkeypatch.chdir(tmp_path)
    module = f"term_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(V1)
    monkeypatch.syspath_prepend(str(tmp_path))
    env = {
        "COVET_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "COVET_MIGRATIONS_DIR": str(tmp_path / "migrations"),
    }
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["migrate", "generate", "init", "--models", module], env=env).exit_code
        == 0
    )
    assert runner.invoke(cli, ["migrate", "up"], env=env).exit_code == 0
    (tmp_path / f"{module}.py").write_text(V1.replace("    email =", "    email_address ="))
    sys.modules.pop(module, None)
    import covet_core.cli_generate as cli_generate

    monkeypatch.setattr(cli_generate, "interactive", lambda: True)  # CliRunner's stdin is no tty
    result = runner.invoke(
        cli, ["migrate", "generate", "renamed", "--models", module], env=env, input=f"{answer}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Is accounts.email -> email_address a rename?" in result.output
    written = sorted((tmp_path / "migrations").glob("*_renamed.py"))
    assert len(written) == 1 and expected in written[0].read_text()
