"""One plugin manager per MigrationManager (or CLI run), and a typed façade over its hooks.

Built-in plugins are entry points of the ``covet`` distribution and load through pluggy's own
loader exactly like third-party ones. There is deliberately no module-global manager: two
managers in one process never see each other's explicitly passed plugins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from typing import Any, Generic, TypeVar

import pluggy

from covet_core import hookspecs
from covet_core.dialect import Dialect
from covet_core.errors import CovetError, DuplicateNameError, PluginError, UnknownNameError
from covet_core.urls import split_url

AUTOLOAD_ENV = "COVET_DISABLE_PLUGIN_AUTOLOAD"
BUILTIN_DISTRIBUTION = "covet"

T = TypeVar("T")


def build_plugin_manager(
    plugins: Iterable[object] = (), *, autoload: bool | None = None
) -> pluggy.PluginManager:
    """A fresh manager: entry-point plugins (all, or only covet's own), then ``plugins``.

    ``check_pending()`` runs last, so a misspelt hook implementation is a start-up error.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if autoload is None:
        autoload = os.environ.get(AUTOLOAD_ENV, "") in ("", "0")
    try:
        if autoload:
            pm.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP)
        else:
            _load_builtin_entry_points(pm)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(
            f"a covet plugin failed to load ({type(exc).__name__}: {exc}); "
            f"set {AUTOLOAD_ENV}=1 to load only the built-in plugins"
        ) from exc
    for plugin in plugins:
        name = _plugin_name(pm, plugin)
        try:
            pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"cannot register plugin {name!r}: {exc}") from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc
    return pm


def _plugin_name(pm: pluggy.PluginManager, plugin: object) -> str:
    """A readable, unique name for a plugin passed in code (pluggy would use its id())."""
    base = getattr(plugin, "__name__", None) or type(plugin).__name__
    name, n = base, 1
    while pm.get_plugin(name) is not None or pm.is_blocked(name):
        n += 1
        name = f"{base}-{n}"
    return name


def _load_builtin_entry_points(pm: pluggy.PluginManager) -> None:
    try:
        dist = metadata.distribution(BUILTIN_DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise PluginError(
            "covet is not installed as a distribution; run `pip install -e .`"
        ) from exc
    for ep in dist.entry_points.select(group=hookspecs.ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), name=ep.name)


class Registry(Generic[T]):
    """Named objects registered by plugins; duplicates and unknown names are clear errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, tuple[T, str]] = {}

    def add(self, name: str, item: T, plugin: str) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} without a name")
        if name in self._items:
            other = self._items[name][1]
            raise DuplicateNameError(
                f"{self.kind} {name!r} is registered twice, by plugin {other!r} and by {plugin!r}; "
                f"uninstall one of them"
            )
        self._items[name] = (item, plugin)

    def get(self, name: str) -> T:
        try:
            return self._items[name][0]
        except KeyError:
            installed = ", ".join(sorted(self._items)) or "none"
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; installed: {installed} (see `covet plugins`)"
            ) from None

    def owner(self, name: str) -> str:
        return self._items[name][1]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


class Plugins:
    """Typed façade over ``pm.hook``: one method per hook, always called with keywords."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    @classmethod
    def load(cls, plugins: Iterable[object] = (), *, autoload: bool | None = None) -> Plugins:
        return cls(build_plugin_manager(plugins, autoload=autoload))

    def _collect(self, hook_name: str, registry: Registry[Any], adder: Callable[..., None]) -> None:
        # Each implementation gets its own ``register`` so a duplicate names both plugins.
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():

            def register(*args: Any, _plugin: str = impl.plugin_name) -> None:
                adder(registry, _plugin, *args)

            impl.function(register=register)

    @cached_property
    def dialects(self) -> Registry[Dialect]:
        registry: Registry[Dialect] = Registry("dialect")

        def add(reg: Registry[Dialect], plugin: str, dialect: Dialect) -> None:
            if not isinstance(dialect, Dialect):
                raise PluginError(f"plugin {plugin!r} registered {dialect!r}, not a Dialect")
            reg.add(dialect.name, dialect, plugin)

        self._collect("covet_register_dialects", registry, add)
        return registry

    @cached_property
    def lock_strategies(self) -> Registry[Callable[..., Any]]:
        registry: Registry[Callable[..., Any]] = Registry("lock strategy")
        self._collect("covet_register_lock_strategies", registry, _add_named)
        return registry

    @cached_property
    def backup_strategies(self) -> Registry[Callable[..., Any]]:
        registry: Registry[Callable[..., Any]] = Registry("backup strategy")
        self._collect("covet_register_backup_strategies", registry, _add_named)
        return registry

    def dialect(self, name_or_dialect: str | Dialect) -> Dialect:
        if isinstance(name_or_dialect, Dialect):
            return name_or_dialect
        return self.dialects.get(name_or_dialect)

    def dialect_for_url(self, url: str) -> Dialect:
        scheme = split_url(url).scheme.lower()
        if not scheme:
            raise UnknownNameError(
                "database URL has no scheme; expected e.g. sqlite:///app.db or postgresql://host/db"
            )
        for name in self.dialects.names():
            dialect = self.dialects.get(name)
            if scheme in dialect.url_schemes:
                return dialect
        schemes = sorted(s for n in self.dialects.names() for s in self.dialects.get(n).url_schemes)
        raise UnknownNameError(
            f"no installed dialect handles URLs starting {scheme}://; installed schemes: "
            f"{', '.join(schemes) or 'none'} (see `covet plugins`)"
        )

    # -- pure hooks ---------------------------------------------------------------------------

    def render_operation(self, operation: Any, dialect: Dialect) -> list[str]:
        """``covet_render_operation`` overrides first, then the dialect's own renderer."""
        result = self.pm.hook.covet_render_operation(operation=operation, dialect=dialect)
        if result is None and dialect.ddl_renderer is not None:
            result = dialect.ddl_renderer.render(operation)
        if result is None:
            raise PluginError(
                f"no plugin renders {type(operation).__name__} for dialect {dialect.name!r}"
            )
        return list(result)

    def detect_renames(
        self, table: str, removed: list[Any], added: list[Any], dialect: Dialect
    ) -> list[Any]:
        proposals = self.pm.hook.covet_detect_renames(
            table=table, removed=removed, added=added, dialect=dialect
        )
        return [candidate for batch in proposals if batch for candidate in batch]

    # -- events -------------------------------------------------------------------------------

    def _event(self, hook_name: str, **kwargs: Any) -> None:
        # An event plugin's bug must become a clear error, not escape the never-raising API.
        try:
            getattr(self.pm.hook, hook_name)(**kwargs)
        except CovetError:
            raise
        except Exception as exc:
            raise PluginError(f"a {hook_name} hook raised {type(exc).__name__}: {exc}") from exc

    def backup_created(self, backup: Any) -> None:
        self._event("covet_backup_created", backup=backup)

    def before_migration(self, migration: Any, direction: str) -> None:
        self._event("covet_before_migration", migration=migration, direction=direction)

    def after_migration(self, migration: Any, direction: str, result: Any) -> None:
        self._event(
            "covet_after_migration", migration=migration, direction=direction, result=result
        )

    def data_progress(self, migration: Any, step: str, progress: Any) -> None:
        self._event("covet_data_progress", migration=migration, step=step, progress=progress)

    def register_commands(self, cli: Any) -> None:
        self.pm.hook.covet_register_commands(cli=cli)

    # -- introspection ------------------------------------------------------------------------

    def describe(self) -> list[PluginInfo]:
        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        entry_point_dists = _entry_point_distributions()
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist = dists.get(id(plugin))
            if dist is not None:
                dist_name, version = dist.metadata["name"], dist.version
            elif name in entry_point_dists:
                dist_name, version = entry_point_dists[name]
            else:
                dist_name, version = "(registered in code)", "-"
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ()))
            infos.append(PluginInfo(name, dist_name, version, hooks))
        return sorted(infos, key=lambda info: info.name)


def _add_named(registry: Registry[Any], plugin: str, name: str, factory: Any) -> None:
    if not callable(factory):
        raise PluginError(
            f"plugin {plugin!r} registered {registry.kind} {name!r} that is not callable"
        )
    registry.add(name, factory, plugin)


def _entry_point_distributions() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for ep in metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        if ep.dist is not None:
            found[ep.name] = (ep.dist.metadata["name"], ep.dist.version)
    return found
