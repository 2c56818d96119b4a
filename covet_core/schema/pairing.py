"""Pairing the tables and columns of two schemas: explicit renames first, then the proposals of
``covet_detect_renames`` plugins above the threshold; and the current schema as it reads once
those renames ran (the server rewrites index, key and foreign-key references itself)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from covet_core.errors import ConfigError
from covet_core.escaping import one_line
from covet_core.schema.diff import SchemaDiff
from covet_core.schema.model import ForeignKey, Schema, Table, qualified_name
from covet_core.schema.renames import RenameCandidate

if TYPE_CHECKING:
    from covet_core.dialect import Dialect


def normalise_flag(flag: str) -> str:
    """Flags are compared as spelt: names may hold spaces, dots and colons."""
    return flag


def resolve_flag(flag: str, current: Schema) -> tuple[str, str | None, str]:
    """``table.old:new`` or ``old_table:new_table`` as ``(table, column or None, new)``.

    Names may themselves hold ``.`` and ``:``, so every split is tried against the tables and
    columns that exist; a flag that more than one reading fits is refused, never guessed.
    """
    readings: list[tuple[str, str | None, str]] = []
    for i, ch in enumerate(flag):
        if ch != ":" or not flag[:i] or not flag[i + 1 :]:
            continue
        left, new = flag[:i], flag[i + 1 :]
        if left in current.tables:
            readings.append((left, None, new))
        for j, dot in enumerate(left):
            table, column = left[:j], left[j + 1 :]
            if dot == "." and table in current.tables and current.tables[table].has_column(column):
                readings.append((table, column, new))
    if len(readings) == 1:
        return readings[0]
    if readings:
        raise ConfigError(
            f"rename {one_line(flag)!r} can be read {len(readings)} ways; rename one at a time "
            f"on a terminal (covet asks about each guess) instead"
        )
    left, sep, _ = flag.partition(":")
    if not sep:
        raise ConfigError(
            f"rename {one_line(flag)!r} must look like table.old:new or old_table:new_table"
        )
    table, _, column = left.rpartition(".")
    if table in current.tables:
        raise ConfigError(
            f"rename {one_line(flag)!r}: table {one_line(table)!r} has no column "
            f"{one_line(column)!r} in the database"
        )
    missing = table or left
    raise ConfigError(f"rename {one_line(flag)!r}: no table {one_line(missing)!r} in the database")


@dataclass
class Pair:
    current: Table
    target: Table
    columns: dict[str, str] = field(default_factory=dict)
    """Column renames, old name -> new name."""


class Pairing:
    """Mixed into the comparator's plan; ``c`` is the ``SchemaComparator`` (its settings)."""

    c: Any
    dialect: Dialect | None
    current: Schema
    target: Schema
    diff: SchemaDiff
    explicit_tables: dict[str, str]
    explicit_columns: dict[str, dict[str, str]]
    table_renames: dict[str, str]
    pairs: list[Pair]
    _column_renames: dict[str, dict[str, str]]

    def parse_explicit(self) -> None:
        for item in self.c.renames:
            if isinstance(item, RenameCandidate):
                if item.kind == "table":
                    self.explicit_tables[item.old] = item.new
                else:
                    self.explicit_columns.setdefault(item.table, {})[item.old] = item.new
                continue
            table, column, new = resolve_flag(item, self.current)
            if column is not None:
                self.explicit_columns.setdefault(table, {})[column] = new
            else:
                schema = self.current.tables[table].schema
                self.explicit_tables[table] = (
                    f"{schema}.{new}" if schema and "." not in new else new
                )

    def choose(
        self, candidates: list[RenameCandidate], taken_old: set[str], taken_new: set[str]
    ) -> list[RenameCandidate]:
        chosen = []
        for cand in sorted(candidates, key=lambda r: (-r.score, r.old, r.new)):
            if cand.flag.replace(" ", "") in self.c.rejected or str(cand) in self.c.rejected:
                continue
            if cand.old in taken_old or cand.new in taken_new:
                continue
            if cand.score < self.c.threshold:
                if not any(
                    p.old == cand.old or p.new == cand.new for p in self.diff.possible_renames
                ):
                    self.diff.possible_renames.append(cand)
                continue
            taken_old.add(cand.old)
            taken_new.add(cand.new)
            chosen.append(cand)
        return chosen

    def pair_tables(self) -> list[Pair]:
        cur, tgt = self.current.tables, self.target.tables
        renamed: dict[str, str] = {}
        for old, new in self.explicit_tables.items():
            if new not in tgt or new in cur:
                raise ConfigError(f"rename {old} -> {new}: the models have no new table {new!r}")
            renamed[old] = new
            self.diff.renames.append(RenameCandidate("", old, new, 1.0, "table", "explicit"))
        removed = [t for k, t in cur.items() if k not in tgt and k not in renamed]
        added = [t for k, t in tgt.items() if k not in cur and k not in renamed.values()]
        if removed and added:
            proposals = self.c.propose(None, removed, added, self.dialect)
            for cand in self.choose([p for p in proposals if p.kind == "table"], set(), set()):
                renamed[cand.old] = cand.new
                self.diff.renames.append(cand)
                self.diff.detected_renames.append(cand)
        pairs = [Pair(t, tgt[k]) for k, t in cur.items() if k in tgt]
        pairs += [Pair(cur[old], tgt[new]) for old, new in renamed.items()]
        self.table_renames = renamed
        for pair in pairs:
            self.pair_columns(pair)
        self._column_renames = {p.current.key: p.columns for p in pairs if p.columns}
        return sorted(pairs, key=lambda p: p.target.key)

    def pair_columns(self, pair: Pair) -> None:
        c, t = pair.current, pair.target
        explicit = {**self.explicit_columns.get(c.key, {}), **self.explicit_columns.get(t.key, {})}
        for old, new in explicit.items():
            if not c.has_column(old) or not t.has_column(new) or t.has_column(old):
                raise ConfigError(
                    f"rename {c.key}.{old} -> {new}: needs column {old!r} in the database and "
                    f"{new!r} (not {old!r}) in the models"
                )
            pair.columns[old] = new
            self.diff.renames.append(RenameCandidate(t.key, old, new, 1.0, "column", "explicit"))
        old_names = {col.name for col in c.columns}
        new_names = {col.name for col in t.columns}
        removed = [
            (i, col)
            for i, col in enumerate(c.columns)
            if col.name not in new_names and col.name not in pair.columns
        ]
        added = [
            (i, col)
            for i, col in enumerate(t.columns)
            if col.name not in old_names and col.name not in pair.columns.values()
        ]
        if removed and added:
            proposals = self.c.propose(t.key, removed, added, self.dialect)
            column_proposals = [replace(p, table=t.key) for p in proposals if p.kind == "column"]
            for cand in self.choose(
                column_proposals, set(pair.columns), set(pair.columns.values())
            ):
                pair.columns[cand.old] = cand.new
                self.diff.renames.append(cand)
                self.diff.detected_renames.append(cand)

    def renamed_current(self, pair: Pair) -> Table:
        """The current table as it reads after the renames: what the server itself rewrites."""
        table = pair.current
        cols = pair.columns
        touched = cols or any(
            qualified_name(fk.ref_table, fk.ref_schema) in self._column_renames
            or qualified_name(fk.ref_table, fk.ref_schema) in self.table_renames
            for fk in table.foreign_keys
        )
        if not touched:  # the common case: nothing renamed here or in what it references
            if (table.name, table.schema) == (pair.target.name, pair.target.schema):
                return table
            return replace(table, name=pair.target.name, schema=pair.target.schema)

        def names(items: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(cols.get(n, n) for n in items)

        return replace(
            table,
            name=pair.target.name,
            schema=pair.target.schema,
            columns=tuple(replace(col, name=cols.get(col.name, col.name)) for col in table.columns),
            primary_key=names(table.primary_key),
            indexes=tuple(replace(i, columns=names(i.columns)) for i in table.indexes),
            unique_constraints=tuple(
                replace(u, columns=names(u.columns)) for u in table.unique_constraints
            ),
            foreign_keys=tuple(self.renamed_fk(fk, cols) for fk in table.foreign_keys),
        )

    def renamed_fk(self, fk: ForeignKey, own: dict[str, str]) -> ForeignKey:
        ref_key = qualified_name(fk.ref_table, fk.ref_schema)
        new_key = self.table_renames.get(ref_key, ref_key)
        ref_cols = self._column_renames.get(ref_key, {})
        ref = self.target.tables.get(new_key)
        return replace(
            fk,
            columns=tuple(own.get(n, n) for n in fk.columns),
            ref_table=ref.name if ref else fk.ref_table,
            ref_schema=ref.schema if ref else fk.ref_schema,
            ref_columns=tuple(ref_cols.get(n, n) for n in fk.ref_columns),
        )
