"""``SchemaComparator``: the operations that turn one schema into another. Pure: no I/O, no
prompts; renames come from the caller (explicit) or from ``covet_detect_renames`` plugins.

Both schemas first pass through the dialect's ``schema_normaliser``, so what the server cannot
tell apart (MySQL's BOOLEAN and TINYINT(1), PostgreSQL's ``'x'::text`` default) never shows up
as a change: a schema compared with itself read back gives no operations.

Order of the result: new enum types and labels; table renames; foreign keys that go away; per
existing table (by name) index and constraint drops, column renames, adds, alters, drops, then
new constraints and indexes; new tables in foreign-key order; new foreign keys; dropped tables
in reverse foreign-key order; dropped enum types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from covet_core.dialect import Capabilities, Dialect
from covet_core.errors import ConfigError
from covet_core.schema.diff import SchemaDiff
from covet_core.schema.model import (
    CheckConstraint,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)
from covet_core.schema.operations import (
    AddColumn,
    AddConstraint,
    AddEnumValue,
    AlterColumn,
    CreateEnum,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropEnum,
    DropIndex,
    DropTable,
    Operation,
    RebuildTable,
    RenameColumn,
    RenameTable,
)
from covet_core.schema.order import foreign_key_order
from covet_core.schema.renames import RenameCandidate

if TYPE_CHECKING:
    from covet_core.plugins import Plugins

DEFAULT_THRESHOLD = 0.7
PORTABLE = Capabilities(transactional_ddl=True, enum_types=True, partial_indexes=True)
T = TypeVar("T")


class SchemaComparator:
    """``SchemaComparator().compare(current, target) -> SchemaDiff``.

    ``renames`` states renames explicitly: ``"users.username:user_name"`` (a column) or
    ``"users:people"`` (a table). ``detect_renames=False`` turns guessing off; pairs in
    ``rejected_renames`` (same spelling) are never taken for renames.
    """

    def __init__(
        self,
        dialect: str | Dialect | None = None,
        *,
        renames: Iterable[str | RenameCandidate] = (),
        detect_renames: bool = True,
        rejected_renames: Iterable[str] = (),
        threshold: float = DEFAULT_THRESHOLD,
        plugins: Plugins | Iterable[object] | None = None,
    ) -> None:
        self._dialect = dialect
        self._plugins = plugins
        self.renames = list(renames)
        self.detect = detect_renames
        self.rejected = {_normalise_flag(r) for r in rejected_renames}
        self.threshold = threshold

    def plugins(self) -> Plugins:
        from covet_core.plugins import Plugins

        if not isinstance(self._plugins, Plugins):
            self._plugins = Plugins.load(self._plugins or ())
        return self._plugins

    def dialect_for(self, current: Schema, target: Schema) -> Dialect | None:
        name = self._dialect or current.dialect or target.dialect
        if name is None or isinstance(name, Dialect):
            return name
        return self.plugins().dialect(name)

    def compare(self, current: Schema, target: Schema) -> SchemaDiff:
        dialect = self.dialect_for(current, target)
        raw = current
        if dialect is not None and dialect.schema_normaliser is not None:
            current = dialect.schema_normaliser(current)
            target = dialect.schema_normaliser(target)
        plan = _Plan(self, dialect, current, target)
        plan.raw = raw
        return plan.run()

    def propose(
        self, table: str | None, removed: list[Any], added: list[Any], dialect: Dialect | None
    ) -> list[RenameCandidate]:
        if not self.detect:
            return []
        if self._plugins is None and dialect is None:
            from covet_core.schema import renames

            return renames.covet_detect_renames(table, removed, added, dialect)
        return list(self.plugins().detect_renames(table, removed, added, dialect))  # type: ignore[arg-type]


def _normalise_flag(flag: str) -> str:
    return flag.replace(" ", "")


@dataclass
class _Pair:
    current: Table
    target: Table
    columns: dict[str, str] = field(default_factory=dict)
    """Column renames, old name -> new name."""


class _Plan:
    def __init__(
        self, comparator: SchemaComparator, dialect: Dialect | None, current: Schema, target: Schema
    ) -> None:
        self.c = comparator
        self.dialect = dialect
        self.caps = dialect.capabilities if dialect is not None else PORTABLE
        self.current = current
        self.target = target
        self.diff = SchemaDiff(dialect=dialect.name if dialect else None)
        self.diff.ignored = list(current.ignored)
        self.explicit_tables: dict[str, str] = {}
        self.explicit_columns: dict[str, dict[str, str]] = {}
        self.raw = current

    # -- renames ------------------------------------------------------------------------------

    def parse_explicit(self) -> None:
        for item in self.c.renames:
            if isinstance(item, RenameCandidate):
                if item.kind == "table":
                    self.explicit_tables[item.old] = item.new
                else:
                    self.explicit_columns.setdefault(item.table, {})[item.old] = item.new
                continue
            left, sep, new = _normalise_flag(item).partition(":")
            if not sep or not left or not new:
                raise ConfigError(
                    f"rename {item!r} must look like table.old:new or old_table:new_table"
                )
            table, dot, column = left.rpartition(".")
            if dot and table in self.current.tables:
                self.explicit_columns.setdefault(table, {})[column] = new
            elif left in self.current.tables:
                schema = self.current.tables[left].schema
                self.explicit_tables[left] = f"{schema}.{new}" if schema and "." not in new else new
            else:
                raise ConfigError(
                    f"rename {item!r}: no table {(table if dot else left)!r} in the database"
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

    def pair_tables(self) -> list[_Pair]:
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
        pairs = [_Pair(t, tgt[k]) for k, t in cur.items() if k in tgt]
        pairs += [_Pair(cur[old], tgt[new]) for old, new in renamed.items()]
        self.table_renames = renamed
        for pair in pairs:
            self.pair_columns(pair)
        return sorted(pairs, key=lambda p: p.target.key)

    def pair_columns(self, pair: _Pair) -> None:
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
        removed = [
            (i, col)
            for i, col in enumerate(c.columns)
            if not t.has_column(col.name) and col.name not in pair.columns
        ]
        added = [
            (i, col)
            for i, col in enumerate(t.columns)
            if not c.has_column(col.name) and col.name not in pair.columns.values()
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

    def renamed_current(self, pair: _Pair) -> Table:
        """The current table as it reads after the renames: what the server itself rewrites."""
        table = pair.current
        cols = pair.columns

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
        from covet_core.schema.model import qualified_name

        ref_key = qualified_name(fk.ref_table, fk.ref_schema)
        new_key = self.table_renames.get(ref_key, ref_key)
        ref_cols = next((p.columns for p in self.pairs if p.current.key == ref_key), {})
        ref = self.target.tables.get(new_key)
        return replace(
            fk,
            columns=tuple(own.get(n, n) for n in fk.columns),
            ref_table=ref.name if ref else fk.ref_table,
            ref_schema=ref.schema if ref else fk.ref_schema,
            ref_columns=tuple(ref_cols.get(n, n) for n in fk.ref_columns),
        )

    # -- the plan -----------------------------------------------------------------------------

    def run(self) -> SchemaDiff:
        self.parse_explicit()
        self.pairs = self.pair_tables()
        ops: list[Operation] = []
        ops += self.enum_changes()
        ops += [
            RenameTable(
                self.current.tables[o].name,
                self.target.tables[n].name,
                self.current.tables[o].schema,
            )
            for o, n in sorted(self.table_renames.items())
        ]
        fk_drops: list[Operation] = []
        fk_adds: list[Operation] = []
        table_ops: list[Operation] = []
        for pair in self.pairs:
            local, drops, adds = self.table_changes(pair)
            table_ops += local
            fk_drops += drops
            fk_adds += adds
        created, deferred = self.created_tables()
        dropped = self.dropped_tables()
        ops += fk_drops + table_ops + created + fk_adds + deferred + dropped
        ops += self.dropped_enums()
        self.diff.operations = ops
        return self.diff

    def table_changes(
        self, pair: _Pair
    ) -> tuple[list[Operation], list[Operation], list[Operation]]:
        before = self.renamed_current(pair)
        after = pair.target
        key, name, schema = after.key, after.name, after.schema
        if before.primary_key != after.primary_key:
            self.diff.warnings.append(
                f"the primary key of {key} changes ({', '.join(before.primary_key) or 'none'} -> "
                f"{', '.join(after.primary_key) or 'none'}): not generated, write it by hand"
            )
        renames = [RenameColumn(name, o, n, schema) for o, n in pair.columns.items()]
        adds: list[Operation] = []
        alters: list[Operation] = []
        for col in after.columns:
            if not before.has_column(col.name):
                adds.append(AddColumn(name, col, schema))
            elif (old := before.column(col.name)) != col:
                alters.append(AlterColumn(name, old, col, schema))
        drops: list[Operation] = [
            DropColumn(name, col, schema)
            for col in before.columns
            if not after.has_column(col.name)
        ]
        idx_drop, idx_add = _match(before.indexes, after.indexes, _index_shape)
        kept = [i for i in idx_drop if i.expression and not i.columns]
        for index in kept:
            self.diff.warnings.append(
                f"expression index {index.name} on {key} is not in the models; kept as it is"
            )
        idx_drop = [i for i in idx_drop if i not in kept]
        uq_drop, uq_add = _match(before.unique_constraints, after.unique_constraints, _unique_shape)
        ck_drop, ck_add = _match(before.check_constraints, after.check_constraints, _check_shape)
        con_drop: list[Any] = [*uq_drop, *ck_drop]
        con_add: list[Any] = [*uq_add, *ck_add]
        fk_drop, fk_add = _match(before.foreign_keys, after.foreign_keys, _fk_shape)
        con_drop = [self.server_named(pair, c) for c in con_drop]
        fk_drop = [self.server_named(pair, fk) for fk in fk_drop]
        local: list[Operation] = (
            [DropIndex(name, i, schema) for i in idx_drop]
            + [DropConstraint(name, c, schema) for c in con_drop]
            + renames
            + adds
            + alters
            + drops
            + [AddConstraint(name, c, schema) for c in con_add]
            + [CreateIndex(name, i, schema) for i in idx_add]
        )
        fk_drops: list[Operation] = [DropConstraint(name, fk, schema) for fk in fk_drop]
        fk_adds: list[Operation] = [AddConstraint(name, fk, schema) for fk in fk_add]
        if self.needs_rebuild(before, local + fk_drops + fk_adds):
            column_map = tuple(
                (pair.columns.get(col.name, col.name), col.name)
                for col in pair.current.columns
                if after.has_column(pair.columns.get(col.name, col.name))
            )
            start = replace(pair.current, name=name, schema=schema)
            rebuild = RebuildTable(start, after, column_map, tuple(local + fk_drops + fk_adds))
            return [rebuild], [], []
        return local, fk_drops, fk_adds

    def server_named(self, pair: _Pair, constraint: Any) -> Any:
        """A constraint to drop carries the name the server gave it, even where the
        normaliser folded generated names away so that they compare equal to none."""
        if constraint.name is not None:
            return constraint
        raw = self.raw.tables.get(pair.current.key)
        if raw is None:
            return constraint
        kind = type(constraint)
        pool: tuple[Any, ...] = {
            UniqueConstraint: raw.unique_constraints,
            CheckConstraint: raw.check_constraints,
            ForeignKey: raw.foreign_keys,
        }.get(kind, ())
        current: list[Any] = [
            *pair.current.unique_constraints,
            *pair.current.check_constraints,
            *pair.current.foreign_keys,
        ]
        named = {c.name for c in current if c.name}
        candidates = [c for c in pool if c.name and c.name not in named]
        if kind is not CheckConstraint:
            rename = pair.columns
            candidates = [
                c
                for c in candidates
                if tuple(rename.get(n, n) for n in c.columns) == constraint.columns
            ]
        if len(candidates) > 1 and kind is CheckConstraint:
            text = " ".join(constraint.expression.split()).lower()
            candidates = [c for c in candidates if " ".join(c.expression.split()).lower() == text]
        return replace(constraint, name=candidates[0].name) if len(candidates) == 1 else constraint

    def needs_rebuild(self, before: Table, ops: list[Operation]) -> bool:
        caps = self.caps
        for op in ops:
            if isinstance(op, AlterColumn) and not caps.alter_column:
                return True
            if isinstance(op, AddConstraint | DropConstraint) and not caps.alter_constraint:
                return True
            if isinstance(op, DropColumn) and (
                not caps.drop_column
                or (not caps.alter_constraint and _column_is_keyed(before, op.column.name))
            ):
                return True
            if isinstance(op, AddColumn) and not caps.alter_column:
                col = op.column
                if (not col.nullable and col.default is None) or col.autoincrement:
                    return True
        return False

    def created_tables(self) -> tuple[list[Operation], list[Operation]]:
        paired = {p.target.key for p in self.pairs}
        new = [t for k, t in self.target.tables.items() if k not in paired]
        ordered, cyclic = foreign_key_order(new)
        creates: list[Operation] = []
        deferred: list[Operation] = []
        for table in ordered:
            late = cyclic.get(table.key, ())
            if late and self.caps.alter_constraint:
                kept = tuple(fk for fk in table.foreign_keys if fk not in late)
                creates.append(CreateTable(replace(table, foreign_keys=kept)))
                deferred += [AddConstraint(table.name, fk, table.schema) for fk in late]
            else:
                # SQLite resolves foreign keys when rows are written, not when tables are created.
                creates.append(CreateTable(table))
        return creates, deferred

    def dropped_tables(self) -> list[Operation]:
        paired = {p.current.key for p in self.pairs}
        gone = [t for k, t in self.current.tables.items() if k not in paired]
        ordered, _ = foreign_key_order(gone)
        return [DropTable(t.name, t.schema, table=t) for t in reversed(ordered)]

    # -- enums ---------------------------------------------------------------------------------

    def enum_changes(self) -> list[Operation]:
        if not self.caps.enum_types:
            return []
        ops: list[Operation] = []
        for key, enum in sorted(self.target.enums.items()):
            old = self.current.enums.get(key)
            if old is None:
                ops.append(CreateEnum(enum))
                continue
            if old.values == enum.values:
                continue
            if not _is_subsequence(old.values, enum.values):
                self.diff.warnings.append(
                    f"enum {key} loses or reorders values ({', '.join(old.values)} -> "
                    f"{', '.join(enum.values)}): PostgreSQL cannot do that in place; write it by hand"
                )
                continue
            state = old
            for i, value in enumerate(enum.values):
                if value in old.values:
                    continue
                following = next((v for v in enum.values[i + 1 :] if v in old.values), None)
                ops.append(AddEnumValue(state, value, before=following))
                state = replace(state, values=_insert(state.values, value, following))
        return ops

    def dropped_enums(self) -> list[Operation]:
        if not self.caps.enum_types:
            return []
        return [
            DropEnum(e) for k, e in sorted(self.current.enums.items()) if k not in self.target.enums
        ]


def _column_is_keyed(table: Table, column: str) -> bool:
    return (
        column in table.primary_key
        or any(column in i.columns for i in table.indexes)
        or any(column in u.columns for u in table.unique_constraints)
        or any(column in f.columns for f in table.foreign_keys)
    )


def _is_subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    it = iter(long)
    return all(any(v == w for w in it) for v in short)


def _insert(values: tuple[str, ...], value: str, before: str | None) -> tuple[str, ...]:
    if before is None:
        return (*values, value)
    at = values.index(before)
    return (*values[:at], value, *values[at:])


def _index_shape(i: Index) -> object:
    return (i.columns, i.unique, i.where, i.expression)


def _unique_shape(u: UniqueConstraint) -> object:
    return u.columns


def _check_shape(c: CheckConstraint) -> object:
    return c.expression


def _fk_shape(f: ForeignKey) -> object:
    return (f.columns, f.ref_schema, f.ref_table, f.ref_columns, f.on_delete, f.on_update)


def _match(
    current: Sequence[T], target: Sequence[T], shape: Callable[[T], object]
) -> tuple[list[T], list[T]]:
    """Items to drop and to add. Equal items match; so do items of the same shape whose names
    differ (a name change alone is not worth a migration); a name whose shape changed is
    dropped and added again."""
    left = list(current)
    missing = []
    for item in target:
        if item in left:
            left.remove(item)
        else:
            missing.append(item)
    adds = []
    for item in missing:
        same = next((c for c in left if shape(c) == shape(item)), None)
        if same is not None:
            left.remove(same)
        else:
            adds.append(item)
    return left, adds
