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

    forward_sql = [{forward}]
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
    backward_notes: Sequence[str] = (),
) -> Path:
    """Write ``YYYY_MM_DD_HHMMSS_<label>.py`` and return its path; never overwrites a file.

    A timestamp already taken by another migration moves one second later, so two files
    created in the same second still have a defined order. ``doc`` (the class docstring) and
    ``backward_notes`` (comment lines above ``backward_sql``) are lines of text that may hold
    names read from a database: each becomes exactly one escaped line of the file.
    """
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise ConfigError(
            f"invalid migration name {label!r}; use lower-case letters, digits and underscores "
            f"(e.g. add_user_email_index)"
        )
    forward = _as_list(forward_sql, "forward_sql")
    backward = _as_list(backward_sql, "backward_sql")
    for dep in dependencies:
        if dep not in known_names:
            raise MissingDependencyError(f"dependency {dep!r} is not a migration in {directory}")
    taken = {parsed[0] for name in known_names if (parsed := parse_name(name))}
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    while moment in taken:
        moment += timedelta(seconds=1)
    name = f"{moment.strftime(STAMP_FORMAT)}_{label}"
    source = _TEMPLATE.format(
        label=label,
        created=moment.strftime("%Y-%m-%dT%H:%M:%S"),
        dialect=docstring_line(dialect_name),
        class_name=class_name(label),
        doc=_doc(doc) if doc else label.replace("_", " ").capitalize() + ".",
        backward_notes="".join(f"\n    {comment(line)}" for line in backward_notes),
        dependencies=repr(list(dependencies)),
        forward=_sql_list(forward),
        backward=_sql_list(backward),
    )
    compile(source, name, "exec")  # a template bug must never produce an unloadable file
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    with path.open("x", encoding="utf-8") as handle:
        handle.write(source)
    return path
