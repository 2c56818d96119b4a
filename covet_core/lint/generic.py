"""MySQL/MariaDB and SQLite rules over sqlglot's parse trees. Statements sqlglot only
recognises as an opaque ``Command`` (MySQL's ``CREATE INDEX ... ALGORITHM=``, ``RENAME
TABLE``) are read through sqlglot's tokenizer, never with regexes over the text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from covet_core.lint.model import ERROR, WARNING, Context, Hit
from covet_core.lint.scan import Scan
from covet_core.lint.sqlite_heads import read_head

DML = (exp.Insert, exp.Update, exp.Delete, exp.Select, exp.Set, exp.Transaction, exp.Commit)
VOLATILE = (exp.Uuid, exp.Rand, exp.Anonymous)
SMALL_INTS = {exp.DataType.Type.INT, exp.DataType.Type.MEDIUMINT, exp.DataType.Type.SMALLINT,
              exp.DataType.Type.UINT, exp.DataType.Type.TINYINT}  # fmt: skip
BLOCKING_KINDS = {"FULLTEXT", "SPATIAL"}


class StatementError(Exception):
    """The parser rejected the statement."""


@cache
def _reader(syntax: str) -> tuple[Any, Any]:
    """One tokenizer and one parser per syntax, reused (each resets itself per statement):
    made per statement, they cost as much as tokenizing a short one."""
    dialect = sqlglot.Dialect.get_or_raise(syntax)
    return dialect.tokenizer(), dialect.parser()


@contextmanager
def quiet() -> Iterator[None]:
    """sqlglot logs a warning for each statement it keeps as a Command; that is expected here
    (those are read token by token below), not something the user has to see."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def parse(sql: str, syntax: str) -> list[tuple[int, Any]]:
    tokenizer, parser = _reader(syntax)
    try:
        known, tokens = read_head(sql, tokenizer) if syntax == "sqlite" else (None, None)
        if known is not None:
            return [(0, known)]
        if tokens is None:
            tokens = tokenizer.tokenize(sql)
        return [(0, e) for e in parser.parse(tokens, sql) if e is not None]
    except (ParseError, TokenError) as exc:
        raise StatementError(str(exc).splitlines()[0]) from None


def is_ddl(node: Any) -> bool:
    return not isinstance(node, DML)


def _table(node: Any) -> str | None:
    table = node.find(exp.Table) if node is not None else None
    return table.name if table is not None else None


def _mariadb(ctx: Context) -> bool:
    return "mariadb" in (ctx.version_text or "").lower()


def check(node: Any, scan: Scan, ctx: Context, syntax: str) -> list[Hit]:
    sqlite = syntax == "sqlite"
    if isinstance(node, exp.Command):
        return _command(node, scan, sqlite)
    if isinstance(node, exp.Create):
        kind = str(node.args.get("kind") or "").upper()
        if kind == "TABLE":
            table = _table(node.this)
            if table is not None:
                scan.created.add(table.lower())
            return [] if sqlite else _create_types(node, table)
        if kind == "INDEX":
            table = _table(node.this.args.get("table"))
            if scan.is_new(table):
                return []
            return [_index_hit(table, None, lock_none=False, sqlite=sqlite)]
        return []
    if isinstance(node, exp.Drop) and str(node.args.get("kind")).upper() == "TABLE":
        names = [t.name for t in node.args.get("tables") or ()]
        return [Hit("drop-table", f"drops table {n}", n) for n in names if not scan.is_new(n)]
    if isinstance(node, exp.Alter) and str(node.args.get("kind")).upper() == "TABLE":
        return _alter(node, scan, ctx, sqlite)
    if isinstance(node, exp.Update | exp.Delete) and node.args.get("where") is None:
        table = _table(node.this)
        if scan.schema_migration and not scan.is_new(table):
            verb = "UPDATE" if isinstance(node, exp.Update) else "DELETE"
            return [
                Hit(
                    "backfill-in-transaction",
                    f"{verb} of every row of {table} in a schema migration",
                    table,
                )
            ]
    return []


def _index_hit(table: str | None, kind: str | None, lock_none: bool, sqlite: bool) -> Hit:
    if sqlite:
        return Hit(
            "blocking-index",
            f"CREATE INDEX on {table} locks the database for writes while it builds",
            table,
            WARNING,
        )
    if kind in BLOCKING_KINDS:
        return Hit(
            "blocking-index",
            f"{kind} index on {table} blocks writes while it builds (MySQL/MariaDB cannot build it with LOCK=NONE)",
            table,
            ERROR,
        )
    return Hit(
        "blocking-index",
        f"index on {table} without ALGORITHM=INPLACE, LOCK=NONE: the server may fall back to a blocking copy",
        table,
        WARNING,
    )


def _options(node: Any) -> dict[str, str]:
    found = {}
    for option in node.args.get("options") or ():
        if isinstance(option, exp.AlgorithmProperty | exp.LockProperty):
            key = "algorithm" if isinstance(option, exp.AlgorithmProperty) else "lock"
            found[key] = option.this.name.upper()
    return found


def _alter(node: Any, scan: Scan, ctx: Context, sqlite: bool) -> list[Hit]:
    table = _table(node.this)
    new = scan.is_new(table)
    options = _options(node)
    lock_none = options.get("lock") == "NONE" and options.get("algorithm") in ("INPLACE", "INSTANT")
    hits: list[Hit] = []
    for action in node.args.get("actions") or ():
        if isinstance(action, exp.ColumnDef):
            hits += _add_column(action, table, new, ctx, sqlite)
        elif isinstance(action, exp.AddConstraint) and not new:
            for con in action.expressions:
                if isinstance(con, exp.IndexColumnConstraint) and not lock_none:
                    kind = str(con.args.get("kind") or "").upper() or None
                    hits.append(_index_hit(table, kind, lock_none, sqlite))
                elif con.find(exp.ForeignKey) or con.find(exp.CheckColumnConstraint):
                    kind = "FOREIGN KEY" if con.find(exp.ForeignKey) else "CHECK"
                    hits.append(
                        Hit(
                            "constraint-not-valid",
                            f"adds {kind} to {table}: existing rows are checked while the table is copied",
                            table,
                        )
                    )
        elif isinstance(action, exp.ModifyColumn) and not new:
            col = action.this
            renamed = action.args.get("rename_from")
            if renamed is not None:
                hits.append(
                    Hit(
                        "rename-column",
                        f"renames column {table}.{renamed.name} to {col.name}",
                        table,
                    )
                )
            hits.append(
                Hit(
                    "column-type-change",
                    f"MODIFY/CHANGE of {table}.{col.name} ({col.args.get('kind')}) rebuilds the table with ALGORITHM=COPY unless only the name, default or comment changes",
                    table,
                )
            )
        elif isinstance(action, exp.RenameColumn) and not new:
            hits.append(
                Hit(
                    "rename-column",
                    f"renames column {table}.{action.this.name} to {action.args['to'].name}",
                    table,
                )
            )
        elif isinstance(action, exp.AlterRename) and not new:
            message = f"renames table {table} to {action.this.name}"
            hits.append(Hit("rename-table", message, table, renamed_to=action.this.name))
        elif (
            isinstance(action, exp.Drop)
            and str(action.args.get("kind")).upper() == "COLUMN"
            and not new
        ):
            for col in action.args.get("tables") or ():
                hits.append(Hit("drop-column", f"drops column {table}.{col.name}", table))
    return hits


def _add_column(col: Any, table: str | None, new: bool, ctx: Context, sqlite: bool) -> list[Hit]:
    constraints = [c.args.get("kind") for c in col.args.get("constraints") or ()]
    default = next((c for c in constraints if isinstance(c, exp.DefaultColumnConstraint)), None)
    not_null = any(
        isinstance(c, exp.NotNullColumnConstraint) and not c.args.get("allow_null")
        for c in constraints
    )
    auto = any(
        isinstance(c, exp.AutoIncrementColumnConstraint | exp.GeneratedAsIdentityColumnConstraint)
        for c in constraints
    )
    hits: list[Hit] = []
    where = f"{table}.{col.name}"
    if new and not sqlite:
        return hits
    if not_null and default is None and not auto:
        # SQLite refuses it whatever the table holds; MySQL/MariaDB fill in an implicit value.
        severity = ERROR if sqlite else WARNING
        hits.append(
            Hit(
                "add-column-not-null",
                f"adds NOT NULL column {where} without a default",
                table,
                severity,
            )
        )
    if default is not None:
        expr = default.this.unnest() if isinstance(default.this, exp.Paren) else default.this
        volatile = isinstance(expr, VOLATILE) or (
            sqlite and not isinstance(expr, exp.Literal | exp.Null | exp.Neg | exp.Boolean)
        )
        if volatile:
            why = (
                "SQLite refuses a non-constant default in ADD COLUMN"
                if sqlite
                else "every row is rewritten"
            )
            hits.append(
                Hit(
                    "volatile-default",
                    f"adds {where} with default {expr.sql()}: {why}",
                    table,
                    ERROR,
                )
            )
        elif not sqlite and ctx.version is not None:
            instant = ctx.at_least(10, 3) if _mariadb(ctx) else ctx.at_least(8, 0, 12)
            if not instant:
                hits.append(
                    Hit(
                        "add-column-default",
                        f"adds {where} with a default on {ctx.version_text} (instant from MariaDB 10.3 / MySQL 8.0.12)",
                        table,
                    )
                )
    return hits


def _create_types(node: Any, table: str | None) -> list[Hit]:
    keys = set()
    for pk in node.find_all(exp.PrimaryKey):
        keys |= {e.name for e in pk.expressions}
    hits = []
    for col in node.find_all(exp.ColumnDef):
        kind = col.args.get("kind")
        primary = col.name in keys or any(
            isinstance(c.args.get("kind"), exp.PrimaryKeyColumnConstraint)
            for c in col.args.get("constraints") or ()
        )
        if primary and isinstance(kind, exp.DataType) and kind.this in SMALL_INTS:
            hits.append(
                Hit(
                    "prefer-bigint",
                    f"{table}.{col.name} is an {kind.sql('mysql')} primary key",
                    table,
                )
            )
    return hits


def _command(node: Any, scan: Scan, sqlite: bool) -> list[Hit]:
    """Statements sqlglot keeps whole: read their tokens."""
    expression = node.expression
    rest = expression.name if isinstance(expression, exp.Literal) else str(expression or "")
    try:
        # The command word itself is not tokenized: sqlglot's tokenizer would swallow the rest
        # of the statement after it as one string.
        found = sqlglot.tokenize(rest, read="sqlite" if sqlite else "mysql")
    except TokenError:
        return []
    raw = [str(node.this)] + [t.text for t in found if t.token_type != TokenType.SEMICOLON]
    tokens = [t.upper() for t in raw]
    if tokens[:1] == ["CREATE"] and "INDEX" in tokens and "ON" in tokens:
        table = raw[tokens.index("ON") + 1].strip('`"')
        if scan.is_new(table):
            return []
        kind = tokens[1] if tokens[1] in BLOCKING_KINDS else None
        lock_none = _token_value(tokens, "LOCK") == "NONE" and _token_value(
            tokens, "ALGORITHM"
        ) in ("INPLACE", "INSTANT")
        if lock_none and kind is None:
            return []
        return [_index_hit(table, kind, lock_none, sqlite)]
    if tokens[:2] == ["RENAME", "TABLE"] and "TO" in tokens:
        table = raw[2].strip('`"')
        return (
            []
            if scan.is_new(table)
            else [
                Hit(
                    "rename-table",
                    f"renames table {table} to {raw[tokens.index('TO') + 1]}",
                    table,
                    renamed_to=raw[tokens.index("TO") + 1].strip('`"'),
                )
            ]
        )
    return []


def _token_value(tokens: list[str], key: str) -> str | None:
    for i, token in enumerate(tokens[:-2]):
        if token == key and tokens[i + 1] == "=":
            return tokens[i + 2]
    return None
