"""What happens to carried objects (views, functions, triggers, ...) that both sides have.

A changed definition of what uses tables is replaced; of what tables use (a domain, a
sequence), replacing would mean dropping what the columns hold or count, so it is altered in
place where the object can say how (a sequence's ALTER SEQUENCE), and said instead otherwise. A changed view takes every view after it with it
(dropped in reverse order, created again in order): another view may select from it, and
PostgreSQL refuses to drop a view others use, or to replace it with fewer columns in place.
"""

from __future__ import annotations

from covet_core.schema.model import CarriedObject, IgnoredObject
from covet_core.schema.operations import (
    AlterObject,
    CreateObject,
    DropObject,
    Operation,
    ReplaceObject,
)

VIEWS = ("view", "materialized view")


def changed_objects(
    target: list[CarriedObject], mine: dict[IgnoredObject, CarriedObject], warnings: list[str]
) -> dict[IgnoredObject, CarriedObject]:
    """The current side's definition of each late object whose definition changed."""
    changed = {}
    for obj in target:
        old = mine.get(obj.ignored)
        if old is None or old.create == obj.create:
            continue
        if obj.stage > 1 and old.stage > 1:
            changed[obj.ignored] = old
        elif obj.alter is None or old.alter is None:
            warnings.append(
                f"{obj} differs between the database and the target; not generated "
                f"(covet does not alter it): {obj.create}"
            )
    return changed


def late_operations(
    target: list[CarriedObject],
    new: set[IgnoredObject],
    changed: dict[IgnoredObject, CarriedObject],
    mine: dict[IgnoredObject, CarriedObject],
) -> list[Operation]:
    """After the tables, in the target reader's order (each uses only what came before it):
    the new objects created, the changed ones replaced, a changed view's group recreated."""
    order = sorted((c for c in target if c.stage > 1), key=lambda c: c.stage)
    first = next((i for i, c in enumerate(order) if c.kind in VIEWS and c.ignored in changed), None)
    group = [
        c
        for i, c in enumerate(order)
        if first is not None and i >= first and c.kind in VIEWS and c.ignored in mine
    ]
    regrouped = {c.ignored for c in group}
    ops: list[Operation] = [DropObject(mine[c.ignored]) for c in reversed(group)]
    for obj in order:
        if obj.ignored in new or obj.ignored in regrouped:
            ops.append(CreateObject(obj))
        elif obj.ignored in changed:
            ops.append(ReplaceObject(changed[obj.ignored], obj))
    return ops


def altered_objects(
    target: list[CarriedObject], mine: dict[IgnoredObject, CarriedObject]
) -> list[Operation]:
    """Objects created before the tables (a sequence) whose definition changed and that can
    be altered in place, in the target reader's order."""
    ops: list[Operation] = []
    for obj in target:
        old = mine.get(obj.ignored)
        if old is None or old.create == obj.create or obj.stage > 1 or old.stage > 1:
            continue
        if obj.alter is not None and old.alter is not None:
            ops.append(AlterObject(old, obj))
    return ops
