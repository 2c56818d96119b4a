"""Fixtures and helpers for covet-dialect-duckdb's tests: real DuckDB files in pytest's
tmp_path, covet run as a user runs it (in a subprocess), no mocks.

A pytest plugin that each test module requires (``pytest_plugins``), not a conftest.py: the
repository's own tests import helpers with ``from conftest import ...``, and a second
conftest module collected in the same run would take that name from them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from covet_core.dialect import Dialect
from covet_core.plugins import Plugins

pytest.importorskip("duckdb")

from covet_dialect_duckdb.adapter import DuckDBAdapter


@pytest.fixture
def dialect() -> Dialect:
    # Found through the entry point, as covet finds it: proves the package is registered.
    return Plugins.load(()).dialect("duckdb")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "app.duckdb"


@pytest.fixture
async def adapter(db_path: Path) -> AsyncIterator[DuckDBAdapter]:
    made = DuckDBAdapter(db_path)
    await made.connect()
    yield made
    await made.disconnect()


Covet = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def covet(tmp_path: Path) -> Covet:
    """``covet(*args)`` runs ``covet --database duckdb:///app.duckdb ARGS`` in ``tmp_path``."""

    def run(
        *args: str, check: bool = True, url: str = "duckdb:///app.duckdb"
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVET_")}
        done = subprocess.run(
            [sys.executable, "-m", "covet_core", "--database", url, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"covet {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    return run
