"""The models fitted to a dialect's limits before comparing (its ``Capabilities``).

Names the models generate are shortened to the dialect's identifier limit, the way the models
themselves shorten past the portable 63 bytes, so a dialect with a smaller limit gets names it
keeps exactly. What the dialect cannot express at all (a partial index without
``partial_indexes``) is refused here, naming it, instead of quietly becoming something else.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from covet_core.errors import ConfigError
from covet_core.escaping import one_line
from covet_core.models import fit_identifier
from covet_core.schema.model import Schema, Table

if TYPE_CHECKING:
    from covet_core.dialect import Dialect


def fit_to(dialect: Dialect, target: Schema) -> Schema:
    caps = dialect.capabilities
    if not caps.partial_indexes:
        for table in target.tables.values():
            for index in table.indexes:
                if index.where:
                    raise ConfigError(
                        f"{dialect.name} has no partial indexes: index {one_line(index.name)} on "
                        f"{one_line(table.key)} has WHERE {one_line(index.where)}; drop the "
                        f"condition or index a generated column instead"
                    )
    limit = caps.max_identifier_bytes
    if limit is None:
        return target
    tables = {key: _fit_table(table, limit) for key, table in target.tables.items()}
    return replace(target, tables=tables)


def _fits(name: str | None, limit: int) -> bool:
    if not name or (len(name) <= limit and name.isascii()):  # no encoding needed to know
        return True
    return fit_identifier(name, limit) == name


_NAMED = ("indexes", "unique_constraints", "check_constraints", "foreign_keys")


def _fit_table(table: Table, limit: int) -> Table:
    # Most names already fit: an object (or the table) is copied only when one does not, as
    # copying every constraint of 1,000 tables was a third of comparing them.
    if _fits(table.primary_key_name, limit) and all(
        _fits(item.name, limit) for field in _NAMED for item in getattr(table, field)
    ):
        return table

    def fitted(item: Any) -> Any:
        if _fits(item.name, limit):
            return item
        return replace(item, name=fit_identifier(item.name, limit))

    changes: dict[str, Any] = {}
    for field in _NAMED:
        items = getattr(table, field)
        fits = tuple(fitted(i) for i in items)
        if any(a is not b for a, b in zip(items, fits, strict=True)):
            changes[field] = fits
    pk = table.primary_key_name
    if not _fits(pk, limit):
        changes["primary_key_name"] = fit_identifier(pk, limit)  # type: ignore[arg-type]
    return replace(table, **changes) if changes else table
