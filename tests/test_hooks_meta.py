"""Every hook has a test that implements it and a heading in docs/hooks.md (datasette's habit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from covet_core import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("covet_"))


def test_there_are_hooks() -> None:
    assert len(HOOKS) == 10


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_implemented_in_a_test(hook: str) -> None:
    this = Path(__file__).name
    sources = [p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != this]
    assert any(re.search(rf"def {hook}\(", text) for text in sources), f"no test implements {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook: str) -> None:
    docs = (ROOT / "docs" / "hooks.md").read_text()
    assert re.search(rf"^## {hook}\b", docs, re.MULTILINE), f"docs/hooks.md has no '## {hook}'"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook: str) -> None:
    doc = getattr(hookspecs, hook).__doc__ or ""
    assert len(doc.strip()) > 40
