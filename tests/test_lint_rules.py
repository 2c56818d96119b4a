"""Each lint rule, on each dialect where it applies: a migration that triggers it and one that
does not, linted against a real database holding the table they touch (live context on)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Target, database_target

from covet_core.lint import Context, lint
from covet_core.migration import Migration

PG, MY, LITE = "postgresql", "mysql", "sqlite"
ALL = (PG, MY, LITE)
SETUP = {
    PG: ["CREATE TABLE items (id bigint PRIMARY KEY, name text, qty int)",
         "CREATE TABLE owners (id bigint PRIMARY KEY)"],
    MY: ["CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(50), qty INT)",
         "CREATE TABLE owners (id BIGINT PRIMARY KEY)"],
    LITE: ["CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INT)",
           "CREATE TABLE owners (id INTEGER PRIMARY KEY)"],
}  # fmt: skip
ROWS = "INSERT INTO items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)"
NEW_TABLE = {PG: "CREATE TABLE fresh (id bigint PRIMARY KEY, name text)",
             MY: "CREATE TABLE fresh (id BIGINT PRIMARY KEY, name VARCHAR(50))",
             LITE: "CREATE TABLE fresh (id INTEGER PRIMARY KEY, name TEXT)"}  # fmt: skip

# (rule, dialects, triggering statements, harmless statements, atomic of the harmless one)
CASES: list[tuple[str, tuple[str, ...], list[str], list[str], bool | None]] = [
    ("blocking-index", (PG,), ["CREATE INDEX ix ON items (name)"],
     ["CREATE INDEX CONCURRENTLY ix ON items (name)"], False),
    ("blocking-index", (MY,), ["CREATE FULLTEXT INDEX ft ON items (name)"],
     ["ALTER TABLE items ADD INDEX ix (name), ALGORITHM=INPLACE, LOCK=NONE"], None),
    ("blocking-index", (LITE,), ["CREATE INDEX ix ON items (name)"],
     [NEW_TABLE[LITE], "CREATE INDEX ix ON fresh (name)"], None),
    ("blocking-index-drop", (PG,), ["DROP INDEX items_name"],
     ["DROP INDEX CONCURRENTLY items_name"], False),
    ("constraint-not-valid", (PG,), ["ALTER TABLE items ADD CONSTRAINT c CHECK (qty > 0)"],
     ["ALTER TABLE items ADD CONSTRAINT c CHECK (qty > 0) NOT VALID"], None),
    ("constraint-not-valid", (PG, MY),
     ["ALTER TABLE items ADD CONSTRAINT fk FOREIGN KEY (qty) REFERENCES owners (id)"],
     ["CREATE TABLE pets (id BIGINT PRIMARY KEY, owner BIGINT, "
      "CONSTRAINT fk FOREIGN KEY (owner) REFERENCES owners (id))"], None),
    ("set-not-null", (PG,), ["ALTER TABLE items ALTER COLUMN name SET NOT NULL"],
     ["ALTER TABLE items ADD CONSTRAINT nn CHECK (name IS NOT NULL) NOT VALID",
      "ALTER TABLE items VALIDATE CONSTRAINT nn",
      "ALTER TABLE items ALTER COLUMN name SET NOT NULL"], None),
    ("add-column-not-null", ALL, ["ALTER TABLE items ADD COLUMN flag INT NOT NULL"],
     ["ALTER TABLE items ADD COLUMN flag INT NOT NULL DEFAULT 0"], None),
    ("volatile-default", (PG,), ["ALTER TABLE items ADD COLUMN u uuid DEFAULT gen_random_uuid()"],
     ["ALTER TABLE items ADD COLUMN u int DEFAULT 0"], None),
    ("volatile-default", (MY,), ["ALTER TABLE items ADD COLUMN u CHAR(36) DEFAULT (UUID())"],
     ["ALTER TABLE items ADD COLUMN u CHAR(36) DEFAULT 'x'"], None),
    ("volatile-default", (LITE,), ["ALTER TABLE items ADD COLUMN at TEXT DEFAULT CURRENT_TIMESTAMP"],
     ["ALTER TABLE items ADD COLUMN at TEXT DEFAULT 'never'"], None),
    ("column-type-change", (PG,), ["ALTER TABLE items ALTER COLUMN qty TYPE bigint"],
     ["ALTER TABLE items ALTER COLUMN qty SET DEFAULT 0"], None),
    ("column-type-change", (MY,), ["ALTER TABLE items MODIFY qty BIGINT"],
     ["ALTER TABLE items ALTER COLUMN qty SET DEFAULT 0"], None),
    ("rename-column", ALL, ["ALTER TABLE items RENAME COLUMN name TO title"],
     ["ALTER TABLE items ADD COLUMN title TEXT"], None),
    # A rebuild (rename aside, create again, copy, drop the copy) never loses the name.
    ("rename-table", ALL, ["ALTER TABLE items RENAME TO things"],
     ["ALTER TABLE items RENAME TO _bkp_items", "CREATE TABLE items (id BIGINT PRIMARY KEY)",
      "INSERT INTO items (id) SELECT id FROM _bkp_items", "DROP TABLE _bkp_items"], None),
    ("rename-table", (MY,), ["RENAME TABLE items TO things"], [], None),
    ("drop-column", ALL, ["ALTER TABLE items DROP COLUMN qty"],
     ["ALTER TABLE items ADD COLUMN extra INT"], None),
    ("drop-table", ALL, ["DROP TABLE items"], ["<new>", "DROP TABLE fresh"], None),
    ("add-unique-constraint", (PG,), ["ALTER TABLE items ADD CONSTRAINT u UNIQUE (name)"],
     ["ALTER TABLE items ADD CONSTRAINT u UNIQUE USING INDEX items_name_key"], None),
    ("non-transactional-in-atomic", (PG,), ["CREATE INDEX CONCURRENTLY ix ON items (name)"],
     ["CREATE INDEX CONCURRENTLY ix ON items (name)"], False),
    ("non-transactional-in-atomic", (PG,), ["VACUUM items"], ["ANALYZE items"], None),
    ("backfill-in-transaction", ALL,
     ["ALTER TABLE items ADD COLUMN b INT", "UPDATE items SET b = 1"],
     ["UPDATE items SET qty = 1"], None),
    ("prefer-bigint", (PG,), ["CREATE TABLE t (id serial PRIMARY KEY)"],
     ["CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)"], None),
    ("prefer-bigint", (MY,), ["CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY)"],
     ["CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY)"], None),
    ("prefer-timestamptz", (PG,), ["CREATE TABLE t (at timestamp)"],
     ["CREATE TABLE t (at timestamptz)"], None),
    ("prefer-text", (PG,), ["CREATE TABLE t (name varchar(20))"], ["CREATE TABLE t (name text)"],
     None),
    ("parse-error", ALL, ["CREATE TABLE ("], ["CREATE TABLE t2 (id BIGINT PRIMARY KEY)"], None),
]  # fmt: skip
PARAMS = [
    pytest.param(rule, dialect, bad, good, atomic, id=f"{rule}-{dialect}-{i}")
    for i, (rule, dialects, bad, good, atomic) in enumerate(CASES)
    for dialect in dialects
]


def migration(statements: list[str], atomic: bool | None = None, name: str = "m") -> Migration:
    attrs: dict[str, Any] = {"forward_sql": statements}
    if atomic is not None:
        attrs["atomic"] = atomic
    return type("M", (Migration,), attrs)(name=name)


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One database per dialect, holding a small ``items`` table, for the whole module."""
    made: dict[str, Any] = {}
    with (
        database_target(PG, tmp_path_factory.mktemp("pg")) as pg,
        database_target(MY, tmp_path_factory.mktemp("my")) as my,
        database_target(LITE, tmp_path_factory.mktemp("lite")) as lite,
    ):
        for target in (pg, my, lite):
            asyncio.run(_setup(target))
            made[target.name] = target
        yield made


async def _setup(target: Target) -> None:
    adapter = target.new_adapter()
    await adapter.connect()
    try:
        for sql in SETUP[target.name]:
            await adapter.execute(sql)
        await adapter.execute(ROWS)
        if target.name == PG:
            await adapter.execute("CREATE UNIQUE INDEX items_name_key ON items (name)")
            await adapter.execute("CREATE INDEX items_name ON items (name)")
    finally:
        await adapter.disconnect()


async def lint_live(target: Target, statements: list[str], atomic: bool | None) -> Any:
    adapter = target.new_adapter()
    await adapter.connect()
    try:
        return await lint([migration(statements, atomic)], target.dialect, adapter)
    finally:
        await adapter.disconnect()


@pytest.mark.parametrize(("rule", "dialect", "bad", "good", "atomic"), PARAMS)
def test_rule_fires_on_the_dangerous_form_and_not_on_the_safe_one(
    databases: dict[str, Target],
    rule: str,
    dialect: str,
    bad: list[str],
    good: list[str],
    atomic: bool | None,
) -> None:
    target = databases[dialect]
    bad_atomic = True if rule == "non-transactional-in-atomic" else None
    fired = asyncio.run(lint_live(target, bad, bad_atomic))
    assert fired.context.live and fired.context.version is not None
    hits = [f for f in fired.findings if f.rule == rule]
    assert hits, f"{rule} did not fire on {bad}: {[f.rule for f in fired.findings]}"
    finding = hits[0]
    assert finding.why and finding.rewrite and finding.statement and finding.line >= 1
    good = [NEW_TABLE[dialect] if s == "<new>" else s for s in good]
    quiet = asyncio.run(lint_live(target, good, atomic))
    assert rule not in {f.rule for f in quiet.findings}, quiet.findings


def test_add_column_default_depends_on_the_server_version() -> None:
    """Instant on PostgreSQL 11+ / MariaDB 10.3+: flagged only for older servers. (This
    machine's servers are newer, so the old-server side is shown with the version given.)"""
    from covet_core.lint.engine import LintReport, check_migrations
    from covet_core.plugins import Plugins

    plugins = Plugins.load()
    for name, old, new in [(PG, "10.23", "15.4"), (MY, "10.2.44-MariaDB", "10.11.6-MariaDB")]:
        dialect = plugins.dialect(name)
        m = migration(["ALTER TABLE items ADD COLUMN n INT DEFAULT 0"])
        rules = {}
        for text in (old, new):
            from covet_core.lint.context import parse_version

            ctx = Context(live=True, version=parse_version(text), version_text=text)
            raws = check_migrations([m], dialect, ctx, LintReport(context=ctx))
            rules[text] = {r.hit.rule for r in raws}
        assert "add-column-default" in rules[old], name
        assert "add-column-default" not in rules[new], name


def test_live_server_says_add_column_default_is_instant(databases: dict[str, Target]) -> None:
    for name in (PG, MY):
        report = asyncio.run(
            lint_live(databases[name], ["ALTER TABLE items ADD COLUMN n INT DEFAULT 0"], None)
        )
        assert report.findings == [], (name, report.findings)


def test_statement_line_is_the_line_in_the_file(tmp_path: Path) -> None:
    from covet_core.discovery import discover
    from covet_core.plugins import Plugins

    dialect = Plugins.load().dialect(PG)
    (tmp_path / "2024_01_01_000000_x.sql").write_text(
        "-- covet:up\nCREATE TABLE a (id bigint PRIMARY KEY);\n\n"
        "ALTER TABLE b\n  DROP COLUMN c;\n-- covet:down\n"
    )
    migrations = discover(tmp_path, dialect.split_statements)
    report = asyncio.run(lint(migrations, dialect))
    assert [(f.rule, f.line) for f in report.findings] == [("drop-column", 4)]
    assert not report.context.live
