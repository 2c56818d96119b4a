"""The built-in plugins and the conformance suite use covet_core the way a third-party dialect
must: only modules on the public list below, and only names they export.

A new entry in ``PUBLIC`` is a promise to plugin authors (docs/writing-a-dialect.md); add one
on purpose, not to make this test pass.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = [
    ROOT / "plugins",
    ROOT / "covet_core" / "testing",
    # The example third-party dialect: the contract must be enough for it too.
    ROOT / "examples" / "covet-dialect-duckdb" / "covet_dialect_duckdb",
]
PUBLIC = {
    "covet_core",  # hookimpl
    "covet_core.adapter",
    "covet_core.backup",
    # User-facing: the project tests (covet_core.testing.project) read the user's settings.
    "covet_core.config",
    "covet_core.data",
    "covet_core.data.bulk",
    "covet_core.data.throttle",
    "covet_core.dialect",
    "covet_core.driver",
    "covet_core.errors",
    "covet_core.locking",
    "covet_core.log",
    "covet_core.manager",
    "covet_core.migration",
    # User-facing: the project tests compare the user's models with the migrated database.
    "covet_core.models",
    "covet_core.plugins",
    "covet_core.provisioning",
    "covet_core.schema",
    "covet_core.schema.comparator",
    "covet_core.schema.generator",
    "covet_core.schema.model",
    "covet_core.schema.operations",
    "covet_core.schema.prefetch",
    "covet_core.schema.reader",
    "covet_core.schema.render",
    "covet_core.session_lock",
    "covet_core.sqlsplit",
    "covet_core.urls",
}


def core_imports(path: Path) -> Iterator[tuple[int, str, str]]:
    """``(line, module, name)`` for each covet_core name ``path`` imports (``name`` is ``""``
    for ``import covet_core.x``)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "covet_core":
                for alias in node.names:
                    yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "covet_core":
                    yield node.lineno, alias.name, ""


def sources() -> list[Path]:
    return sorted(p for folder in CHECKED for p in folder.rglob("*.py"))


def test_the_checked_folders_exist_and_import_covet_core() -> None:
    # Guards the test itself: a moved folder must not make it pass by checking nothing.
    assert any(True for p in sources() for _ in core_imports(p))
    assert {p.parent.name for p in sources()} >= {
        "covet_dialect_sqlite", "covet_dialect_postgresql", "covet_dialect_mysql", "suite",
        "covet_dialect_duckdb",
    }  # fmt: skip


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_public_covet_core_names_are_imported(path: Path) -> None:
    own_package = "covet_core.testing" if "covet_core" in path.relative_to(ROOT).parts else None
    problems = []
    for line, module, name in core_imports(path):
        if own_package and (module == own_package or module.startswith(own_package + ".")):
            continue  # the suite's own modules
        where = f"{path.relative_to(ROOT)}:{line}"
        if module not in PUBLIC:
            problems.append(f"{where}: {module} is not a public covet_core module")
            continue
        if name.startswith("_"):
            problems.append(f"{where}: {module}.{name} is private")
            continue
        exported = getattr(importlib.import_module(module), "__all__", None)
        if name and name != "*" and exported is not None and name not in exported:
            problems.append(f"{where}: {module}.{name} is not in {module}.__all__")
    assert problems == []


def test_a_private_import_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from covet_core.runner import _helper\nimport covet_core.cli\n")
    found = {(module, name) for _, module, name in core_imports(bad)}
    assert found == {("covet_core.runner", "_helper"), ("covet_core.cli", "")}
    assert not {module for module, _ in found} <= PUBLIC
