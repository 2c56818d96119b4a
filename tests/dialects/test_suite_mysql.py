"""covet's MySQL/MariaDB dialect runs the conformance suite exactly as a third-party dialect
would."""

import os

import pytest

from covet_core.testing.suite import *  # noqa: F403


@pytest.fixture
def covet_url() -> str:
    return os.environ.get("COVET_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")
