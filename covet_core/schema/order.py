"""Tables in foreign-key order: a referenced table before the tables that reference it (and a
parent table before the tables that inherit from it)."""

from __future__ import annotations

from collections.abc import Sequence

from covet_core.schema.model import ForeignKey, Table, qualified_name


def foreign_key_order(
    tables: Sequence[Table],
) -> tuple[list[Table], dict[str, tuple[ForeignKey, ...]]]:
    """``tables`` sorted so each comes after those it references (by name among equals), and
    for tables in a reference cycle the foreign keys that must be added after creation.

    A self-reference is not a cycle: a table can name itself in its own CREATE TABLE.
    """
    by_key = {t.key: t for t in tables}
    placed: list[Table] = []
    done: set[str] = set()
    deferred: dict[str, list[ForeignKey]] = {}
    visiting: set[str] = set()

    def refs(table: Table) -> list[tuple[ForeignKey, str]]:
        return [
            (fk, key)
            for fk in table.foreign_keys
            if (key := qualified_name(fk.ref_table, fk.ref_schema)) in by_key and key != table.key
        ]

    def visit(table: Table) -> None:
        visiting.add(table.key)
        # A child table (PostgreSQL INHERITS) can only be created after its parents.
        for schema, name in table.parents:
            parent = by_key.get(qualified_name(name, schema))
            if parent is not None and parent.key not in done and parent.key not in visiting:
                visit(parent)
        for fk, key in refs(table):
            if key in done:
                continue
            if key in visiting:
                deferred.setdefault(table.key, []).append(fk)  # closes a cycle
                continue
            visit(by_key[key])
        visiting.discard(table.key)
        done.add(table.key)
        placed.append(table)

    for key in sorted(by_key):
        if key not in done:
            visit(by_key[key])
    return placed, {k: tuple(v) for k, v in deferred.items()}
