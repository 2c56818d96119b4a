"""The sequences a PostgreSQL column owns, as COLUMNS reads them: which one makes the column's
values (its identity's, or the one SERIAL made), and what a copy must do after its CREATE TABLE
for the others and for what SERIAL or IDENTITY would have done differently."""

from __future__ import annotations

from typing import Any, NamedTuple

from covet_core.schema.model import CarriedObject, IgnoredObject
from covet_core.schema.render import sql_string
from covet_dialect_postgresql import quote


class OwnedSequence(NamedTuple):
    """A sequence a column owns, as COLUMNS reads it."""

    kind: str  # "i": the column's identity; "a": its SERIAL, or an OWNED BY
    name: str
    qualified: str  # quoted, with its schema unless the connection's own
    options: str | None  # what differs from a fresh sequence's defaults (None: nothing)
    start: str
    same_type: bool  # of the column's own type
    used: bool  # the column's default is exactly nextval() of it, as SERIAL writes it


def owned_sequences(row: Any) -> tuple[OwnedSequence | None, list[OwnedSequence]]:
    """The sequence that makes the column's values (its identity's, or the owned one its
    default calls), if any, and the other sequences it owns: those only say OWNED BY."""
    owned = [
        OwnedSequence(k, n, q, o, st, same == "true", used == "true")
        for k, n, q, o, st, same, used in row["sequences"] or ()
    ]
    main = next((s for s in owned if s.kind == "i"), None) or next(
        (s for s in owned if s.used), None
    )
    return main, [s for s in owned if s is not main]


def sequence_reports(
    row: Any,
    table: str,
    schema: str | None,
    owned: tuple[OwnedSequence | None, list[OwnedSequence]],
) -> list[tuple[IgnoredObject, OwnedSequence]]:
    """What a copy of a serial or identity column cannot make the same: a sequence named
    other than ``<table>_<column>_seq`` (SERIAL and IDENTITY choose that name), or a serial
    sequence altered after creation (SERIAL takes no options); and each sequence the column
    owns that SERIAL would not make (created on its own by CARRIED, then given its owner).
    ``owned`` is the row's ``owned_sequences``."""
    from covet_dialect_postgresql.normalise import pg_name  # it imports this one (schema_rows)

    main, others = owned
    if main is not None and not row["attidentity"] and not is_serial(row, main):
        # Used by a default SERIAL would not write (a nullable column, another type): its
        # sequence is created on its own, like any other it owns.
        others = [main, *others]
        main = None
    found = [
        (IgnoredObject("sequence owner", f"{s.name} of {table}.{row['attname']}", schema), s)
        for s in others
    ]
    if main is None:
        return found
    what = f"{main.name} of {table}.{row['attname']}"
    if main.name != pg_name(table, row["attname"], "seq"):
        found.append((IgnoredObject("sequence name", what, schema), main))
    if main.options and not row["attidentity"]:
        found.append((IgnoredObject("serial sequence options", what, schema), main))
    return found


_DO_TAG = "$covet_seq$"


def is_serial(row: Any, main: OwnedSequence | None) -> bool:
    """A column SERIAL makes: NOT NULL, its default exactly nextval() of a sequence of its
    own type that it owns (``main``, the first of its ``owned_sequences``)."""
    return (
        main is not None
        and main.kind == "a"
        and main.used
        and main.same_type
        and bool(row["attnotnull"])
    )


def sequence_fix(
    report: IgnoredObject, owned: OwnedSequence, row: Any, table: str
) -> CarriedObject | None:
    """What makes a copy's column sequence like the original's, after its CREATE TABLE made
    it with SERIAL or IDENTITY: its name (another than those choose, say after a rename), or
    a serial sequence's options (SERIAL takes none). The sequence is found through its column
    (``pg_get_serial_sequence``), never by a name the copy may have chosen differently, so the
    statements cannot touch another sequence. Undone by the default name / options, just
    before the table itself is dropped."""
    from covet_dialect_postgresql.normalise import pg_name  # it imports this one (schema_rows)

    sequence, options, start = owned.name, owned.options, owned.start
    column = row["attname"]
    where = f"{quote(report.schema)}.{quote(table)}" if report.schema else quote(table)
    serial = f"pg_get_serial_sequence({sql_string(where)}, {sql_string(column)})"
    if report.kind == "sequence owner":
        return CarriedObject(
            report.kind, report.name, report.schema,
            f"ALTER SEQUENCE {owned.qualified} OWNED BY {where}.{quote(column)}",
            f"ALTER SEQUENCE {owned.qualified} OWNED BY NONE", stage=5, dialect="postgresql",
        )  # fmt: skip
    if report.kind == "sequence name":
        renamed, back = sequence, pg_name(table, column, "seq")
        create = (
            f"EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', {serial}, {sql_string(renamed)})"
        )
        drop = f"EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', {serial}, {sql_string(back)})"
    else:
        # A sequence that never gave a value restarts at its new start (a MINVALUE above
        # its current value is refused otherwise); one in use is never restarted.
        create = (
            f"EXECUTE format('SELECT is_called FROM %s', {serial}) INTO used; "
            f"EXECUTE format('ALTER SEQUENCE %s {options}%s', {serial}, "
            f"CASE WHEN used THEN '' ELSE ' RESTART WITH {int(start)}' END)"
        )
        reset = "NO MINVALUE NO MAXVALUE START WITH 1 INCREMENT BY 1 CACHE 1 NO CYCLE"
        drop = f"EXECUTE format('ALTER SEQUENCE %s {reset}', {serial})"
    if _DO_TAG in create + drop or "'" in (options or "") or "%" in (options or ""):
        return None  # stays named
    wrap = f"DO {_DO_TAG} DECLARE used boolean; BEGIN {{}}; END {_DO_TAG}"
    return CarriedObject(
        report.kind, report.name, report.schema, wrap.format(create), wrap.format(drop),
        stage=2, dialect="postgresql",
    )  # fmt: skip
