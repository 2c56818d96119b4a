"""covet core: migrations, ordering, history, locking and the plugin hooks. No database drivers."""

from covet_core.hookspecs import hookimpl, hookspec

__all__ = ["hookimpl", "hookspec"]
__version__ = "0.1.0"
