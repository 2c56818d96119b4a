"""Every covet hook. These docstrings are the hook reference (docs/hooks.md mirrors them).

pluggy is synchronous, so every hook is a plain function. Hooks that bring I/O do not perform
it: they *register objects* whose async methods the core awaits. Hooks are always called with
keyword arguments; an implementation may accept any subset of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from covet_core.backup import BackupStrategy
    from covet_core.dialect import Dialect
    from covet_core.locking import LockStrategy

    LockFactory = Callable[..., LockStrategy]
    """``factory(adapter=, dialect=, options=, plugins=, **kwargs) -> LockStrategy``."""
    BackupFactory = Callable[..., BackupStrategy]
    """``factory(adapter=, dialect=, options=, plugins=, **kwargs) -> BackupStrategy``."""

PROJECT_NAME = "covet"
ENTRY_POINT_GROUP = "covet.plugins"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def covet_register_dialects(register: Callable[[Dialect], None]) -> None:
    """Register database dialects: call ``register(dialect)`` once per ``Dialect``.

    Collected from every plugin. Two dialects with one name are a start-up error naming both
    plugins. The dialect's ``adapter_factory`` must import its driver lazily. Return value ignored.
    """


@hookspec
def covet_register_lock_strategies(register: Callable[[str, LockFactory], None]) -> None:
    """Register migration lock strategies: ``register(name, factory)``.

    ``factory(adapter=, dialect=, options=, plugins=)`` returns an object with async ``acquire(timeout)``,
    ``release()``, ``holder()`` and ``force_release()`` (see ``covet_core.locking.LockStrategy``).
    Strategies are chosen by name (``lock = "table"``); duplicates are an error. Accept
    ``**kwargs`` too: later releases may pass more keywords.
    """


@hookspec
def covet_register_backup_strategies(register: Callable[[str, BackupFactory], None]) -> None:
    """Register backup strategies: ``register(name, factory)``.

    ``factory(adapter=, dialect=, options=, plugins=)`` returns an object with an async
    ``create(directory, label)`` returning a ``covet_core.backup.BackupInfo`` (see
    ``covet_core.backup.BackupStrategy``). A team registers its own under a new name and selects
    it with ``backup = "name"``.
    """


@hookspec(firstresult=True)
def covet_render_operation(operation: Any, dialect: Any) -> list[str] | None:
    """Render one schema ``Operation`` as a list of SQL statements for ``dialect``.

    Pure: no I/O. The first non-``None`` result wins, so a plugin overrides one operation for
    one dialect with ``@hookimpl(tryfirst=True)`` and returns ``None`` for everything else.
    """


@hookspec
def covet_detect_renames(
    table: str | None, removed: list[Any], added: list[Any], dialect: Any
) -> list[Any]:
    """Propose rename candidates: columns of ``table`` in ``removed`` that may be ``added``.

    For columns, ``removed`` and ``added`` hold ``(position, Column)`` pairs; with ``table``
    ``None`` they hold whole ``Table`` objects (table renames). Pure: no I/O, no prompts.
    Return ``RenameCandidate`` objects (``covet_core.schema.renames``), possibly none; the
    comparator merges every plugin's proposals and keeps the best-scoring ones.
    """
    return []


@hookspec
def covet_backup_created(backup: Any) -> None:
    """Event: a backup (``BackupInfo``) was written. Upload it, apply retention, notify.

    Called after every backup; an exception here fails the run before any migration is applied.
    """


@hookspec
def covet_before_migration(migration: Any, direction: str) -> None:
    """Event: ``migration`` is about to run, ``direction`` is ``"up"`` or ``"down"``.

    Called inside the migration lock, before its transaction begins. Not called on dry runs.
    """


@hookspec
def covet_after_migration(migration: Any, direction: str, result: Any) -> None:
    """Event: ``migration`` ran in ``direction``; ``result`` is a ``MigrationResult``.

    Called for successes and failures alike (``result.success``). Not called on dry runs.
    """


@hookspec
def covet_data_progress(migration: Any, step: str, progress: Any) -> None:
    """Event: a data step of ``migration`` committed a batch; ``progress`` is a
    ``covet_core.data.Progress`` (processed/total rows, rate, ETA).

    Called after every batch of every data step run by ``migrate up`` or ``resolve --run``;
    keep it quick. The CLI draws its progress bar with it. Not called on dry runs.
    """


@hookspec
def covet_register_commands(cli: Any) -> None:
    """Add commands to the ``covet`` CLI: ``cli`` is the root ``click.Group``.

    Called once when the CLI starts. Use ``cli.add_command(...)`` or ``@cli.command()``.
    """
