"""A migration's steps in one direction: SQL statements, the Python method, data steps.

``statements_done`` in the history counts these steps, so status, resolve and the runner must
agree on them: they all come from ``steps_for``.
"""

from __future__ import annotations

from dataclasses import dataclass

from covet_core.migration import Migration


@dataclass
class Step:
    label: str
    sql: str | None  # None: the migration's Python method, or a data step
    data: type | None = None  # a DataMigration subclass to run (going up only)


def steps_for(migration: Migration, direction: str) -> list[Step]:
    """SQL statements and the Python method, in the order they run in ``direction``."""
    sql = [Step(s, s) for s in migration.statements(direction)]
    cls = type(migration).__name__
    if direction == "up":
        python = [Step(f"{cls}.forward()", None)] if migration.has_python_forward else []
        data = [
            Step(f"data: {step.__name__} on {getattr(step, 'table_name', '?')}", None, step)
            for step in migration.data_steps
        ]
        return sql + python + data
    python = [Step(f"{cls}.backward()", None)] if migration.has_python_backward else []
    return python + sql


def plan_text(migration: Migration, direction: str) -> list[str]:
    """What a dry run shows: each statement, and a comment line for Python steps."""
    return [
        s.sql if s.sql is not None else f"-- {s.label}" if s.data else f"-- python: {s.label}"
        for s in steps_for(migration, direction)
    ]


def in_doubt(migration: Migration | None, direction: str | None, done: int | None) -> Step | None:
    """The step that was running when covet stopped without recording an error, if the server
    may have finished it on its own (a SQL statement or a Python step; a data step's checkpoint
    says exactly how far it got, so it is never in doubt)."""
    if migration is None or direction is None:
        return None
    steps = steps_for(migration, direction)
    index = done or 0
    if index >= len(steps) or steps[index].data is not None:
        return None
    return steps[index]
