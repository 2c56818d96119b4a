"""``RebuildTable`` on SQLite: the documented "other kinds of table schema changes" procedure
(https://www.sqlite.org/lang_altertable.html#otheralter), made safe inside covet's migration
transaction.

That procedure turns ``PRAGMA foreign_keys`` off first, which SQLite ignores inside a
transaction. With enforcement on, ``DROP TABLE`` deletes every row first and fires the ON DELETE
actions of the tables that reference it (children lose rows to CASCADE, get NULLs from SET
NULL), and a NO ACTION child counts a violation that re-inserting the parent's rows under
another table name never settles. So the rows go the other way round:

1. ``PRAGMA defer_foreign_keys = ON`` (SQLite resets it at COMMIT): checks wait for the end.
2. Guards, each a named CHECK on a TEMP table, so a failure aborts the migration with the
   constraint's name as its message: the table has triggers (``DROP TABLE`` would drop them
   and nothing here can recreate them: drop them before this step and create them after it,
   in the same migration); enforcement is on and another table references this one with an
   ON DELETE action (``DROP TABLE`` would fire it; run the migration with foreign keys off,
   covet's default).
3. The rows, mapped to the new column names, into a TEMP table; AUTOINCREMENT's counter too.
4. ``DROP TABLE``; ``CREATE TABLE`` with the after definition under its final name, so no
   RENAME re-validates the views and triggers of other tables that name it; rows back; the
   AUTOINCREMENT counter back (never lower than it was: deleted ids are not reused).
5. The after-table's indexes.
6. With enforcement on, ``pragma_foreign_key_check`` on this table and the tables that
   reference it must come back empty (the procedure's own last check); with it off, SQLite
   never checked those references and neither does this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from covet_core.schema.operations import CreateTable, RebuildTable
from covet_core.schema.render import sql_string

if TYPE_CHECKING:
    from covet_dialect_sqlite.render import SQLiteRenderer

ROWS = "_covet_rebuild_rows"
SEQUENCE = "_covet_rebuild_seq"
GUARD = "_covet_rebuild_guard"


def rebuild_statements(renderer: SQLiteRenderer, operation: RebuildTable) -> list[str]:
    q = renderer.quote
    before, after = operation.before, operation.after
    schema = after.schema
    prefix = f"{q(schema)}." if schema else ""
    old = renderer.table_name(before.name, before.schema)
    new = renderer.table_name(after.name, schema)
    schema_arg = sql_string(schema or "main")
    old_name, new_name = sql_string(before.name), sql_string(after.name)
    # Generated columns compute their values: rows copy every other column.
    pairs = [
        (n, o)
        for n, o in operation.column_map
        if after.has_column(n)
        and before.has_column(o)
        and not after.column(n).generated
        and not before.column(o).generated
    ]
    triggers_message = (
        f"covet: table {before.name} has triggers, which rebuilding it would drop: "
        "drop them before this step and create them again after it"
    )
    actions_message = (
        f"covet: foreign keys are enforced and other tables reference {before.name} with "
        "ON DELETE actions that rebuilding it would fire: run this migration with foreign_keys off"
    )
    violations_message = (
        f"covet: rebuilding {after.name} broke foreign keys (PRAGMA foreign_key_check)"
    )
    checks = ",\n    ".join(
        f"{q(column)} INTEGER CONSTRAINT {q(message)} CHECK ({q(column)} = 0)"
        for column, message in (
            ("triggers", triggers_message),
            ("actions", actions_message),
            ("violations", violations_message),
        )
    )
    guard = f"CREATE TEMP TABLE {q(GUARD)} (\n    {checks}\n)"
    statements = [
        "PRAGMA defer_foreign_keys = ON",
        guard,
        f"INSERT INTO temp.{q(GUARD)} ({q('triggers')}) SELECT count(*) FROM "
        f"{prefix}sqlite_master WHERE type = 'trigger' AND tbl_name = {old_name} COLLATE NOCASE",
        f"INSERT INTO temp.{q(GUARD)} ({q('actions')}) SELECT count(*) "
        f"FROM pragma_foreign_keys AS k, {prefix}sqlite_master AS m, "
        f"pragma_foreign_key_list(m.name, {schema_arg}) AS f "
        f"WHERE k.foreign_keys = 1 AND m.type = 'table' AND m.name <> {old_name} COLLATE NOCASE "
        f"AND f.\"table\" = {old_name} COLLATE NOCASE AND f.on_delete <> 'NO ACTION'",
    ]
    select = ", ".join(f"{q(o)} AS {q(n)}" for n, o in pairs) or "NULL AS _covet_none"
    statements.append(f"CREATE TEMP TABLE {q(ROWS)} AS SELECT {select} FROM {old}")
    keeps_sequence = any(c.autoincrement for c in before.columns) and any(
        c.autoincrement for c in after.columns
    )
    if keeps_sequence:
        statements.append(
            f"CREATE TEMP TABLE {q(SEQUENCE)} AS SELECT seq FROM {prefix}sqlite_sequence "
            f"WHERE name = {old_name}"
        )
    statements.append(f"DROP TABLE {old}")
    created = renderer.create_table(CreateTable(after.replace(indexes=())))
    statements += created
    if pairs:
        columns = ", ".join(q(n) for n, _ in pairs)
        statements.append(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM temp.{q(ROWS)}")
    if keeps_sequence:
        seq = f"(SELECT seq FROM temp.{q(SEQUENCE)})"
        statements += [
            f"UPDATE {prefix}sqlite_sequence SET seq = {seq} "
            f"WHERE name = {new_name} AND seq < {seq}",
            f"INSERT INTO {prefix}sqlite_sequence (name, seq) SELECT {new_name}, seq "
            f"FROM temp.{q(SEQUENCE)} WHERE NOT EXISTS "
            f"(SELECT 1 FROM {prefix}sqlite_sequence WHERE name = {new_name})",
            f"DROP TABLE temp.{q(SEQUENCE)}",
        ]
    statements.append(f"DROP TABLE temp.{q(ROWS)}")
    statements += [renderer.index_sql(after.name, schema, i) for i in after.indexes]
    statements += [
        f"INSERT INTO temp.{q(GUARD)} ({q('violations')}) SELECT count(*) "
        f"FROM pragma_foreign_keys AS k, {prefix}sqlite_master AS m, "
        f"pragma_foreign_key_check(m.name, {schema_arg}) AS c "
        f"WHERE k.foreign_keys = 1 AND m.type = 'table' AND (m.name = {new_name} COLLATE NOCASE "
        f"OR EXISTS (SELECT 1 FROM pragma_foreign_key_list(m.name, {schema_arg}) AS f "
        f'WHERE f."table" = {new_name} COLLATE NOCASE)) '
        f"AND (m.name = {new_name} COLLATE NOCASE OR c.parent = {new_name} COLLATE NOCASE)",
        f"DROP TABLE temp.{q(GUARD)}",
    ]
    return statements
