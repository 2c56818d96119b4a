"""covet's SQLite dialect runs the conformance suite exactly as a third-party dialect would."""

from pathlib import Path

import pytest

from covet_core.testing.suite import *  # noqa: F403


@pytest.fixture
def covet_url(tmp_path: Path) -> str:
    # SQLite's provisioner makes each scratch database a new file; the base is only opened.
    return f"sqlite:///{tmp_path / 'base.db'}"
