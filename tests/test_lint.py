"""``covet migrate lint`` and the lint before ``up``: live context weighs a finding by the
table's size, silencing, output formats, exit codes, and ``lint = "error"`` refusing a run."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from conftest import Target, write_migration

from covet_core.discovery import discover
from covet_core.lint import lint

BIG_ROWS = 500
THRESHOLD = 100


async def _fill(target: Target) -> None:
    """``small`` (5 rows) and ``big`` (500 rows), with fresh catalog statistics."""
    adapter = target.new_adapter()
    await adapter.connect()
    try:
        for table, rows in (("small", 5), ("big", BIG_ROWS)):
            await adapter.execute(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, name TEXT)")
            values = ", ".join(
                f"({i}, 'name number {i} padded to take some room')" for i in range(rows)
            )
            await adapter.execute(f"INSERT INTO {table} (id, name) VALUES {values}")
            if target.name == "postgresql":
                await adapter.execute(f"ANALYZE {table}")
            elif target.name == "mysql":
                await adapter.execute(f"ANALYZE TABLE {table}")
    finally:
        await adapter.disconnect()


async def _lint_dir(target: Target, directory: Path, **kw: Any) -> Any:
    adapter = target.new_adapter()
    await adapter.connect()
    try:
        migrations = discover(directory, target.dialect.split_statements)
        return await lint(migrations, target.dialect, adapter, **kw)
    finally:
        await adapter.disconnect()


@pytest.mark.parametrize("dialect", ["postgresql", "mysql"])
def test_the_same_index_is_a_warning_on_a_small_table_and_an_error_on_a_large_one(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    target: Target = request.getfixturevalue("pg" if dialect == "postgresql" else "mysql")
    asyncio.run(_fill(target))
    folder = tmp_path / "m"
    folder.mkdir()
    index = (
        "CREATE FULLTEXT INDEX ix_{t} ON {t} (name)"
        if dialect == "mysql"
        else "CREATE INDEX ix_{t} ON {t} (name)"
    )
    write_migration(folder, "2024_01_01_000000_small", [index.format(t="small")])
    write_migration(folder, "2024_01_01_000001_big", [index.format(t="big")])
    report = asyncio.run(_lint_dir(target, folder, large_rows=THRESHOLD))
    by_table = {f.table: f for f in report.findings if f.rule == "blocking-index"}
    assert by_table["small"].severity == "warning", by_table["small"]
    assert by_table["big"].severity == "error", by_table["big"]
    assert "big is large" in by_table["big"].message and "rows" in by_table["big"].message
    assert by_table["big"].rewrite  # says what to write instead
    # Without a database: the static severity, and the report says it is static.
    static = asyncio.run(lint(discover(folder, target.dialect.split_statements), target.dialect))
    assert not static.context.live and static.context.queries == 0


def test_catalog_queries_do_not_grow_with_the_number_of_migrations(
    pg: Target, tmp_path: Path
) -> None:
    asyncio.run(_fill(pg))
    counts = []
    for n in (1, 30):
        folder = tmp_path / f"m{n}"
        folder.mkdir()
        for i in range(n):
            write_migration(
                folder,
                f"2024_01_01_{i:06d}_m",
                [f"CREATE INDEX ix{i} ON big (name)", "ALTER TABLE small DROP COLUMN name"],
            )
        report = asyncio.run(_lint_dir(pg, folder))
        assert len(report.findings) == 2 * n
        counts.append(report.context.queries)
    assert counts == [2, 2]


def test_silencing_by_sql_comment_and_by_python_attribute(pg: Target, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "2024_01_01_000000_sql.sql").write_text(
        "-- covet:up\n"
        "-- covet:allow drop-column nothing reads it since release 41\n"
        "ALTER TABLE a DROP COLUMN b;\n"
        "ALTER TABLE a DROP COLUMN c; -- covet:allow drop-column same, release 41\n"
        "-- covet:allow rename-column\n"
        "ALTER TABLE a RENAME COLUMN d TO e;\n"
        "ALTER TABLE a DROP COLUMN f;\n"
        "-- covet:down\n"
    )
    write_migration(
        folder,
        "2024_01_01_000001_py",
        ["ALTER TABLE a RENAME COLUMN x TO y", "ALTER TABLE a DROP COLUMN z"],
        body='lint_allow = {"rename-column": "the app reads both names"}',
    )
    report = asyncio.run(_lint_dir(pg, folder))
    left = sorted((f.migration.split("_")[-1], f.rule, f.line) for f in report.findings)
    assert left == [
        ("py", "drop-column", 6),
        ("sql", "allow-without-reason", 6),
        ("sql", "drop-column", 7),
        ("sql", "rename-column", 6),
    ], left
    silenced = sorted((s.rule, s.reason) for s in report.silenced)
    assert silenced == [
        ("drop-column", "nothing reads it since release 41"),
        ("drop-column", "same, release 41"),
        ("rename-column", "the app reads both names"),
    ]


def _project(
    tmp_path: Path, target: Target, level: str | None, forward: list[str]
) -> dict[str, str]:
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    write_migration(
        folder, "2024_01_01_000000_items", ["CREATE TABLE items (id BIGINT PRIMARY KEY, qty INT)"]
    )
    write_migration(folder, "2024_01_01_000001_bad", forward)
    if level is not None:
        (tmp_path / "covet.toml").write_text(f'lint = "{level}"\n')
    return {**target.env, "COVET_MIGRATIONS_DIR": str(folder)}


def test_lint_command_formats_and_exit_codes(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    env = _project(tmp_path, target, None, ["ALTER TABLE items DROP COLUMN qty"])
    # items is created by the first pending migration: linting both, nothing is wrong with it.
    assert run("migrate", "lint", env=env).exit_code == 0
    assert run("migrate", "up", "--target", "2024_01_01_000000_items", env=env).exit_code == 0
    only = run("migrate", "lint", env=env)  # the pending one only now
    assert only.exit_code == 1, only.output
    assert "[drop-column]" in only.output and "live context: server" in only.output
    assert "instead:" in only.output and "ddl_lock_timeout" in only.output
    assert run("migrate", "lint", "no_such_migration", env=env).exit_code == 2
    assert run("migrate", "lint", "--format", "yaml", env=env).exit_code == 2

    as_json = run("migrate", "lint", "--format", "json", "2024_01_01_000001_bad", env=env)
    data = json.loads(as_json.output)
    assert [f["rule"] for f in data["findings"]] == ["drop-column"]
    assert data["context"]["live"] is True and data["context"]["catalog_queries"] in (1, 2)

    sarif = json.loads(
        run("migrate", "lint", "--format", "sarif", "2024_01_01_000001_bad", env=env).output
    )
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (sarif_run,) = sarif["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] and [r["id"] for r in driver["rules"]] == ["drop-column"]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    (result,) = sarif_run["results"]
    assert result["ruleId"] == "drop-column" and result["level"] == "error"
    assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("2024_01_01_000001_bad.py")
    assert location["region"]["startLine"] >= 1

    static = run("migrate", "lint", "--static", "--all", env=env)
    assert "static lint: no database connected" in static.output


def test_lint_without_a_database_needs_a_dialect(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    write_migration(folder, "2024_01_01_000000_x", ["ALTER TABLE t DROP COLUMN c"])
    env = {"COVET_MIGRATIONS_DIR": str(folder)}
    assert run("migrate", "lint", env=env).exit_code == 2
    result = run("migrate", "lint", "--dialect", "mysql", env=env)
    assert (
        result.exit_code == 1
        and "static lint" in result.output
        and "[drop-column]" in result.output
    )


def test_up_with_lint_error_refuses_a_bad_migration_and_applies_nothing(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    env = _project(tmp_path, target, "error", [])
    assert run("migrate", "up", env=env).exit_code == 0  # creates items (nothing to object to)
    bad = tmp_path / "migrations"
    write_migration(
        bad,
        "2024_01_01_000002_worse",
        ["ALTER TABLE items ADD COLUMN n INT", "ALTER TABLE items RENAME COLUMN qty TO quantity"],
    )
    refused = run("migrate", "up", env=env)
    assert refused.exit_code == 1, refused.output
    assert "[rename-column]" in refused.output and "nothing was applied" in refused.output
    status = run("migrate", "status", env=env).output
    assert "2024_01_01_000002_worse" in status

    async def columns() -> set[str]:
        adapter = target.new_adapter()
        await adapter.connect()
        try:
            rows = await adapter.fetch_all("SELECT * FROM items")
            assert rows == []
            if target.name == "sqlite":
                return {r["name"] for r in await adapter.fetch_all("PRAGMA table_info(items)")}
            q = "SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'items'"
            if target.name == "mysql":
                q += " AND table_schema = DATABASE()"
            return {next(iter(r.values())) for r in await adapter.fetch_all(q)}
        finally:
            await adapter.disconnect()

    assert {c.lower() for c in asyncio.run(columns())} == {"id", "qty"}
    applied = run("migrate", "up", "--no-lint", env=env)
    assert applied.exit_code == 0, applied.output
    assert {c.lower() for c in asyncio.run(columns())} == {"id", "n", "quantity"}


def test_up_with_lint_warn_prints_and_applies(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    env = _project(tmp_path, target, None, ["ALTER TABLE items DROP COLUMN qty"])
    assert run("migrate", "up", "--target", "2024_01_01_000000_items", env=env).exit_code == 0
    result = run("migrate", "up", env=env)
    assert result.exit_code == 0, result.output
    assert "lint error: 2024_01_01_000001_bad" in result.output and "[drop-column]" in result.output
    assert "Applied 1 migration(s)" in result.output


def test_a_table_an_earlier_migration_created_is_new_unless_the_catalog_has_it(
    pg: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    env = _project(tmp_path, pg, None, ["CREATE INDEX ix_qty ON items (qty)"])
    # Both pending: items will be empty when the index is built.
    assert run("migrate", "lint", env=env).exit_code == 0
    assert run("migrate", "up", "--no-lint", env=env).exit_code == 0
    # Long applied: --all asks the catalog, which has items, so the index is a finding again.
    again = run("migrate", "lint", "--all", env=env)
    assert again.exit_code == 1 and "[blocking-index]" in again.output, again.output
    assert "items is small" in again.output
    static = run("migrate", "lint", "--all", "--static", env=env)
    assert static.exit_code == 0, static.output


def test_every_rule_is_documented() -> None:
    from covet_core.lint import RULES

    doc = (Path(__file__).resolve().parents[1] / "docs" / "lint.md").read_text()
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.severity}" in doc, rule.id
        assert rule.rewrite in doc, rule.id


def test_a_failing_catalog_query_leaves_the_lint_static_with_a_note(pg: Target) -> None:
    import dataclasses

    from covet_core.dialect import Statement
    from covet_core.migration import Migration

    broken = dataclasses.replace(
        pg.dialect, table_stats_sql=lambda names: Statement("SELECT * FROM no_such_catalog")
    )
    m = type("M", (Migration,), {"forward_sql": ["CREATE INDEX ix ON t (a)"]})(name="m")

    async def go() -> Any:
        adapter = pg.new_adapter()
        await adapter.connect()
        try:
            return await lint([m], broken, adapter)
        finally:
            await adapter.disconnect()

    report = asyncio.run(go())
    assert [f.rule for f in report.findings] == ["blocking-index"]
    assert report.findings[0].severity == "error"  # the rule's own: no size to weigh it by
    assert report.context.note and "table sizes unavailable" in report.context.note


def test_up_with_nothing_to_apply_does_not_import_the_parsers(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    import subprocess
    import sys

    env = _project(tmp_path, target, None, ["ALTER TABLE items ADD COLUMN n INT"])
    assert run("migrate", "up", env=env).exit_code == 0
    probe = (
        "import sys\nfrom covet_core.cli import main\nsys.argv = ['covet', 'migrate', 'up']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('parsers:', sorted(m for m in ('pglast', 'sqlglot') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Nothing to apply" in out.stdout and "parsers: []" in out.stdout, out


def test_a_dialect_without_lint_rules_is_reported_as_not_linted(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    import dataclasses

    from covet_core.migration import Migration
    from covet_core.plugins import Plugins

    m = type("M", (Migration,), {"forward_sql": ["ALTER TABLE t DROP COLUMN c"]})(name="m")
    for syntax in (None, "duckdb"):
        dialect = dataclasses.replace(Plugins.load().dialect("sqlite"), lint_syntax=syntax)
        report = asyncio.run(lint([m], dialect))
        assert not report.supported and report.findings == []
        from covet_core.lint.output import text

        assert "not linted" in text(report)


def test_machine_formats_are_one_document_on_stdout_even_with_json_logs(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    write_migration(folder, "2024_01_01_000000_x", ["ALTER TABLE t DROP COLUMN c"])
    env = {"COVET_MIGRATIONS_DIR": str(folder)}
    for fmt in ("json", "sarif"):
        result = run("--log-format", "json", "migrate", "lint", "--dialect", "postgresql",
                     "--format", fmt, env=env)  # fmt: skip
        assert result.exit_code == 1
        json.loads(result.stdout)  # exactly one JSON document


HEAD_CASES = [
    'CREATE TABLE IF NOT EXISTS "we ird" (id INT)',
    "create temp table t (a)",
    "CREATE TABLE main.t (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE t AS SELECT 1",
    "CREATE TABLE [br] (x)",
    "CREATE TABLE `bt` (x)",
    "CREATE TABLE " + "very_long_name_" * 12 + " (x)",  # the name is cut by the head
    "CREATE UNIQUE INDEX IF NOT EXISTS main.i ON t (a) WHERE x = 1",
    'create index "i" on "Weird Table"(a desc)',
    "CREATE INDEX i ON main.t (a)",  # not SQLite's grammar: left to the parser
    "CREATE INDEX i ON " + "t" * 200 + " (a)",
    "CREATE INDEX i ON new_t (a)",
    "DROP TABLE IF EXISTS main.old",
    "drop table t",
    "DROP TABLE new_t",
    "DROP INDEX IF EXISTS i",
    "DROP TABLE t CASCADE",
    "INSERT INTO t (a) SELECT a FROM old_t",
    "REPLACE INTO t VALUES ('" + "x" * 300 + "')",  # the head is cut inside a string
    "/* " + "a comment " * 20 + "*/ CREATE TABLE c (x)",
    "ALTER TABLE t RENAME COLUMN a TO b",
    "UPDATE t SET a = 1",
]


def _corpus_sqlite_statements() -> list[str]:
    root = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    folders = [
        root / "authelia" / "internal" / "storage" / "migrations" / "sqlite",
        root / "openfga" / "assets" / "migrations" / "sqlite",
    ]
    if not all(f.is_dir() for f in folders):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{folders} missing: CI must have shared/corpus beside the checkout")
        return []
    from covet_core.plugins import Plugins

    split = Plugins.load().dialect("sqlite").split_statements
    assert split is not None
    return [
        s
        for folder in folders
        for m in discover(folder, split)
        for direction in ("up", "down")
        for s in m.statements(direction)
    ]


def test_sqlite_heads_give_the_hits_a_full_parse_gives() -> None:
    """SQLite statements the rules read only the first words of are told from their head's
    tokens: on every corpus statement (authelia's 26 and openfga's files, up and down) and
    the edge cases above, the hits, the DDL-or-not and the tables a migration creates must be
    exactly those of sqlglot's full parse."""
    import sqlglot

    from covet_core.lint import generic
    from covet_core.lint.model import Context
    from covet_core.lint.scan import Scan

    statements = HEAD_CASES + _corpus_sqlite_statements()
    quick_reads = 0
    for sql in statements:
        full = [e for e in sqlglot.parse(sql, read="sqlite") if e is not None]
        quick = [node for _, node in generic.parse(sql, "sqlite")]
        quick_reads += quick != full
        outcome = []
        for nodes in (full, quick):
            scan = Scan(created={"new_t"})
            hits = [generic.check(n, scan, Context(), "sqlite") for n in nodes]
            rules = [[(h.rule, h.table, h.severity) for h in hs] for hs in hits]
            outcome.append((rules, [generic.is_ddl(n) for n in nodes], scan.created))
        assert outcome[1] == outcome[0], sql
    # Not vacuous: most statements took the quick path.
    assert quick_reads > len(statements) // 2, (quick_reads, len(statements))


def test_sqlite_heads_leave_several_statements_to_the_parser() -> None:
    from covet_core.lint import generic

    several = generic.parse("CREATE TABLE a (x); DROP TABLE b", "sqlite")
    assert [type(node).__name__ for _, node in several] == ["Create", "Drop"]
