"""What happens to carried objects (views, functions, triggers, ...) that both sides have.

A changed definition of what uses tables is replaced. What tables use (a domain, a sequence)
cannot be dropped and made again without what the columns hold or count: it is altered in
place where the dialect says how (``Dialect.alter_carried``), and only warned about
otherwise. A changed view takes every view after it with it (dropped in reverse order,
created again in order): another view may select from it, and PostgreSQL refuses to drop a
view others use, or to replace it with fewer columns in place.
"""

from __future__ import annotations

from collections.abc import Callable

from covet_core.schema.model import CarriedObject, IgnoredObject
from covet_core.schema.operations import (
    AlterObject,
    CreateObject,
    DropObject,
    Operation,
    ReplaceObject,
)

VIEWS = ("view", "materialized view")


AlterCarried = Callable[[CarriedObject, CarriedObject], "list[str] | None"]


def changed_objects(
    target: list[CarriedObject],
    mine: dict[IgnoredObject, CarriedObject],
    warnings: list[str],
    alter: AlterCarried | None = None,
) -> tuple[dict[IgnoredObject, CarriedObject], list[Operation]]:
    """(the current side's definition of each late object whose definition changed, to be
    replaced; the early ones the dialect alters in place (``alter``: ``Dialect.alter_carried``),
    in the target reader's order). Any other changed early object is a warning."""
    changed = {}
    altered: list[Operation] = []
    for obj in target:
        old = mine.get(obj.ignored)
        if old is None or old.create == obj.create:
            continue
        if obj.stage > 1 and old.stage > 1:
            changed[obj.ignored] = old
            continue
        forward = alter(old, obj) if alter is not None else None
        backward = alter(obj, old) if forward is not None and alter is not None else None
        if forward is not None and backward is not None:
            if forward or backward:
                altered.append(AlterObject(old, obj, tuple(forward), tuple(backward)))
        else:
            warnings.append(
                f"{obj} differs between the database and the target; not generated "
                f"(covet does not alter it): {obj.create}"
            )
    return changed, altered


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
