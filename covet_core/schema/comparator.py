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

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from covet_core.dialect import Capabilities, Dialect
from covet_core.schema.carrying import changed_objects, late_operations
from covet_core.schema.diff import SchemaDiff
from covet_core.schema.fitting import fit_to
from covet_core.schema.matching import (
    check_shape,
    column_is_keyed,
    dropped_enums,
    enum_changes,
    fk_shape,
    index_shape,
    is_constant,
    match,
    unique_shape,
    without_enum_labels,
)
from covet_core.schema.model import (
    CheckConstraint,
    ForeignKey,
    Schema,
    Table,
    UniqueConstraint,
    qualified_name,
)
from covet_core.schema.operations import (
    AddColumn,
    AddConstraint,
    AlterColumn,
    CreateIndex,
    CreateObject,
    CreateTable,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropTable,
    Operation,
    RebuildTable,
    RenameColumn,
    RenameTable,
)
from covet_core.schema.order import foreign_key_order
from covet_core.schema.pairing import Pair, Pairing, normalise_flag
from covet_core.schema.renames import RenameCandidate
from covet_core.schema.scope import TableScope, left_out

if TYPE_CHECKING:
    from covet_core.plugins import Plugins

DEFAULT_THRESHOLD = 0.7
PORTABLE = Capabilities(transactional_ddl=True, enum_types=True, partial_indexes=True)


class SchemaComparator:
    """``SchemaComparator().compare(current, target) -> SchemaDiff``.

    ``renames`` states renames explicitly: ``"users.username:user_name"`` (a column) or
    ``"users:people"`` (a table). ``detect_renames=False`` turns guessing off; pairs in
    ``rejected_renames`` (same spelling) are never taken for renames. ``include_tables`` /
    ``exclude_tables`` (globs on ``name`` or ``schema.name``) keep tables the models do not own
    out of the comparison: never created, changed or dropped, listed in ``out_of_scope``.
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
        include_tables: Iterable[str] = (),
        exclude_tables: Iterable[str] = (),
    ) -> None:
        self.scope = TableScope.of(include_tables, exclude_tables)
        self._dialect = dialect
        self._plugins = plugins
        self.renames = list(renames)
        self.detect = detect_renames
        self.rejected = {normalise_flag(r) for r in rejected_renames}
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
        current, mine = self.scope.narrow(current)
        target, theirs = self.scope.narrow(target)
        raw = current
        if dialect is not None:
            target = fit_to(dialect, target)
        if dialect is not None and dialect.schema_normaliser is not None:
            current = dialect.schema_normaliser(current)
            target = dialect.schema_normaliser(target)
        if dialect is None or dialect.capabilities.enum_types:
            # A named enum's labels belong to the type (CreateEnum / AddEnumValue), not to
            # every column using it: a new label is not a change of those columns.
            current, target = without_enum_labels(current), without_enum_labels(target)
        plan = _Plan(self, dialect, current, target)
        plan.raw = raw
        diff = plan.run()
        diff.out_of_scope = left_out(mine, theirs)
        return diff

    def propose(
        self, table: str | None, removed: list[Any], added: list[Any], dialect: Dialect | None
    ) -> list[RenameCandidate]:
        if not self.detect:
            return []
        if self._plugins is None and dialect is None:
            from covet_core.schema import renames

            return renames.covet_detect_renames(table, removed, added, dialect)
        return list(self.plugins().detect_renames(table, removed, added, dialect))  # type: ignore[arg-type]


class _Plan(Pairing):
    def __init__(
        self, comparator: SchemaComparator, dialect: Dialect | None, current: Schema, target: Schema
    ) -> None:
        self.c = comparator
        self.dialect = dialect
        self.caps = dialect.capabilities if dialect is not None else PORTABLE
        self.current = current
        self.target = target
        self.diff = SchemaDiff(dialect=dialect.name if dialect else None)
        # Both sides: what the current database has is left alone; what only the target has
        # cannot be created by the operations and must be named, never dropped on the way.
        self.diff.ignored = list(current.ignored)
        # A carried object only the current database has (a comment, a setting, a view) is
        # left alone as well, and listed with the rest, even when no reader names it.
        known = {c.ignored for c in target.carried} | set(current.ignored)
        self.diff.ignored += [c.ignored for c in current.carried if c.ignored not in known]
        present = set(current.ignored) | {c.ignored for c in current.carried}
        # What the reader can recreate (an extension, a domain) is created, not refused.
        self.carried = [c for c in target.carried if c.ignored not in present]
        created = {c.ignored for c in self.carried}
        mine = {c.ignored: c for c in current.carried}
        self.mine = mine
        alter = dialect.alter_carried if dialect is not None else None
        self.changed, self.altered = changed_objects(
            target.carried, mine, self.diff.warnings, alter
        )
        self.diff.unmanaged = [
            obj for obj in target.ignored if obj not in present and obj not in created
        ]
        self.explicit_tables: dict[str, str] = {}
        self.explicit_columns: dict[str, dict[str, str]] = {}
        self.raw = current

    # -- the plan -----------------------------------------------------------------------------

    def run(self) -> SchemaDiff:
        self.parse_explicit()
        self.pairs = self.pair_tables()
        ops: list[Operation] = []
        # Schemas and extensions first, then enum types, then domains and sequences: each
        # only uses what came before it, and tables use them all.
        carried = sorted(self.carried, key=lambda c: c.stage)
        ops += [CreateObject(c) for c in carried if c.stage == 0]
        ops += (
            enum_changes(self.current, self.target, self.diff.warnings)
            if self.caps.enum_types
            else []
        )
        ops += [CreateObject(c) for c in carried if c.stage == 1]
        ops += self.altered
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
        # Functions, views and triggers use tables: after them, in the reader's order.
        new = {c.ignored for c in carried}
        ops += late_operations(self.target.carried, new, self.changed, self.mine)
        ops += dropped_enums(self.current, self.target) if self.caps.enum_types else []
        self.diff.operations = ops
        return self.diff

    def unaltered_attributes(self, before: Table, after: Table) -> None:
        """Warnings for what two databases' tables differ in that no operation alters (and
        the tables' equality does not compare): INHERITS parents, table options, index and
        key comments."""
        key, warn = after.key, self.diff.warnings.append
        if before.parents != after.parents:
            parents = ", ".join(qualified_name(n, s) for s, n in after.parents) or "nothing"
            warn(f"{key} is to inherit from {parents}: not generated, write it by hand "
                 f"(ALTER TABLE ... INHERIT / NO INHERIT)")  # fmt: skip
        if before.options != after.options:
            warn(f"the options of {key} change ({' '.join(before.options) or 'none'} -> "
                 f"{' '.join(after.options) or 'none'}): not generated, write it by hand")  # fmt: skip
        old_indexes = {i.name: i for i in before.indexes}
        for index in after.indexes:
            if index.name in old_indexes and old_indexes[index.name].comment != index.comment:
                warn(f"the comment of index {index.name} on {key} changes: not generated, "
                     f"write it by hand (MySQL keeps it with the index: drop and add it)")  # fmt: skip
        old_keys = {u.name: u for u in before.unique_constraints}
        for u in after.unique_constraints:
            old = old_keys.get(u.name)
            if old is None:
                continue
            if old.comment != u.comment:
                warn(f"the comment of index {u.name} on {key} changes: not generated, write it "
                     f"by hand (MySQL keeps it with the index: drop and add it)")  # fmt: skip
            if (old.include, old.nulls_not_distinct) != (u.include, u.nulls_not_distinct):
                warn(f"the INCLUDE / NULLS NOT DISTINCT of key {u.name} of {key} changes: not "
                     f"generated, write it by hand")  # fmt: skip
            if old.deferrable != u.deferrable:
                self.deferral_warning(f"key {u.name}", key, old.deferrable, u.deferrable)
        if before.primary_key_deferrable != after.primary_key_deferrable:
            self.deferral_warning(
                "primary key", key, before.primary_key_deferrable, after.primary_key_deferrable
            )

    def deferral_warning(self, what: str, key: str, old: str | None, new: str | None) -> None:
        self.diff.warnings.append(
            f"the deferral of the {what} of {key} changes ({old or 'none'} -> {new or 'none'}): "
            f"not generated, write it by hand"
        )

    def table_changes(self, pair: Pair) -> tuple[list[Operation], list[Operation], list[Operation]]:
        before = self.renamed_current(pair)
        after = pair.target
        # Models say none of what this compares: only a database read on both sides has it.
        if self.target.dialect is not None and self.current.dialect is not None:
            self.unaltered_attributes(before, after)
        if before == after and not pair.columns:
            return [], [], []  # most tables, most of the time
        key, name, schema = after.key, after.name, after.schema
        if before.primary_key != after.primary_key:
            self.diff.warnings.append(
                f"the primary key of {key} changes ({', '.join(before.primary_key) or 'none'} -> "
                f"{', '.join(after.primary_key) or 'none'}): not generated, write it by hand"
            )
        if before.collation != after.collation:
            self.diff.warnings.append(
                f"the collation of {key} changes ({before.collation or 'default'} -> "
                f"{after.collation or 'default'}): not generated, write it by hand "
                f"(ALTER TABLE ... CONVERT TO CHARACTER SET converts the rows too)"
            )
        renames = [RenameColumn(name, o, n, schema) for o, n in pair.columns.items()]
        adds: list[Operation] = []
        alters: list[Operation] = []
        # A column a table has only from a parent (PostgreSQL INHERITS) changes with the
        # parent: the parent's ALTER reaches every child, so the child's would be a second one.
        for col in after.columns:
            if not before.has_column(col.name):
                if not col.inherited:
                    adds.append(AddColumn(name, col, schema))
            elif (old := before.column(col.name)) != col and not (col.inherited and old.inherited):
                alters.append(AlterColumn(name, old, col, schema))
        drops: list[Operation] = [
            DropColumn(name, col, schema)
            for col in before.columns
            if not after.has_column(col.name) and not col.inherited
        ]
        idx_drop, idx_add = match(before.indexes, after.indexes, index_shape)
        kept = [i for i in idx_drop if i.expression and not i.columns]
        for index in kept:
            self.diff.warnings.append(
                f"expression index {index.name} on {key} is not in the models; kept as it is"
            )
        idx_drop = [i for i in idx_drop if i not in kept]
        uq_drop, uq_add = match(before.unique_constraints, after.unique_constraints, unique_shape)
        ck_drop, ck_add = match(
            [c for c in before.check_constraints if not c.inherited],
            [c for c in after.check_constraints if not c.inherited],
            check_shape,
        )
        con_drop: list[Any] = [*uq_drop, *ck_drop]
        con_add: list[Any] = [*uq_add, *ck_add]
        fk_drop, fk_add = match(before.foreign_keys, after.foreign_keys, fk_shape)
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
            start = replace(pair.current, name=name, schema=schema)
            changes = tuple(local + fk_drops + fk_adds)
            rebuild = RebuildTable(start, after, self.column_map(pair, after), changes)
            if any(obj.kind == "trigger" for obj in self.diff.ignored):
                self.diff.warnings.append(
                    f"{key} is rebuilt (copied into a new table); a rebuild cannot keep "
                    f"triggers, so the migration refuses to run while {key} has any: drop them "
                    f"in a migration before and recreate them after"
                )
            return [rebuild], [], []
        undo = self.undo_by_rebuild(pair, after, local + fk_drops + fk_adds)
        if undo is not None:
            local, fk_drops, fk_adds = (
                [replace(op, undo=undo) for op in group] for group in (local, fk_drops, fk_adds)
            )
        return local, fk_drops, fk_adds

    def undo_by_rebuild(
        self, pair: Pair, after: Table, ops: list[Operation]
    ) -> RebuildTable | None:
        """A rebuild back to the table as it was, when undoing ``ops`` one by one needs what
        the dialect cannot do in place; ``None`` when their reverses can run as they are."""
        reverses = []
        for op in reversed(ops):
            try:
                reverses.append(op.reverse())
            except NotImplementedError:
                continue  # irreversible: the generator says so
        if not self.needs_rebuild(after, reverses):
            return None
        start = replace(pair.current, name=after.name, schema=after.schema)
        return RebuildTable(start, after, self.column_map(pair, after), tuple(ops)).reverse()

    @staticmethod
    def column_map(pair: Pair, after: Table) -> tuple[tuple[str, str], ...]:
        """Each column of ``after`` that takes its values from the current table, with the
        current column's name (renames applied)."""
        return tuple(
            (pair.columns.get(col.name, col.name), col.name)
            for col in pair.current.columns
            if after.has_column(pair.columns.get(col.name, col.name))
        )

    def server_named(self, pair: Pair, constraint: Any) -> Any:
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
                or (not caps.alter_constraint and column_is_keyed(before, op.column.name))
            ):
                return True
            if isinstance(op, RenameColumn) and not caps.rename_column:
                return True
            if (
                isinstance(op, AddColumn)
                and not op.column.nullable
                and not caps.add_column_not_null
            ):
                return True
            if isinstance(op, AddColumn) and not caps.add_column_any_default:
                col = op.column
                if (not col.nullable and col.default is None) or col.autoincrement:
                    return True
                if not is_constant(col.default):
                    return True
                if col.generated and col.stored:  # SQLite adds only VIRTUAL ones in place
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
