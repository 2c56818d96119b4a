"""Finding, loading, validating and ordering migration files (real files under tmp_path)."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

from covet_core.discovery import discover, iter_migration_files, load_migration
from covet_core.errors import (
    DuplicateMigrationError,
    InvalidMigrationNameError,
    MigrationCycleError,
    MigrationLoadError,
    MissingDependencyError,
    UnknownTargetError,
)
from covet_core.migration import Migration
from covet_core.planning import find_migration

IMPORT = "from covet.database.migrations.runner import Migration\n"

A = "2024_10_11_153000_create_users"
B = "2024_10_12_090000_add_email"
C = "2024_10_13_120000_create_orders"
D = "2024_10_14_080000_add_index"


def migration_source(deps: Sequence[str] = (), forward: Sequence[str] = ("SELECT 1",)) -> str:
    return (
        f"{IMPORT}\n\nclass M(Migration):\n"
        f"    dependencies = {list(deps)!r}\n"
        f"    forward_sql = {list(forward)!r}\n"
    )


def write(directory: Path, name: str, body: str | None = None) -> Path:
    """Write ``directory/name.py`` (``name`` may contain sub-folders); default: a valid migration."""
    path = directory / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(migration_source() if body is None else body, encoding="utf-8")
    return path


def names(directory: Path) -> list[str]:
    return [m.name for m in discover(directory)]


# -- ordering ---------------------------------------------------------------------------------


def test_orders_by_timestamp(tmp_path: Path) -> None:
    for name in (C, A, D, B):
        write(tmp_path, name)
    assert names(tmp_path) == [A, B, C, D]


def test_missing_directory_is_empty(tmp_path: Path) -> None:
    assert discover(tmp_path / "nowhere") == []


def test_dependency_overrides_timestamp(tmp_path: Path) -> None:
    # A is stamped first but depends on C, so C (and only C) must move ahead of it.
    write(tmp_path, A, migration_source(deps=[C]))
    write(tmp_path, B)
    write(tmp_path, C)
    assert names(tmp_path) == [B, C, A]


def test_ties_among_ready_migrations_are_broken_by_timestamp(tmp_path: Path) -> None:
    # B becomes ready once C ran; it is then earlier than D, which was ready all along.
    write(tmp_path, A)
    write(tmp_path, B, migration_source(deps=[C]))
    write(tmp_path, C)
    write(tmp_path, D)
    assert names(tmp_path) == [A, C, B, D]


def test_files_in_subdirectories_are_discovered(tmp_path: Path) -> None:
    # Path order (a/ before z/) differs from timestamp order.
    write(tmp_path, f"z_users/{A}")
    write(tmp_path, f"a_orders/2024/{C}")
    write(tmp_path, B)
    found = discover(tmp_path)
    assert [m.name for m in found] == [A, B, C]
    assert found[0].path == tmp_path / "z_users" / f"{A}.py"


def test_private_init_pycache_and_hidden_files_are_skipped(tmp_path: Path) -> None:
    boom = "raise RuntimeError('this file must not be loaded')\n"
    skipped = [
        "_private",
        "__init__",
        f"__pycache__/{B}",
        f".{B}",
        f".hidden/{C}",
        f"_helpers/{D}",
    ]
    for name in skipped:
        write(tmp_path, name, boom)
    (tmp_path / f"{B}.txt").write_text(boom)
    real = write(tmp_path, A)
    assert iter_migration_files(tmp_path) == [real]
    assert names(tmp_path) == [A]


# -- errors -----------------------------------------------------------------------------------


def test_cycle_error_names_the_cycle_and_the_file(tmp_path: Path) -> None:
    path_a = write(tmp_path, A, migration_source(deps=[B]))
    write(tmp_path, B, migration_source(deps=[A]))
    write(tmp_path, C)
    with pytest.raises(MigrationCycleError) as info:
        discover(tmp_path)
    err = info.value
    assert err.cycle == [A, B, A]
    assert f"{A} -> {B} -> {A}" in str(err)
    assert err.path == path_a
    assert str(path_a) in str(err)


def test_self_dependency_is_a_cycle(tmp_path: Path) -> None:
    write(tmp_path, A, migration_source(deps=[A]))
    with pytest.raises(MigrationCycleError) as info:
        discover(tmp_path)
    assert info.value.cycle == [A, A]


def test_missing_dependency_names_file_and_dependency(tmp_path: Path) -> None:
    path = write(tmp_path, B, migration_source(deps=["2024_01_01_000000_gone"]))
    write(tmp_path, A)
    with pytest.raises(MissingDependencyError) as info:
        discover(tmp_path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    assert "2024_01_01_000000_gone" in str(info.value)


def test_duplicate_name_in_two_subdirectories(tmp_path: Path) -> None:
    first = write(tmp_path, f"one/{A}")
    second = write(tmp_path, f"two/{A}")
    with pytest.raises(DuplicateMigrationError) as info:
        discover(tmp_path)
    message = str(info.value)
    assert str(first) in message and str(second) in message
    assert info.value.path in (first, second)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(f"{IMPORT}X = 1\n", "found 0 (none)", id="no-class"),
        pytest.param(
            f"{IMPORT}\n\nclass One(Migration):\n    pass\n\n\nclass Two(Migration):\n    pass\n",
            "found 2 (One, Two)",
            id="two-classes",
        ),
        pytest.param(
            f"{IMPORT}\nclass M(Migration)\n    pass\n", "syntax error at line 3:", id="syntax"
        ),
        pytest.param(
            f"{IMPORT}\nX = 1\nraise RuntimeError('boom')\n",
            "failed to import at line 4: RuntimeError: boom",
            id="raises-at-import",
        ),
        pytest.param(
            f"{IMPORT}\n\nclass M(Migration):\n    forward_sql = ['SELECT 1']\n    x = 1 / 0\n",
            "failed to import at line 6: ZeroDivisionError",
            id="raises-in-class-body",
        ),
        pytest.param(
            f"{IMPORT}import covet_no_such_module_xyz\n",
            "failed to import at line 2: ModuleNotFoundError",
            id="missing-import",
        ),
        pytest.param(
            f"{IMPORT}\n\nclass M(Migration):\n    forward_sql = 'SELECT 1'\n",
            "M.forward_sql must be a list of strings",
            id="forward-sql-is-str",
        ),
        pytest.param(
            f"{IMPORT}\n\nclass M(Migration):\n    forward_sql = ['SELECT 1', 2]\n",
            "M.forward_sql must be a list of strings",
            id="forward-sql-item-not-str",
        ),
        pytest.param(
            f"{IMPORT}\n\nclass M(Migration):\n    dependencies = 'other'\n",
            "M.dependencies must be a list of strings",
            id="dependencies-is-str",
        ),
    ],
)
def test_load_errors_name_the_file(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, A, body)
    with pytest.raises(MigrationLoadError) as info:
        discover(tmp_path)
    assert expected in str(info.value)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    "name",
    [
        "create_users",
        "2024_10_11_153000_Create_users",
        "2024_10_11_153000_create-users",
        "2024_10_11_1530_create_users",
        "2024_13_45_999999_create_users",
        "2023_02_29_120000_leap",
    ],
)
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name)
    with pytest.raises(InvalidMigrationNameError) as info:
        discover(tmp_path)
    assert info.value.path == path
    assert str(path) in str(info.value)


def test_leap_day_is_a_valid_name(tmp_path: Path) -> None:
    write(tmp_path, "2024_02_29_120000_leap")
    assert names(tmp_path) == ["2024_02_29_120000_leap"]


def test_imported_migration_classes_are_not_the_files_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = types.ModuleType("covet_test_shared_migrations")
    exec(  # noqa: S102 - builds a module another migration file imports from
        "from covet_core.migration import Migration\n\n"
        "class Shared(Migration):\n    forward_sql = ['SELECT 0']\n",
        shared.__dict__,
    )
    monkeypatch.setitem(sys.modules, shared.__name__, shared)
    header = "from covet_core.migration import Migration\nfrom covet_test_shared_migrations import Shared\n"

    own = write(tmp_path, A, f"{header}\n\nclass Own(Shared):\n    forward_sql = ['SELECT 1']\n")
    loaded = load_migration(own)
    assert type(loaded).__name__ == "Own"
    assert loaded.forward_sql == ["SELECT 1"]
    assert loaded.name == A and loaded.path == own

    only_imports = write(tmp_path, B, header)
    with pytest.raises(MigrationLoadError, match=r"found 0 \(none\)"):
        load_migration(only_imports)


# -- find_migration ---------------------------------------------------------------------------

NAMES = [
    "2024_10_11_153000_create_users",
    "2024_10_11_160000_add_email",
    "2024_10_12_090000_create_orders",
    "2024_10_13_100000_create_users",
]


@pytest.mark.parametrize(
    ("target", "index"),
    [
        ("2024_10_11_160000_add_email", 1),
        ("2024_10_13_100000_create_users", 3),
        ("add_email", 1),
        ("create_orders", 2),
        ("2024_10_12", 2),
        ("2024_10_11_16", 1),
    ],
)
def test_find_migration_resolves(target: str, index: int) -> None:
    assert find_migration(NAMES, target) == index
    assert find_migration([Migration(name=n) for n in NAMES], target) == index


@pytest.mark.parametrize(
    ("target", "listed"),
    [
        ("2024_10_11", NAMES[:2]),
        ("create_users", [NAMES[0], NAMES[3]]),
    ],
)
def test_find_migration_ambiguous_lists_every_match(target: str, listed: list[str]) -> None:
    with pytest.raises(UnknownTargetError, match="ambiguous") as info:
        find_migration(NAMES, target)
    for name in listed:
        assert name in str(info.value)
    for name in set(NAMES) - set(listed):
        assert name not in str(info.value)


@pytest.mark.parametrize("target", ["drop_everything", "create", "2025", "users"])
def test_find_migration_unknown(target: str) -> None:
    with pytest.raises(UnknownTargetError, match="unknown target") as info:
        find_migration(NAMES, target)
    assert repr(target) in str(info.value)
