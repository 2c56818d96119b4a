"""Plain-SQL migration files in covet's form and in golang-migrate, goose, dbmate and Flyway
form: discovery, order, sections, directives, errors (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_migration

from covet_core.discovery import discover
from covet_core.errors import DiscoveryError, DuplicateMigrationError, MigrationLoadError


def naive_split(text: str) -> list[str]:
    return [s.strip() for s in text.split(";") if s.strip()]


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_covet_form_with_directives(tmp_path):
    write(
        tmp_path,
        "2024_01_01_000000_base.sql",
        "-- covet:up\nCREATE TABLE base (id INT);\n-- covet:down\nDROP TABLE base;\n",
    )
    write(
        tmp_path,
        "2023_01_01_000000_index.sql",
        "-- an index that must not lock writes\n-- covet:depends 2024_01_01_000000_base\n"
        "-- covet:no-transaction\n-- covet:up\nCREATE INDEX CONCURRENTLY i ON base (id);\n"
        "-- covet:down\nDROP INDEX CONCURRENTLY i;\n",
    )  # fmt: skip
    base, index = discover(tmp_path, naive_split)
    assert (base.name, index.name) == ("2024_01_01_000000_base", "2023_01_01_000000_index")
    assert index.dependencies == ["2024_01_01_000000_base"], "older, but depends on base"
    assert index.atomic is False and index.atomic_declared
    assert base.atomic is True and not base.atomic_declared
    assert base.forward_sql == ["CREATE TABLE base (id INT)"]
    assert base.backward_sql == ["DROP TABLE base"]


def test_golang_migrate_pairs_in_version_order(tmp_path):
    for version in (1, 2, 10):
        write(tmp_path, f"{version}_step.up.sql", f"CREATE TABLE t{version} (id INT);")
        write(tmp_path, f"{version}_step.down.sql", f"DROP TABLE t{version};")
    write(tmp_path, "V0003.Named_Thing.up.sql", "SELECT 3;")
    names = [m.name for m in discover(tmp_path, naive_split)]
    assert names == ["1_step", "2_step", "V0003.Named_Thing", "10_step"], "numeric, not lexical"
    step = discover(tmp_path, naive_split)[0]
    assert step.forward_sql == ["CREATE TABLE t1 (id INT)"] and step.backward_sql == [
        "DROP TABLE t1"
    ]


def test_goose_blocks_and_no_transaction(tmp_path):
    write(
        tmp_path,
        "20240101120000_func.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE a (id INT);\n"
        "-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql;\n"
        "-- +goose StatementEnd\nCREATE TABLE b (id INT);\n-- +goose Down\nDROP FUNCTION f;\nDROP TABLE b;\nDROP TABLE a;\n",
    )  # fmt: skip
    [migration] = discover(tmp_path, naive_split)
    assert migration.forward_sql == [
        "CREATE TABLE a (id INT)",
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql",
        "CREATE TABLE b (id INT)",
    ]
    assert migration.backward_sql == ["DROP FUNCTION f", "DROP TABLE b", "DROP TABLE a"]
    assert migration.atomic is False


def test_dbmate_and_flyway(tmp_path):
    write(
        tmp_path,
        "20240102000000_users.sql",
        "-- migrate:up transaction:false\nCREATE TABLE u (id INT);\n\n-- migrate:down\nDROP TABLE u;\n",
    )
    write(tmp_path, "V2__add_col.sql", "ALTER TABLE u ADD c INT;")
    write(tmp_path, "U2__add_col.sql", "ALTER TABLE u DROP c;")
    write(tmp_path, "V1.1__first.sql", "SELECT 1;")
    migrations = {m.name: m for m in discover(tmp_path, naive_split)}
    assert migrations["20240102000000_users"].atomic is False
    assert migrations["20240102000000_users"].backward_sql == ["DROP TABLE u"]
    assert migrations["V2__add_col"].backward_sql == ["ALTER TABLE u DROP c"]
    assert (
        migrations["V1.1__first"].sort_key == (1, 1) and not migrations["V1.1__first"].backward_sql
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_x.down.sql": "DROP TABLE x;"}, "without its .up.sql"),
        ({"U3__x.sql": "SELECT 1;"}, "without its versioned"),
        ({"notes.sql": "SELECT 1;"}, "not a migration covet recognises"),
        ({"add_users.sql": "-- covet:up\nSELECT 1;"}, "invalid migration file name"),
        ({"1_x.sql": "-- +goose Down\nSELECT 1;"}, r"no -- \+goose Up section"),
    ],
)
def test_errors_name_the_file(tmp_path, files, message):
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises((DiscoveryError, MigrationLoadError), match=message) as info:
        discover(tmp_path, naive_split)
    assert next(iter(files)) in str(info.value)


def test_sql_and_python_migrations_share_one_namespace(tmp_path):
    write_migration(tmp_path, "2024_01_01_000000_same", ["SELECT 1"])
    write(tmp_path, "2024_01_01_000000_same.sql", "-- covet:up\nSELECT 2;\n")
    with pytest.raises(DuplicateMigrationError, match="2024_01_01_000000_same"):
        discover(tmp_path, naive_split)


def test_checksum_covers_the_text_not_the_split(tmp_path):
    write(tmp_path, "1_a.up.sql", "CREATE TABLE a (id INT);\nCREATE TABLE b (id INT);")
    one = discover(tmp_path, naive_split)[0].checksum()
    two = discover(tmp_path, lambda text: [text])[0].checksum()
    assert one == two, "a different splitter must not make applied files look changed"
    write(tmp_path, "1_a.up.sql", "CREATE TABLE a (id INT);\n\n   CREATE TABLE b (id INT);")
    assert discover(tmp_path, naive_split)[0].checksum() == one, "whitespace is not a change"
    write(tmp_path, "1_a.up.sql", "CREATE TABLE a (id BIGINT);\nCREATE TABLE b (id INT);")
    assert discover(tmp_path, naive_split)[0].checksum() != one


def test_an_empty_down_file_is_a_no_op_but_a_missing_one_is_irreversible(tmp_path):
    write(tmp_path, "1_a.up.sql", "CREATE TABLE a (id INT);")
    write(tmp_path, "1_a.down.sql", "")
    write(tmp_path, "2_b.up.sql", "CREATE TABLE b (id INT);")
    a, b = discover(tmp_path, naive_split)
    assert a.reversible and a.backward_sql == []
    assert not b.reversible
