"""Hostile names through real databases: generate -> file -> load -> apply -> the catalog.

An attacker with CREATE on the schema names a table and a view; the models name a table and
its column. Whatever the names hold (newlines, quotes, triple quotes, backslashes, controls,
non-BMP characters), the generated file is only data, applying it does exactly what the diff
said, and the database's own catalog (sqlite_master, pg_class, information_schema) lists
exactly the names asked for. Also: what the terminal shows, --rename suggestions a shell can
take, and string defaults with backslashes, which MySQL used to change silently.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Target
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from test_escaping import ATTACKS, assert_only_data

from covet_core.cli import cli
from covet_core.manager import MigrationManager
from covet_core.models import Column, Integer, Model, ModelSchemaReader, String
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator
from covet_core.schema.reader import SchemaReader

EXAMPLES = int(os.environ.get("COVET_DB_PROPERTY_EXAMPLES", "12"))

names = st.one_of(
    st.sampled_from([a for a in ATTACKS if "\x00" not in a]),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=16),
)


def fit(name: str, dialect: str) -> str:
    """``name`` within what the server can hold at all (covet refuses the rest: see
    test_escaping). MySQL: the Basic Multilingual Plane, 64 characters, no trailing space
    (MariaDB counts \t \n \v \f \r as space there too: a column named "\r" is refused)."""
    if dialect == "mysql":
        name = "".join(ch if ord(ch) <= 0xFFFF else "?" for ch in name)[:64].rstrip(" \t\n\v\f\r")
    elif dialect == "postgresql":
        while len(name.encode()) > 63:
            name = name[:-1]
    return name or "x"


async def catalog(adapter: Any, target: Target) -> dict[str, set[str]]:
    """Every table and view with its columns, as the database itself lists them."""
    if target.name == "sqlite":
        rows = await adapter.fetch_all(
            "SELECT m.name AS t, p.name AS c FROM sqlite_master AS m, pragma_table_info(m.name) AS p"
            " WHERE m.type IN ('table', 'view')"
        )
    elif target.name == "postgresql":
        rows = await adapter.fetch_all(
            "SELECT c.relname AS t, a.attname AS c FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p')"
        )
    else:
        rows = await adapter.fetch_all(
            "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE()"
        )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["t"], set()).add(row["c"])
    return {t: cols for t, cols in found.items() if not t.startswith("_covet")}


async def drop_everything(adapter: Any, target: Target) -> None:
    q = target.dialect.quote
    if target.name == "postgresql":
        await adapter.execute("DROP SCHEMA public CASCADE")
        await adapter.execute("CREATE SCHEMA public")
        return
    if target.name == "sqlite":
        kinds = await adapter.fetch_all(
            "SELECT type AS k, name AS t FROM sqlite_master WHERE type IN ('table', 'view')"
        )
    else:
        kinds = await adapter.fetch_all(
            "SELECT IF(TABLE_TYPE = 'VIEW', 'view', 'table') AS k, TABLE_NAME AS t"
            " FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        )
    for row in sorted(kinds, key=lambda r: r["k"] != "view"):
        await adapter.execute(f"DROP {row['k'].upper()} {q(row['t'])}")


async def accepted(adapter: Any, target: Target, name: str) -> bool:
    """Does the server itself take ``name`` for a table (SQLite reserves sqlite_*, say)?"""
    q = target.dialect.quote
    try:
        await adapter.execute(f"CREATE TABLE {q(name)} ({q('n')} INTEGER)")
    except Exception:
        return False
    await adapter.execute(f"DROP TABLE {q(name)}")
    return True


def hostile_model(table: str, column: str) -> type[Model]:
    attrs = {"__tablename__": table, "key": Column(Integer, primary_key=True, name=column)}
    return type("Hostile", (Model,), attrs)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.tuples(names, names, names, names))
@example(raw=("b\n    import os; os.system('id > /tmp/x')  #", 'c"""x', "a\\", "v\x1b[31m"))
def test_hostile_names_round_trip_exactly(
    target: Target, tmp_path_factory: pytest.TempPathFactory, raw: tuple[str, ...]
) -> None:
    dropped, created, column, view = (fit(n, target.name) for n in raw)
    folded = {n.casefold() for n in (dropped, created, view)}
    assume(len(folded) == 3)  # SQLite and MySQL fold case in some names
    folder = tmp_path_factory.mktemp("migrations")

    async def go() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            await drop_everything(adapter, target)
            if not all([await accepted(adapter, target, n) for n in (dropped, created, view)]):
                return  # the server refuses the name itself; covet is not asked to
            q = target.dialect.quote
            await adapter.execute(f"CREATE TABLE {q(dropped)} ({q(column)} INTEGER)")
            await adapter.execute(f"CREATE VIEW {q(view)} AS SELECT 1 AS {q('x')}")
            live = await SchemaReader(adapter, target.dialect).read_schema()
            models = ModelSchemaReader([hostile_model(created, column)]).read_schema()
            diff = SchemaComparator(target.dialect, detect_renames=False).compare(live, models)
            path = MigrationGenerator(target.dialect, folder).generate_from_diff(diff, "hostile")
            assert_only_data(path.read_text(encoding="utf-8"))
            result = await MigrationManager(adapter, target.dialect, folder).migrate_up()
            assert result["success"], result["error"]
            assert await catalog(adapter, target) == {created: {column}, view: {"x"}}
            again = await SchemaReader(adapter, target.dialect).read_schema()
            compare = SchemaComparator(target.dialect, detect_renames=False)
            assert not compare.compare(again, models).has_changes()
        finally:
            await drop_everything(adapter, target)
            await adapter.disconnect()

    asyncio.run(go())


def test_terminal_output_never_carries_control_characters(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ESC sequences and bidi overrides in names reach the terminal escaped."""
    evil = "t\x1b[2J\u202e\rx"

    async def setup() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        q = target.dialect.quote
        await adapter.execute(f"CREATE TABLE {q(evil)} ({q('n')} INTEGER)")
        await adapter.disconnect()

    asyncio.run(setup())
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain_models.py").write_text(
        "from covet_core.models import *\n\n\nclass T(Model):\n"
        "    __tablename__ = 'plain'\n    id = Column(Integer, primary_key=True)\n"
    )
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(tmp_path / "m")}
    runner = CliRunner()
    generated = runner.invoke(
        cli, ["migrate", "generate", "g", "--models", "plain_models.py"], env=env
    )
    assert generated.exit_code == 0, generated.output
    assert "drop table t\\x1b[2J\\u202e\\rx" in generated.output
    up = runner.invoke(cli, ["migrate", "up"], env=env)
    assert up.exit_code == 0, up.output
    status = runner.invoke(cli, ["migrate", "status"], env=env)
    for output in (generated.output, up.output, status.output):
        assert "\x1b" not in output and "\u202e" not in output and "\r" not in output


def test_rename_suggestions_can_be_pasted_into_a_shell(tmp_path: Path, monkeypatch) -> None:
    """A guessed rename of names with spaces and quotes is suggested as one shell word each,
    and that exact flag is understood."""
    import shlex

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    env = {"COVET_DATABASE_URL": url, "COVET_MIGRATIONS_DIR": str(tmp_path / "m")}
    model = (
        'from covet_core.models import *\n\n\nclass T(Model):\n    __tablename__ = "it\'s a.b"\n'
        "    id = Column(Integer, primary_key=True)\n"
        "    {name} = Column(String(20), name={column!r})\n"
    )
    (tmp_path / "m1.py").write_text(model.format(name="a", column="first name"))
    (tmp_path / "m2.py").write_text(model.format(name="a", column="first:name"))
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["migrate", "generate", "one", "--models", "m1.py"], env=env).exit_code
        == 0
    )
    assert runner.invoke(cli, ["migrate", "up"], env=env).exit_code == 0
    stopped = runner.invoke(cli, ["migrate", "generate", "two", "--models", "m2.py"], env=env)
    assert stopped.exit_code == 2
    flag = "it's a.b.first name:first:name"
    assert f"--rename {shlex.quote(flag)}" in stopped.output
    [pasted] = shlex.split(stopped.output.split("--rename ", 1)[1].split(" (or --yes)")[0])
    assert pasted == flag
    told = runner.invoke(
        cli, ["migrate", "generate", "two", "--models", "m2.py", "--rename", pasted], env=env
    )
    assert told.exit_code == 0, told.output
    assert "rename column it's a.b.first name to first:name" in told.output


class WithBackslash(Model):
    __tablename__ = "paths"
    id = Column(Integer, primary_key=True)
    path = Column(String(40), default="C:\\temp\\n'x'")


class WithoutBackslash(Model):
    __tablename__ = "paths"
    id = Column(Integer, primary_key=True)
    path = Column(String(40), default="C:tempn'x'")


def test_string_defaults_keep_their_backslashes_on_every_dialect(
    target: Target, tmp_path: Path
) -> None:
    """MySQL read 'C:\\temp' as 'C:temp' (backslash escapes) and then compared it equal."""

    async def go() -> None:
        adapter = target.new_adapter()
        await adapter.connect()
        models = ModelSchemaReader([WithBackslash]).read_schema()
        live = await SchemaReader(adapter, target.dialect).read_schema()
        diff = SchemaComparator(target.dialect).compare(live, models)
        MigrationGenerator(target.dialect, tmp_path / "m").generate_from_diff(diff, "paths")
        result = await MigrationManager(adapter, target.dialect, tmp_path / "m").migrate_up()
        assert result["success"], result["error"]
        await adapter.execute("INSERT INTO paths (id) VALUES (1)")
        assert await adapter.fetch_value("SELECT path FROM paths") == "C:\\temp\\n'x'"
        live = await SchemaReader(adapter, target.dialect).read_schema()
        assert not SchemaComparator(target.dialect).compare(live, models).has_changes()
        other = ModelSchemaReader([WithoutBackslash]).read_schema()
        [change] = SchemaComparator(target.dialect).compare(live, other).operations
        assert "alter column paths.path" in change.describe()  # SQLite: in a rebuild
        await adapter.disconnect()

    asyncio.run(go())
