"""Migration checksums, blank-SQL detection, and writing new migration files."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from covet_core.discovery import discover, load_migration
from covet_core.errors import ConfigError, CovetError, MissingDependencyError
from covet_core.migration import Migration, checksum_matches, compute_checksum, is_blank_sql
from covet_core.scaffold import write_migration_file

CREATE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"
DROP = "DROP TABLE t"


def make(
    forward: list[str] | None = None, backward: list[str] | None = None, **attrs: Any
) -> Migration:
    """A migration instance with the given class attributes (default: CREATE / DROP)."""
    attrs.setdefault("forward_sql", [CREATE] if forward is None else forward)
    attrs.setdefault("backward_sql", [DROP] if backward is None else backward)
    return type("M", (Migration,), attrs)(name="2024_10_11_153000_create_t")


BASE = compute_checksum(make())


# -- compute_checksum -------------------------------------------------------------------------


def test_checksum_format() -> None:
    assert re.fullmatch(r"sha256:1:[0-9a-f]{64}", BASE)
    assert make().checksum() == BASE


@pytest.mark.parametrize(
    "forward",
    [
        ["  CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)  "],
        ["CREATE   TABLE t\n    (id INTEGER PRIMARY KEY,\n     name TEXT)\n"],
        ["\tCREATE TABLE\tt (id  INTEGER  PRIMARY  KEY, name\r\nTEXT)"],
    ],
)
def test_reformatting_whitespace_keeps_the_checksum(forward: list[str]) -> None:
    assert compute_checksum(make(forward)) == BASE


@pytest.mark.parametrize(
    "migration",
    [
        pytest.param(make(["CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT)"]), id="statement"),
        pytest.param(make([CREATE, "CREATE INDEX i ON t (name)"]), id="added-statement"),
        pytest.param(make([]), id="no-statement"),
        pytest.param(make(backward=["DROP TABLE IF EXISTS t"]), id="backward"),
        pytest.param(make(backward=[]), id="no-backward"),
        pytest.param(make(atomic=False), id="atomic"),
        pytest.param(make([DROP], [CREATE]), id="swapped-directions"),
    ],
)
def test_changes_change_the_checksum(migration: Migration) -> None:
    assert compute_checksum(migration) != BASE
    assert not checksum_matches(BASE, migration)


def test_custom_forward_body_is_part_of_the_checksum(tmp_path: Path) -> None:
    def write(folder: str, value: int) -> Migration:
        path = tmp_path / folder / "2024_10_11_153000_create_t.py"
        path.parent.mkdir()
        path.write_text(
            "from covet.database.migrations.runner import Migration\n\n\n"
            "class M(Migration):\n"
            f"    forward_sql = [{CREATE!r}]\n"
            f"    backward_sql = [{DROP!r}]\n\n"
            "    async def forward(self, adapter):\n"
            f"        await adapter.execute('UPDATE t SET name = {value}')\n"
        )
        return load_migration(path)

    one, same, other = write("a", 1), write("b", 1), write("c", 2)
    assert one.has_python_forward
    assert compute_checksum(one) != BASE  # a forward() where there was none
    assert compute_checksum(one) == compute_checksum(same)  # the folder does not matter
    assert compute_checksum(one) != compute_checksum(other)


class WithBackward(Migration):
    forward_sql = [CREATE]
    backward_sql = [DROP]

    async def backward(self, adapter: Any) -> None:
        await adapter.execute("DELETE FROM t")


def test_custom_backward_is_part_of_the_checksum() -> None:
    migration = WithBackward(name="2024_10_11_153000_create_t")
    assert migration.has_python_backward
    assert compute_checksum(migration) != BASE


# -- checksum_matches -------------------------------------------------------------------------


def test_checksum_matches_the_same_migration() -> None:
    assert checksum_matches(BASE, make())
    assert checksum_matches(BASE, make(["   " + CREATE.replace(" ", "\n  ")]))


@pytest.mark.parametrize("stored", [None, ""])
def test_missing_stored_checksum_matches(stored: str | None) -> None:
    # Documented: a row recorded without a checksum (baseline by hand) has nothing to verify.
    assert checksum_matches(stored, make())


@pytest.mark.parametrize(
    "stored",
    [
        BASE.replace("sha256:1:", "sha256:9:"),
        BASE.replace("sha256:1:", "sha256:2:"),
        BASE[:-1] + ("0" if BASE[-1] != "0" else "1"),
        BASE.replace("sha256", "SHA256"),
        BASE.replace("sha256", "md5"),
        BASE.replace(":1:", ":x:"),
        BASE.replace(":1:", ":-1:"),
        BASE + ":extra",
        BASE.split(":")[2],
        "sha256:1",
        "garbage",
        "::",
    ],
)
def test_checksum_matches_rejects(stored: str) -> None:
    assert not checksum_matches(stored, make())


def test_checksum_matches_rejects_version_zero() -> None:
    assert not checksum_matches(BASE.replace("sha256:1:", "sha256:0:"), make())


# -- is_blank_sql -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "blank"),
    [
        ("", True),
        ("  \n\t ", True),
        ("-- only a comment", True),
        ("-- one\n  -- two\n", True),
        ("/* block */", True),
        ("/* multi\nline */ -- and more\n", True),
        ("-- x\nSELECT 1", False),
        ("/* a */ SELECT 1", False),
        ("SELECT 1 -- trailing", False),
        ("SELECT 1", False),
        ("/* never closed SELECT 1", False),
    ],
)
def test_is_blank_sql(sql: str, blank: bool) -> None:
    assert is_blank_sql(sql) is blank


def test_blank_statements_do_not_reach_the_server() -> None:
    migration = make(["-- nothing", CREATE, "  "], ["/* todo */"])
    assert migration.statements("up") == [CREATE]
    assert migration.statements("down") == []
    assert not migration.reversible


# -- write_migration_file ---------------------------------------------------------------------

NOW = datetime(2024, 10, 11, 15, 30, 0, 250_000, tzinfo=UTC)


def new_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(CREATE, id="plain"),
        pytest.param('SELECT """quoted""" AS x', id="triple-quotes"),
        pytest.param("SELECT 'a\\b', E'\\n' AS x", id="backslashes"),
        pytest.param('SELECT 1 AS "x"', id="trailing-double-quote"),
        pytest.param('"t" starts with a quote', id="leading-double-quote"),
        pytest.param("INSERT INTO t VALUES ('héllo ☃ 日本 🚀')", id="unicode"),
        pytest.param("CREATE TABLE t (\n    id INTEGER\n)\n", id="newlines"),
        pytest.param("SELECT '{label}' AS x, '{}' AS y", id="braces"),
        pytest.param("SELECT '''' AS x", id="single-quotes"),
    ],
)
def test_written_file_loads_back_exactly(tmp_path: Path, sql: str) -> None:
    dep = "2024_01_01_000000_init"
    path = write_migration_file(
        tmp_path,
        "add_thing",
        forward_sql=[sql, "SELECT 2"],
        backward_sql=sql,
        dependencies=[dep],
        known_names=[dep],
        dialect_name="sqlite",
        now=NOW,
    )
    assert path == tmp_path / "2024_10_11_153000_add_thing.py"
    loaded = load_migration(path)
    assert loaded.name == "2024_10_11_153000_add_thing"
    assert loaded.forward_sql == [sql, "SELECT 2"]
    assert loaded.backward_sql == [sql]
    assert loaded.dependencies == [dep]
    assert loaded.atomic is True and not loaded.has_python_forward


@pytest.mark.parametrize("sql", ["SELECT 1\r\nFROM t", "SELECT 1\rFROM t"])
def test_written_file_keeps_carriage_returns(tmp_path: Path, sql: str) -> None:
    path = write_migration_file(tmp_path, "crlf", forward_sql=sql, backward_sql=None, now=NOW)
    assert load_migration(path).forward_sql == [sql]


def test_written_file_without_sql_is_discoverable(tmp_path: Path) -> None:
    path = write_migration_file(tmp_path / "new", "2fa", forward_sql=None, backward_sql=None)
    [found] = discover(tmp_path / "new")
    assert found.path == path
    assert (found.forward_sql, found.backward_sql, found.dependencies) == ([], [], [])
    assert type(found).__name__ == "M2faMigration"


@pytest.mark.parametrize(
    ("known", "expected"),
    [
        ([], "2024_10_11_153000"),
        (["2024_10_11_153000_create_users"], "2024_10_11_153001"),
        (
            ["2024_10_11_153001_b", "2024_10_11_153000_a", "2024_10_11_153003_c"],
            "2024_10_11_153002",
        ),
        (["2024_10_11_152959_earlier", "not_a_migration_name"], "2024_10_11_153000"),
    ],
)
def test_timestamp_moves_past_taken_ones(tmp_path: Path, known: list[str], expected: str) -> None:
    path = write_migration_file(
        tmp_path, "add_index", forward_sql=None, backward_sql=None, known_names=known, now=NOW
    )
    assert path.name == f"{expected}_add_index.py"
    assert new_files(tmp_path) == [path.name]


@pytest.mark.parametrize("label", ["Add Index", "x-y", "", "Add_index", "_x", "x_", "x__y", "é"])
def test_invalid_label_is_refused_without_writing(tmp_path: Path, label: str) -> None:
    directory = tmp_path / "migrations"
    with pytest.raises(ConfigError, match="invalid migration name"):
        write_migration_file(directory, label, forward_sql="SELECT 1", backward_sql=None, now=NOW)
    assert new_files(directory) == []


def test_label_with_trailing_newline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        write_migration_file(tmp_path, "add_index\n", forward_sql=None, backward_sql=None, now=NOW)


def test_unknown_dependency_is_refused_without_writing(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    with pytest.raises(MissingDependencyError, match="2024_01_01_000000_gone"):
        write_migration_file(
            directory,
            "add_index",
            forward_sql="SELECT 1",
            backward_sql=None,
            dependencies=["2024_01_01_000000_gone"],
            known_names=["2024_01_01_000000_other"],
            now=NOW,
        )
    assert new_files(directory) == []


def test_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    existing = tmp_path / "2024_10_11_153000_add_index.py"
    existing.write_text("# mine, do not touch\n")
    with pytest.raises((FileExistsError, CovetError)):
        write_migration_file(
            tmp_path, "add_index", forward_sql="SELECT 1", backward_sql=None, now=NOW
        )
    assert existing.read_text() == "# mine, do not touch\n"
    assert new_files(tmp_path) == [existing.name]
