"""covet's ``mysqldump`` backup strategy (entry point ``mysqldump`` in group ``covet.plugins``).

Backs up a MySQL / MariaDB database with ``mariadb-dump`` or ``mysqldump`` and restores it with
the ``mariadb`` or ``mysql`` client; the default backup strategy of the ``mysql`` dialect.
Importing this module is cheap: the strategy is imported only when one is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from covet_core import hookimpl

NAME = "mysqldump"


def _mysqldump(
    *, adapter: Any, dialect: Any, options: Mapping[str, Any], plugins: Any = None, **_: Any
) -> Any:
    from covet_backup_mysqldump.strategy import MySQLDumpBackup

    return MySQLDumpBackup(adapter, dialect, options, plugins)


@hookimpl
def covet_register_backup_strategies(register: Callable[[str, Callable[..., Any]], None]) -> None:
    register(NAME, _mysqldump)
