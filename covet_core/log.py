"""The library's logger: structlog events, never configured here.

When the application (or the covet CLI) has configured structlog, events follow that
configuration. Otherwise they go to the stdlib logger ``covet`` as ``key=value`` text, so a
library user sees nothing unless they enable logging (e.g. ``logging.basicConfig(level=INFO)``)
instead of structlog's default of printing everything to stdout.

structlog is imported on the first event, not at import time: importing it costs about 0.1 s
(it pulls in rich for tracebacks), which would double the start-up of ``covet migrate status``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

_pending_setup: Callable[[], None] | None = None
_threshold: int | None = None
_fallback: Any = None
_LEVELS = {"debug": 10, "info": 20, "msg": 20, "warning": 30, "warn": 30, "error": 40}
_LEVELS |= {"exception": 40, "critical": 50}


def set_setup(setup: Callable[[], None] | None, threshold: int | None = None) -> None:
    """Run ``setup`` (which configures structlog) just before the first event. The CLI's hook.

    Events below ``threshold`` (a ``logging`` level) are dropped without importing structlog.
    """
    global _pending_setup, _threshold
    _pending_setup, _threshold = setup, threshold


def _target() -> Any:
    global _pending_setup, _fallback
    import structlog

    if _pending_setup is not None:
        setup, _pending_setup = _pending_setup, None
        setup()
    if structlog.is_configured():
        return structlog.get_logger("covet")
    if _fallback is None:
        _fallback = structlog.wrap_logger(
            logging.getLogger("covet"),
            processors=[
                structlog.stdlib.filter_by_level,
                structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
            ],
            wrapper_class=structlog.stdlib.BoundLogger,
        )
    return _fallback


def _drop(*args: Any, **kwargs: Any) -> None:
    return None


class _Logger:
    def __init__(self, context: dict[str, Any] | None = None) -> None:
        self._context = context or {}

    def bind(self, **values: Any) -> _Logger:
        return _Logger({**self._context, **values})

    def __getattr__(self, name: str) -> Any:
        if _threshold is not None and _LEVELS.get(name, 100) < _threshold:
            return _drop
        target = _target()
        return getattr(target.bind(**self._context) if self._context else target, name)


def get_logger() -> Any:
    """A logger that decides at each call whether structlog has been configured."""
    return _Logger()
