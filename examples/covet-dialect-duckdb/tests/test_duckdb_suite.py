"""covet's conformance suite on DuckDB, run exactly as its guide tells a third party to.

Every behaviour test its declared capabilities allow runs; the rest skip naming the flag.
``pytest --covet-url duckdb:///...`` would do too; the fixture below makes the base a file in
the test's own folder (the provisioner puts each scratch database beside it).
"""

from pathlib import Path

import pytest

from covet_core.testing.suite import *  # noqa: F403


@pytest.fixture
def covet_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'base.duckdb'}"
