"""PostgreSQL rules over pglast's parse trees (the server's own parser, so every statement the
server accepts is understood exactly as the server will understand it). Imported lazily: only
``covet migrate lint`` and an ``up`` with something to apply pay for pglast."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError

from covet_core.lint.model import WARNING, Context, Hit
from covet_core.lint.scan import Scan

AT = enums.AlterTableType
CT = enums.ConstrType
OT = enums.ObjectType
VOLATILE = {"random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
            "uuid_generate_v4", "clock_timestamp", "timeofday", "nextval", "txid_current",
            "statement_timestamp", "setseed", "uuidv7", "uuidv4"}  # fmt: skip
SERIAL = {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"}
SMALL_INTS = {"int4", "int2", "serial", "serial4", "smallserial", "serial2", "int", "integer"}
DML = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt, ast.VariableSetStmt,
       ast.CopyStmt, ast.TransactionStmt, ast.DoStmt, ast.CallStmt)  # fmt: skip
NO_TRANSACTION = (ast.VacuumStmt, ast.CreatedbStmt, ast.DropdbStmt, ast.AlterSystemStmt)


class StatementError(Exception):
    """The parser rejected the statement."""


def parse(sql: str) -> list[tuple[int, Any]]:
    """``(character offset, statement node)`` for each statement in ``sql``."""
    try:
        return [(raw.stmt_location or 0, raw.stmt) for raw in parse_sql(sql)]
    except ParseError as exc:
        raise StatementError(str(exc)) from None


def is_ddl(node: Any) -> bool:
    return not isinstance(node, DML)


def _type(type_name: Any) -> str:
    return str(type_name.names[-1].sval) if type_name is not None else ""


def _name(relation: Any) -> str | None:
    return str(relation.relname) if relation is not None else None


def _funcs(node: Any) -> Iterator[str]:
    """Every function called anywhere in an expression tree."""
    if isinstance(node, ast.FuncCall) and node.funcname:
        yield str(node.funcname[-1].sval)
    if isinstance(node, ast.Node):
        for value in node:
            yield from _funcs(getattr(node, value))
    elif isinstance(node, tuple):
        for item in node:
            yield from _funcs(item)


def check(node: Any, scan: Scan, ctx: Context) -> list[Hit]:
    hits: list[Hit] = []
    if isinstance(node, ast.IndexStmt):
        table = _name(node.relation)
        if node.concurrent and scan.in_transaction:
            hits.append(_non_tx("CREATE INDEX CONCURRENTLY"))
        elif not node.concurrent and not scan.is_new(table):
            hits.append(
                Hit(
                    "blocking-index",
                    f"CREATE INDEX on {table} without CONCURRENTLY blocks writes",
                    table,
                )
            )
    elif isinstance(node, ast.DropStmt):
        hits += _drop(node, scan)
    elif isinstance(node, ast.AlterTableStmt) and node.objtype == OT.OBJECT_TABLE:
        table = _name(node.relation)
        for cmd in node.cmds or ():
            hits += _alter(cmd, table, scan, ctx)
    elif isinstance(node, ast.RenameStmt):
        table = _name(node.relation)
        if node.renameType == OT.OBJECT_COLUMN and not scan.is_new(table):
            hits.append(
                Hit(
                    "rename-column",
                    f"renames column {table}.{node.subname} to {node.newname}",
                    table,
                )
            )
        elif node.renameType == OT.OBJECT_TABLE and not scan.is_new(table):
            message = f"renames table {table} to {node.newname}"
            hits.append(Hit("rename-table", message, table, renamed_to=node.newname))
    elif isinstance(node, ast.CreateStmt):
        table = _name(node.relation)
        if table is not None:
            scan.created.add(table.lower())
        hits += _create(node, table)
    elif isinstance(node, ast.AlterEnumStmt) and node.newVal is not None and scan.in_transaction:
        newer = ctx.at_least(12)
        if newer is not True:
            hits.append(_non_tx("ALTER TYPE ... ADD VALUE", None if newer is False else WARNING))
    elif isinstance(node, ast.VacuumStmt) and not node.is_vacuumcmd:
        pass  # ANALYZE shares VACUUM's node but runs fine inside a transaction
    elif isinstance(node, NO_TRANSACTION) and scan.in_transaction:
        hits.append(_non_tx(type(node).__name__.removesuffix("Stmt").upper()))
    elif isinstance(node, ast.ReindexStmt) and scan.in_transaction:
        if any(p.defname == "concurrently" for p in node.params or ()):
            hits.append(_non_tx("REINDEX CONCURRENTLY"))
    elif (
        isinstance(node, ast.UpdateStmt | ast.DeleteStmt)
        and node.whereClause is None
        and scan.schema_migration
        and scan.in_transaction
    ):
        verb = "UPDATE" if isinstance(node, ast.UpdateStmt) else "DELETE"
        table = _name(node.relation)
        if not scan.is_new(table):
            message = f"{verb} of every row of {table} in the schema change's transaction"
            hits.append(Hit("backfill-in-transaction", message, table))
    return hits


def _non_tx(what: str, severity: str | None = None) -> Hit:
    return Hit(
        "non-transactional-in-atomic",
        f"{what} inside a migration that declares atomic = True",
        severity=severity,
    )


def _drop(node: Any, scan: Scan) -> list[Hit]:
    hits = []
    if node.removeType == OT.OBJECT_INDEX:
        if node.concurrent and scan.in_transaction:
            hits.append(_non_tx("DROP INDEX CONCURRENTLY"))
        elif not node.concurrent:
            names = ", ".join(str(o[-1].sval) for o in node.objects)
            hits.append(Hit("blocking-index-drop", f"DROP INDEX {names} without CONCURRENTLY"))
    elif node.removeType == OT.OBJECT_TABLE:
        for obj in node.objects:
            table = str(obj[-1].sval)
            if not scan.is_new(table):
                hits.append(Hit("drop-table", f"drops table {table}", table))
    return hits


def _alter(cmd: Any, table: str | None, scan: Scan, ctx: Context) -> list[Hit]:
    new = scan.is_new(table)
    sub = cmd.subtype
    if sub == AT.AT_AddColumn:
        return _add_column(cmd.def_, table, new, ctx)
    if sub == AT.AT_AddConstraint and not new:
        con = cmd.def_
        if con.contype in (CT.CONSTR_FOREIGN, CT.CONSTR_CHECK) and not con.skip_validation:
            kind = "FOREIGN KEY" if con.contype == CT.CONSTR_FOREIGN else "CHECK"
            return [
                Hit(
                    "constraint-not-valid",
                    f"adds {kind} {con.conname or ''} to {table} without NOT VALID".replace(
                        "  ", " "
                    ),
                    table,
                )
            ]
        if con.contype in (CT.CONSTR_UNIQUE, CT.CONSTR_PRIMARY) and con.indexname is None:
            kind = "UNIQUE" if con.contype == CT.CONSTR_UNIQUE else "PRIMARY KEY"
            return [
                Hit(
                    "add-unique-constraint",
                    f"adds {kind} to {table} without an index built CONCURRENTLY first",
                    table,
                )
            ]
    if sub == AT.AT_ValidateConstraint and table is not None:
        scan.validated.add(table.lower())
    if sub == AT.AT_SetNotNull and not new and (table or "").lower() not in scan.validated:
        return [
            Hit(
                "set-not-null",
                f"SET NOT NULL on {table}.{cmd.name} without a validated CHECK (... IS NOT NULL)",
                table,
            )
        ]
    if sub == AT.AT_AlterColumnType and not new:
        target = _type(cmd.def_.typeName)
        relaxed = target == "text" or (target == "varchar" and not cmd.def_.typeName.typmods)
        hint = " (no rewrite only if it was varchar/text)" if relaxed else ""
        return [
            Hit(
                "column-type-change",
                f"changes the type of {table}.{cmd.name} to {target}{hint}",
                table,
                WARNING if relaxed else None,
            )
        ]
    if sub == AT.AT_DropColumn and not new:
        return [Hit("drop-column", f"drops column {table}.{cmd.name}", table)]
    return []


def _add_column(col: Any, table: str | None, new: bool, ctx: Context) -> list[Hit]:
    hits = _column_types(col, table, primary=False)
    kinds = {c.contype: c for c in col.constraints or ()}
    default = kinds.get(CT.CONSTR_DEFAULT)
    generated = CT.CONSTR_IDENTITY in kinds or CT.CONSTR_GENERATED in kinds
    serial = _type(col.typeName) in SERIAL
    if new:
        return hits
    if CT.CONSTR_NOTNULL in kinds and default is None and not generated and not serial:
        hits.append(
            Hit(
                "add-column-not-null",
                f"adds NOT NULL column {table}.{col.colname} without a default",
                table,
            )
        )
    volatile = sorted(VOLATILE & set(_funcs(default.raw_expr))) if default is not None else []
    if volatile or serial or CT.CONSTR_GENERATED in kinds:
        what = (
            f"{', '.join(volatile)}()"
            if volatile
            else "a serial"
            if serial
            else "a stored generated value"
        )
        hits.append(
            Hit(
                "volatile-default",
                f"adds {table}.{col.colname} with {what}: every row is rewritten",
                table,
            )
        )
    elif default is not None and ctx.at_least(11) is False:
        hits.append(
            Hit(
                "add-column-default",
                f"adds {table}.{col.colname} with a default on PostgreSQL {ctx.version_text} (instant from 11)",
                table,
            )
        )
    return hits


def _create(node: Any, table: str | None) -> list[Hit]:
    keys = set()
    for elt in node.tableElts or ():
        if isinstance(elt, ast.Constraint) and elt.contype == CT.CONSTR_PRIMARY:
            keys |= {str(k.sval) for k in elt.keys or ()}
    hits: list[Hit] = []
    for elt in node.tableElts or ():
        if isinstance(elt, ast.ColumnDef):
            primary = elt.colname in keys or any(
                c.contype == CT.CONSTR_PRIMARY for c in elt.constraints or ()
            )
            hits += _column_types(elt, table, primary)
    return hits


def _column_types(col: Any, table: str | None, primary: bool) -> list[Hit]:
    kind = _type(col.typeName)
    where = f"{table}.{col.colname}"
    if primary and kind in SMALL_INTS:
        return [Hit("prefer-bigint", f"{where} is a {kind} primary key", table)]
    if kind == "timestamp":
        return [Hit("prefer-timestamptz", f"{where} is timestamp without time zone", table)]
    if kind == "varchar" and col.typeName.typmods:
        return [Hit("prefer-text", f"{where} is varchar(n)", table)]
    return []
