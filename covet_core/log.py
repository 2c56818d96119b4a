"""The library's logger: structlog events, never configured here.

When the application (or the covet CLI) has configured structlog, events follow that
configuration. Otherwise they go to the stdlib logger ``covet`` as ``key=value`` text, so a
library user sees nothing unless they enable logging (e.g. ``logging.basicConfig(level=INFO)``)
instead of structlog's default of printing everything to stdout.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

_fallback = structlog.wrap_logger(
    logging.getLogger("covet"),
    processors=[
        structlog.stdlib.filter_by_level,
        structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
    ],
    wrapper_class=structlog.stdlib.BoundLogger,
)


class _Logger:
    def _target(self) -> Any:
        return structlog.get_logger("covet") if structlog.is_configured() else _fallback

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


def get_logger() -> Any:
    """A logger that decides at each call whether structlog has been configured."""
    return _Logger()
