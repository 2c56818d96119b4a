"""Finding, loading, validating and ordering migrations.

Order is the dependency graph, with the timestamp in the name as tie-break among migrations
whose dependencies are all satisfied. Every error names the file it is about.
"""

from __future__ import annotations

import heapq
import importlib.util
import marshal
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType, ModuleType

from covet_core.errors import (
    DiscoveryError,
    DuplicateMigrationError,
    InvalidMigrationNameError,
    MigrationCycleError,
    MigrationLoadError,
    MissingDependencyError,
)
from covet_core.migration import Migration, parse_name

_SKIP_DIRS = {"__pycache__"}


def iter_migration_files(directory: Path, suffix: str = ".py") -> list[Path]:
    """Files under ``directory`` (recursively), skipping ``_private`` and hidden ones."""
    try:
        return _migration_files(directory, suffix)
    except OSError as exc:  # unreadable, a name too long, a loop of symlinks, ...
        raise DiscoveryError(
            f"cannot read the migrations folder: {exc.strerror}", directory
        ) from exc


def _migration_files(directory: Path, suffix: str) -> list[Path]:
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise DiscoveryError("migrations path is not a directory", directory)
    found = []
    for path in directory.rglob(f"*{suffix}"):
        rel = path.relative_to(directory)
        if any(part.startswith((".", "_")) or part in _SKIP_DIRS for part in rel.parts):
            continue
        if not path.is_file() and not path.is_dir():
            # Reading a FIFO would block every command until something writes to it.
            raise DiscoveryError(
                "not a regular file (a FIFO, socket or device); remove it, or start its name "
                "with _ so covet skips it",
                path,
            )
        found.append(path)
    return sorted(found)


def load_migration(path: Path) -> Migration:
    """Import one file and return an instance of its single Migration subclass."""
    name = path.stem
    if parse_name(name) is None:
        raise InvalidMigrationNameError(
            "invalid migration file name; expected YYYY_MM_DD_HHMMSS_lower_case_name.py "
            "with a real date and time",
            path,
        )
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise MigrationLoadError(f"cannot read file: {exc.strerror}", path) from exc
    try:
        code = _compile_cached(path, source)
    except (SyntaxError, ValueError) as exc:
        raise MigrationLoadError(_compile_error(source, exc), path) from exc
    module = _execute(path, code)
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, Migration)
        and obj is not Migration
        and obj.__module__ == module.__name__
    ]
    if len(classes) != 1:
        found = ", ".join(sorted(c.__name__ for c in classes)) or "none"
        raise MigrationLoadError(
            f"expected exactly one Migration subclass, found {len(classes)} ({found})", path
        )
    cls = classes[0]
    for attr in ("dependencies", "forward_sql", "backward_sql"):
        value = getattr(cls, attr)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise MigrationLoadError(f"{cls.__name__}.{attr} must be a list of strings", path)
    if cls.data_steps:
        from covet_core.data.migration import DataMigration

        for step in cls.data_steps:
            if not (
                isinstance(step, type)
                and issubclass(step, DataMigration)
                and isinstance(getattr(step, "table_name", None), str)
            ):
                raise MigrationLoadError(
                    f"{cls.__name__}.data_steps must list DataMigration subclasses that set "
                    f"table_name (found {step!r})",
                    path,
                )
    return cls(name=name, path=path)


_CHECKED_HASH = (0b11).to_bytes(4, "little")  # PEP 552 flags: hash-based, checked


def _compile_cached(path: Path, source: bytes) -> CodeType:
    """Compile, reusing ``__pycache__`` bytecode whose recorded source hash still matches.

    Hash-checked (PEP 552), not timestamp-based: an edit within the same second that keeps the
    file size must never load stale code, or the checksum would vouch for the old SQL.
    Compiling is most of the cost of loading a thousand migrations; this makes it a lookup.
    """
    key = importlib.util.source_hash(source)
    cache = Path(importlib.util.cache_from_source(str(path)))
    try:
        blob = cache.read_bytes()
        if (
            blob[:4] == importlib.util.MAGIC_NUMBER
            and blob[4:8] == _CHECKED_HASH
            and blob[8:16] == key
        ):
            code = marshal.loads(blob[16:])  # noqa: S302 - our own cache of the user's file
            if isinstance(code, CodeType):
                if code.co_filename != str(path):  # the project moved: point tracebacks here
                    code = _refile(code, str(path))
                return code
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = compile(source, str(path), "exec", dont_inherit=True)
    if not sys.dont_write_bytecode:
        blob = importlib.util.MAGIC_NUMBER + _CHECKED_HASH + key + marshal.dumps(code)
        try:
            cache.parent.mkdir(exist_ok=True)
            tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only checkout just compiles every time
    return code


def _refile(code: CodeType, filename: str) -> CodeType:
    consts = tuple(_refile(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _execute(path: Path, code: CodeType) -> ModuleType:
    module_name = f"covet_migration_{abs(hash(str(path)))}_{path.stem}"
    module = ModuleType(module_name)
    module.__file__ = str(path)
    # Registered for the duration of the import only, so classes can resolve their module
    # (dataclasses, typing) while several managers loading one directory stay independent.
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the user's migration file is the point
    except (Exception, SystemExit) as exc:
        line = _line_in(path, exc)
        where = f" at line {line}" if line else ""
        raise MigrationLoadError(
            f"failed to import{where}: {type(exc).__name__}: {exc}", path
        ) from exc
    finally:
        sys.modules.pop(module_name, None)
    return module


def _compile_error(source: bytes, exc: SyntaxError | ValueError) -> str:
    """ "syntax error at line N: ..." with a real line, or without one when Python gives none
    (a NUL byte: its line is found here; an unknown encoding declaration: line 0)."""
    if b"\x00" in source:
        line = source.count(b"\n", 0, source.index(b"\x00")) + 1
        return f"syntax error at line {line}: the file contains a NUL byte; save it as text"
    lineno = getattr(exc, "lineno", None)
    message = getattr(exc, "msg", None) or str(exc)
    where = f" at line {lineno}" if isinstance(lineno, int) and lineno > 0 else ""
    return f"syntax error{where}: {message}"


def _line_in(path: Path, exc: BaseException) -> int | None:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == str(path):
            return frame.lineno
    return None


def _unsplit(text: str) -> list[str]:
    return [text.strip()] if text.strip() else []


def discover(
    directory: Path | str, split: Callable[[str], list[str]] | None = None
) -> list[Migration]:
    """Load every migration under ``directory`` (``.py`` and ``.sql``) in execution order.

    ``split`` is the dialect's statement splitter for ``.sql`` files; without one, each file
    section is a single statement (enough to list and order them).
    """
    from covet_core.sqlfiles import load_sql_migrations

    directory = Path(directory)
    migrations: dict[str, Migration] = {}
    loaded: list[Migration] = [load_migration(p) for p in iter_migration_files(directory)]
    sql_files = iter_migration_files(directory, ".sql")
    if sql_files:
        loaded += load_sql_migrations(sql_files, split or _unsplit)
    for migration in loaded:
        path = migration.path
        if migration.name in migrations:
            other = migrations[migration.name].path
            raise DuplicateMigrationError(
                f"migration name {migration.name!r} is also used by {other}; rename one", path
            )
        migrations[migration.name] = migration
    return order(migrations.values())


def order(migrations: Iterable[Migration]) -> list[Migration]:
    """Topological order (Kahn) taking the earliest-named ready migration first."""
    by_name = {m.name: m for m in migrations}
    dependents: dict[str, list[str]] = {name: [] for name in by_name}
    waiting: dict[str, int] = {}
    for migration in by_name.values():
        deps = list(dict.fromkeys(migration.dependencies))
        for dep in deps:
            if dep not in by_name:
                raise MissingDependencyError(
                    f"depends on {dep!r}, which is not in the migrations directory", migration.path
                )
            dependents[dep].append(migration.name)
        waiting[migration.name] = len(deps)
    # Ties among ready migrations go by version (as each file's own tool orders them), then name.
    ready = [(by_name[name].sort_key, name) for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    result: list[Migration] = []
    while ready:
        _, name = heapq.heappop(ready)
        result.append(by_name[name])
        for child in dependents[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (by_name[child].sort_key, child))
    if len(result) != len(by_name):
        stuck = {name for name, count in waiting.items() if count > 0}
        cycle = _find_cycle(by_name, stuck)
        raise MigrationCycleError(cycle, by_name[cycle[0]].path)
    return result


def _find_cycle(by_name: dict[str, Migration], stuck: set[str]) -> list[str]:
    # Every stuck node has a stuck dependency, so walking dependencies must revisit a node.
    start = min(stuck)
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(d for d in by_name[node].dependencies if d in stuck)
    return [*path[seen[node] :], node]
