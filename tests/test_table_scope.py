"""``include_tables`` / ``exclude_tables``: a table the models do not own is never proposed
as a drop (nor created or changed), and leaving it out is said, never silent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import Target

from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.model import Column, ColumnType, Schema, Table

MODELS = """
from covet_core.models import *


class Item(Model):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String(40))


class Order(Model):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("legacy_customers.id"), nullable=True)
"""


def _sql(target: Target, *statements: str) -> Any:
    """Run the statements on the target; the first value of the last one."""

    async def go() -> Any:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            for sql in statements[:-1]:
                await adapter.execute(sql)
            last = statements[-1]
            if last.upper().startswith("SELECT"):
                return await adapter.fetch_value(last)
            return await adapter.execute(last)
        finally:
            await adapter.disconnect()

    return asyncio.run(go())


def _others(target: Target) -> None:
    """Tables another service owns, with rows, beside the models' tables."""
    _sql(
        target,
        "CREATE TABLE legacy_customers (id INTEGER PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO legacy_customers VALUES (1, 'kept')",
        "CREATE TABLE other_app_users (id INTEGER PRIMARY KEY)",
        "INSERT INTO other_app_users VALUES (7)",
    )


def test_excluded_tables_are_never_dropped_and_models_may_reference_them(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    _others(target)
    (tmp_path / "m").mkdir()
    (tmp_path / "models.py").write_text(MODELS)
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(tmp_path / "m")}

    unscoped = run("migrate", "generate", "all", "--models", "models.py", "--dry-run", env=env)
    assert unscoped.exit_code == 1
    assert "drop table legacy_customers" in unscoped.output.lower()  # what scope prevents

    (tmp_path / "covet.toml").write_text('exclude_tables = ["legacy_*"]\n')
    result = run(
        "migrate", "generate", "scoped", "--models", "models.py",
        "--exclude-table", "other_app_*", env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "out of scope (include_tables / exclude_tables): table legacy_customers, "
        "table other_app_users" in result.output
    )
    [written] = (tmp_path / "m").glob("*.py")
    text = written.read_text()
    assert "legacy_customers" in text  # the FK, and the header listing it as out of scope
    drops = [line for line in text.splitlines() if "DROP" in line.upper()]
    assert drops and not any("legacy" in d or "other_app" in d for d in drops), drops
    assert run("migrate", "up", env=env).exit_code == 0
    assert _sql(target, "SELECT name FROM legacy_customers") == "kept"
    assert _sql(target, "SELECT id FROM other_app_users") == 7

    # The CI gate agrees with generate: with the same scope, the models match.
    check = run(
        "migrate", "check", "--models", "models.py", "--exclude-table", "other_app_*", env=env
    )
    assert check.exit_code == 0, check.output
    unscoped_check = run("migrate", "check", "--models", "models.py", env=env)
    assert unscoped_check.exit_code == 1 and "other_app_users" in unscoped_check.output


def test_include_compares_only_the_matching_tables(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    _others(target)
    (tmp_path / "m").mkdir()
    (tmp_path / "models.py").write_text(MODELS)
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(tmp_path / "m")}
    result = run(
        "migrate", "generate", "items", "--models", "models.py", "--include-table", "items",
        "--dry-run", env=env,
    )  # fmt: skip
    assert result.exit_code == 1  # a change: the items table
    assert "create table items" in result.output.lower()
    assert "orders" not in result.output.split("out of scope")[0].lower()
    assert "table orders" in result.output and "table legacy_customers" in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('exclude_tables = [""]\n', "exclude_tables must be a list of table names or globs"),
        ('include_tables = "items"\n', "include_tables has the wrong type"),
    ],
)
def test_bad_patterns_are_refused_before_anything_is_read(
    run: Callable[..., Result], tmp_path: Path, toml: str, message: str
) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "models.py").write_text(MODELS)
    (tmp_path / "covet.toml").write_text('database = "sqlite:///x.db"\n' + toml)
    result = run("migrate", "generate", "x", "--models", "models.py")
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "x.db").exists() and not list((tmp_path / "migrations").iterdir())


def test_a_blank_flag_pattern_is_refused(run: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "models.py").write_text(MODELS)
    result = run(
        "migrate", "generate", "x", "--models", "models.py", "--exclude-table", " ",
        env={"COVET_DATABASE_URL": "sqlite:///x.db"},
    )  # fmt: skip
    assert (
        result.exit_code == 2
        and "a table pattern must be a non-empty name or glob" in result.output
    )


def test_the_python_api_lists_what_it_left_out() -> None:
    integer = ColumnType("integer")
    current = Schema.of(
        [Table("items", (Column("id", integer),)), Table("audit_log", (Column("id", integer),))]
    )
    target = Schema.of(
        [Table("items", (Column("id", integer),)), Table("audit_new", (Column("id", integer),))]
    )
    diff = SchemaComparator(exclude_tables=["audit_*"]).compare(current, target)
    assert not diff.has_changes()
    assert [str(obj) for obj in diff.out_of_scope] == ["table audit_log", "table audit_new"]
    assert "Out of scope (include_tables / exclude_tables; not compared):" in diff.report()
    schema_match = SchemaComparator(exclude_tables=["public.items"]).compare(
        Schema.of([Table("items", (Column("id", integer),), schema="public")]), Schema.of([])
    )
    assert not schema_match.has_changes()  # matched by schema.name too
