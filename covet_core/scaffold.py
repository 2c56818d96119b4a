"""Writing new migration files (``covet migrate create``, ``manager.create_migration``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from covet_core.errors import ConfigError, MissingDependencyError
from covet_core.escaping import comment, docstring_line, python_string
from covet_core.migration import LABEL_RE, STAMP_FORMAT, parse_name

_TEMPLATE = '''"""
Migration: {label}
Created: {created}
Database: {dialect}
"""

from covet.database.migrations.runner import Migration


class {class_name}(Migration):
    """
    {doc}
    """

    dependencies = {dependencies}  # List of migrations this depends on

{forward_notes}    forward_sql = [{forward}]
{backward_notes}
    backward_sql = [{backward}]
'''


def _sql_list(statements: Sequence[str]) -> str:
    if not statements:
        return ""
    items = "".join(f"\n        {python_string(s)}," for s in statements)
    return items + "\n    "


def _doc(lines: Sequence[str]) -> str:
    # Each line lands inside a triple-quoted docstring, indented under the class.
    return "\n    ".join(docstring_line(line) for line in lines)


def class_name(label: str) -> str:
    camel = "".join(part.capitalize() for part in label.split("_"))
    if not camel[:1].isalpha():
        camel = "M" + camel
    return camel + "Migration"


def _as_list(value: str | Sequence[str] | None, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    items = list(value)
    if not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{what} must be a list of SQL strings")
    return items


def write_migration_file(
    directory: Path,
    label: str,
    *,
    forward_sql: str | Sequence[str] | None,
    backward_sql: str | Sequence[str] | None,
    dependencies: Sequence[str] = (),
    known_names: Sequence[str] = (),
    dialect_name: str = "",
    now: datetime | None = None,
    doc: Sequence[str] = (),
    forward_notes: Sequence[str] = (),
    backward_notes: Sequence[str] = (),
) -> Path:
    """Write ``YYYY_MM_DD_HHMMSS_<label>.py`` and return its path; never overwrites a file.

    A timestamp already taken by another migration moves one second later, so two files
    created in the same second still have a defined order. ``doc`` (the class docstring) and
    ``forward_notes`` / ``backward_notes`` (comment lines above ``forward_sql`` /
    ``backward_sql``) are lines of text that may hold
    names read from a database: each becomes exactly one escaped line of the file.
    """
    check_label(label)
    forward = _as_list(forward_sql, "forward_sql")
    backward = _as_list(backward_sql, "backward_sql")
    for dep in dependencies:
        if dep not in known_names:
            raise MissingDependencyError(f"dependency {dep!r} is not a migration in {directory}")
    moment = _free_moment(known_names, now)
    name = f"{moment.strftime(STAMP_FORMAT)}_{label}"
    source = _TEMPLATE.format(
        label=label,
        created=moment.strftime("%Y-%m-%dT%H:%M:%S"),
        dialect=docstring_line(dialect_name),
        class_name=class_name(label),
        doc=_doc(doc) if doc else label.replace("_", " ").capitalize() + ".",
        forward_notes="".join(f"    {comment(line)}\n" for line in forward_notes),
        backward_notes="".join(f"\n    {comment(line)}" for line in backward_notes),
        dependencies=repr(list(dependencies)),
        forward=_sql_list(forward),
        backward=_sql_list(backward),
    )
    compile(source, name, "exec")  # a template bug must never produce an unloadable file
    return write_new_file(directory, f"{name}.py", source)


MAX_LABEL = 120
"""Longer names would not fit a file name (255 bytes) with the timestamp and ``.pyc`` tail."""


def check_label(label: object) -> None:
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise ConfigError(
            f"invalid migration name {label!r}; use lower-case letters, digits and underscores "
            f"(e.g. add_user_email_index)"
        )
    if len(label) > MAX_LABEL:
        raise ConfigError(
            f"the migration name is {len(label)} characters long; use at most {MAX_LABEL}"
        )


def _free_moment(known_names: Sequence[str], now: datetime | None) -> datetime:
    taken = {parsed[0] for name in known_names if (parsed := parse_name(name))}
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    while moment in taken:
        moment += timedelta(seconds=1)
    return moment


def write_new_file(directory: Path, filename: str, text: str) -> Path:
    """Create ``directory/filename`` with ``text``, never overwriting, never leaving half a
    file (a full disk, a read-only folder: a ``ConfigError`` saying so)."""
    path = directory / filename
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle = path.open("x", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot create {path}: {exc.strerror}; check that the migrations folder is writable"
        ) from exc
    try:
        with handle:
            handle.write(text)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}; nothing was written") from exc
    return path


def _sql_section(statements: Sequence[str]) -> str:
    lines = []
    for sql in statements:
        text = sql.strip().rstrip(";").rstrip()
        if text:
            # A trailing -- comment would swallow a ; written on the same line.
            lines.append(text + ("\n;" if "--" in text.splitlines()[-1] else ";"))
    return "\n".join(lines)


def write_sql_migration_file(
    directory: Path,
    label: str,
    *,
    forward_sql: Sequence[str],
    backward_sql: Sequence[str],
    dependencies: Sequence[str] = (),
    known_names: Sequence[str] = (),
    dialect_name: str = "",
    now: datetime | None = None,
) -> Path:
    """Write ``YYYY_MM_DD_HHMMSS_<label>.sql`` in covet's own form (docs/sql-migrations.md).

    Without backward statements the file has no ``-- covet:down`` section, so it cannot be
    rolled back until one is written (an empty section would mean "nothing to undo").
    """
    check_label(label)
    for dep in dependencies:
        if dep not in known_names:
            raise MissingDependencyError(f"dependency {dep!r} is not a migration in {directory}")
    for sql in [*forward_sql, *backward_sql]:
        if any(line.strip().lower().startswith("-- covet:") for line in sql.splitlines()):
            raise ConfigError("a statement contains a -- covet: directive line; remove it")
    moment = _free_moment(known_names, now)
    header = [
        f"-- Migration: {label}",
        f"-- Created: {moment.strftime('%Y-%m-%dT%H:%M:%S')}",
        *([f"-- Database: {dialect_name}"] if dialect_name else []),
        *(f"-- covet:depends {dep}" for dep in dependencies),
        "",
        "-- covet:up",
        _sql_section(forward_sql),
        "",
    ]
    if backward_sql:
        header += ["-- covet:down", _sql_section(backward_sql), ""]
    else:
        header += ["-- Add a '-- covet:down' section with the statements that undo this one."]
    text = "\n".join(header).rstrip("\n") + "\n"
    return write_new_file(directory, f"{moment.strftime(STAMP_FORMAT)}_{label}.sql", text)
