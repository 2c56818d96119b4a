"""Every failure a user can cause is one of these, with a one-line message that says what to do.

The CLI prints ``str(error)`` and exits with ``error.exit_code`` (2: usage or configuration,
1: a migration failed). Messages never contain passwords.
"""

from __future__ import annotations

from pathlib import Path


class CovetError(Exception):
    """Base of every covet error. ``str(err)`` is one line, fit to show a user."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # Multi-line text would break the "one line" promise in logs and CLI output.
        super().__init__(" ".join(message.split()))


class ReadOnlyDatabaseError(CovetError):
    """The server accepts no writes: a hot standby or a read-only replica."""


class ConfigError(CovetError):
    """Missing or invalid configuration (no database, bad URL, unknown key)."""


class UnmanagedObjectsError(ConfigError):
    """The target schema has objects a generated migration cannot create (views, triggers,
    functions): refused unless the caller allows leaving them out (``--allow-unmanaged``)."""


class PluginError(CovetError):
    """A plugin could not be loaded, or registered something twice."""


class UnknownNameError(PluginError):
    """A dialect, lock or backup strategy name that no installed plugin provides."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name in one registry."""


class DiscoveryError(CovetError):
    """A migration file or the set of migrations is invalid. ``path`` names the file."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)


class InvalidMigrationNameError(DiscoveryError):
    pass


class MigrationLoadError(DiscoveryError):
    """Syntax error, import error, or not exactly one Migration class in a file."""


class DuplicateMigrationError(DiscoveryError):
    pass


class MissingDependencyError(DiscoveryError):
    pass


class MigrationCycleError(DiscoveryError):
    def __init__(self, cycle: list[str], path: Path | str | None = None) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle), path)


class UnknownTargetError(CovetError):
    pass


class HistoryError(CovetError):
    """The history table disagrees with the migration files (changed, missing, partial)."""


class IrreversibleMigrationError(CovetError):
    pass


class LockError(CovetError):
    pass


class LockTimeoutError(LockError):
    pass


class LockLostError(LockError):
    """The migration lock was taken away (``covet migrate unlock --force``) during a run."""

    exit_code = 1


class BackupError(CovetError):
    pass


LOCK_TIMEOUT = "55P03"
"""``DatabaseError.sqlstate`` of a statement that gave up waiting for a lock (PostgreSQL's
``lock_not_available``; adapters of other databases translate their own lock-wait timeout to
it, e.g. MySQL error 1205), so the core can retry the migration."""


class DatabaseError(CovetError):
    """A driver error, translated by the adapter so the core never imports a driver."""

    exit_code = 1

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        self.sqlstate = sqlstate
        super().__init__(message)


class IntegrityError(DatabaseError):
    """A constraint (unique, primary key, foreign key, check) was violated."""


class ConnectionFailedError(DatabaseError):
    exit_code = 2


class MigrationFailedError(CovetError):
    """A migration's statement failed. Everything before it stays applied, nothing after ran."""

    exit_code = 1

    def __init__(
        self,
        migration: str,
        *,
        direction: str,
        statement_index: int | None,
        statement: str | None,
        cause: str,
        applied: list[str] | None = None,
        partial: bool = False,
        kept: str | None = None,
        remedy: str | None = None,
    ) -> None:
        self.migration = migration
        self.direction = direction
        self.statement_index = statement_index
        self.statement = statement
        self.cause = cause
        self.applied = applied or []
        self.partial = partial
        where = ""
        if statement_index is not None and statement is not None:
            first_line = statement.strip().splitlines()[0] if statement.strip() else ""
            if len(first_line) > 120:
                first_line = first_line[:117] + "..."
            where = f" at statement {statement_index + 1} ({first_line})"
        verb = "apply" if direction == "up" else "roll back"
        kept = kept or "Some statements ran and could not be undone."
        remedy = remedy or "repair by hand, then run `covet migrate resolve`"
        tail = (
            f" {kept} The migration is recorded as partial: {remedy}."
            if partial
            else " Nothing of it was kept."
        )
        super().__init__(f"Could not {verb} {migration}{where}: {cause}.{tail}")


class LintRefusedError(CovetError):
    """``lint = "error"`` and the plan holds a migration with an error-level lint finding:
    nothing was applied."""

    exit_code = 1
