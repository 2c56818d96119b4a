"""Views, triggers, routines, events and sequences, carried as the server shows them.

covet does not model these, but ``SHOW CREATE ...`` gives the statement that recreates each,
so a generated migration creates them (and drops them in the backward direction) instead of
only naming them. One ``SHOW CREATE`` per object: there is no bulk form that prints the
statement, and ``information_schema.VIEWS`` qualifies every table with the database's name,
which a copy into another database must not keep.

``DEFINER=`` is left out (as ``mysqldump --skip-definer`` does): the object is created by, and
its ``SQL SECURITY DEFINER`` runs as, the user applying the migration, which exists where the
migration runs; the original's definer may not.
"""

from __future__ import annotations

import re
from graphlib import CycleError, TopologicalSorter
from typing import Any

from covet_core.errors import DatabaseError
from covet_core.schema.model import CarriedObject, IgnoredObject
from covet_dialect_mysql import quote

STAGES = {"sequence": 1, "function": 2, "procedure": 2, "view": 3, "trigger": 4, "event": 4}
"""Sequences before the tables (a column's ``DEFAULT NEXTVAL(s)``); after them routines (a
view may call a function; routine bodies are not checked at creation), views, then triggers
and events (they call routines)."""

_DEFINER = re.compile(r" DEFINER=`(?:[^`]|``)*`@`(?:[^`]|``)*`")


async def carried_objects(adapter: Any, named: list[IgnoredObject]) -> list[CarriedObject]:
    """What of ``named`` (the current database's objects) the server shows a statement for."""
    found: list[CarriedObject] = []
    for obj in named:
        if obj.schema is not None or obj.kind not in STAGES:
            continue  # another database's: its text would name this one's tables
        try:
            shown = await adapter.fetch_all(f"SHOW CREATE {obj.kind.upper()} {quote(obj.name)}")
        except DatabaseError:
            continue  # not allowed to see it: it stays named, and a copy refuses it
        text = next((str(v) for v in (shown[0].values() if shown else ()) if _is_create(v)), None)
        if text is None:  # a routine's body is NULL to a user without rights on it
            continue
        found.append(
            CarriedObject(
                obj.kind, obj.name, None, _DEFINER.sub("", text, count=1),
                f"DROP {obj.kind.upper()} {quote(obj.name)}", stage=STAGES[obj.kind],
                dialect="mysql",
            )
        )  # fmt: skip
    return _views_in_order(found)


def _is_create(value: Any) -> bool:
    return isinstance(value, str) and value.upper().startswith("CREATE")


def _views_in_order(objects: list[CarriedObject]) -> list[CarriedObject]:
    """Views after the views they select from: MySQL checks a view's tables when it is
    created. ``SHOW CREATE VIEW`` backticks every identifier, so a view that names another
    as `` `busy` `` uses it (a column of that name only adds an order that does no harm)."""
    views = {o.name: o for o in objects if o.kind == "view"}
    graph = {
        name: {other for other in views if other != name and quote(other) in view.create}
        for name, view in views.items()
    }
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError:
        order = sorted(views)
    rest = [o for o in objects if o.kind != "view"]
    return [*rest, *(views[name] for name in order)]
