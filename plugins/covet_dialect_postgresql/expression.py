"""One canonical text for a SQL expression as PostgreSQL stores it and as a user writes it.

PostgreSQL keeps check constraints, index predicates and defaults as parse trees and prints
them back its own way: ``price > 0`` returns as ``price > 0::numeric``, ``s IN ('a', 'b')`` as
``s::text = ANY (ARRAY['a'::character varying, ...]::text[])``, ``x BETWEEN 1 AND 5`` as
``x >= 1 AND x <= 5``, ``name LIKE 'a%'`` as ``name::text ~~ 'a%'::text``. Comparing texts
needs one spelling for both, so this parses the expression (a small Pratt parser with
PostgreSQL's operator precedence), rewrites only what PostgreSQL itself rewrites, and prints
the tree with the fewest parentheses that keep its meaning.

What it drops is what cannot change a value: casts of literals, the ``::text`` PostgreSQL
puts on varchar columns, grouping parentheses. A user's cast of a column to another type
(``ts::date``) stays. Text it cannot parse (sub-queries, ``EXTRACT(... FROM ...)``) is only
whitespace-collapsed, so two different expressions never come out equal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from covet_core.schema.model import ColumnType
from covet_dialect_postgresql.pgparse import (
    DEFAULT_ORDER,
    NUMERIC,
    ORDER_WORDS,
    PLAIN_IDENT,
    RESERVED,
    STRINGISH,
    TEXT_TYPES,
    Node,
    Parser,
    Unparsable,
    op_power,
)


def _power(node: Node) -> int:
    """How tightly a printed node binds (PostgreSQL's precedence table)."""
    kind = node[0]
    if kind in ("or", "and"):
        return 1 if kind == "or" else 2
    if kind == "not":
        return 3
    if kind in ("is", "distinct"):
        return 4
    if kind == "bin":
        op = node[1]
        return 6 if op.endswith("LIKE") else op_power(op)
    if kind in ("in", "quantified"):
        return 6 if kind == "in" else 5
    if kind == "neg" or (kind == "num" and node[1].startswith("-")):
        return 11
    return 12 if kind == "cast" else 100


# -- canonical rewriting ----------------------------------------------------------------------

Types = Mapping[str, ColumnType]
TypeText = Callable[[str], str]


def _literal(node: Node) -> bool:
    if node[0] == "array":
        return all(_literal(item) for item in node[1])
    return node[0] in ("num", "str", "null", "bool")


def _canon(node: Node, types: Types, type_text: TypeText) -> Node:
    def c(n: Node) -> Node:
        return _canon(n, types, type_text)

    kind = node[0]
    if kind in ("or", "and"):
        items: list[Node] = []
        for item in node[1]:
            item = c(item)
            items.extend(item[1] if item[0] == kind else (item,))
        return (kind, tuple(items))
    if kind == "cast":
        inner, target = c(node[1]), node[2]
        base = target.split("(")[0]
        raw = node[1]
        if (
            raw[0] == "cast"
            and raw[2].split("(")[0] in TEXT_TYPES
            and base not in TEXT_TYPES
            and _literal(inner)
        ):
            # ('now'::text)::date converts text at run time, for every row; without the inner
            # cast 'now'::date is a constant PostgreSQL folds once, at CREATE TABLE.
            return ("cast", ("cast", inner, "text"), type_text(target))
        if _literal(inner):
            # A cast of a constant only restates its type; a quoted number becomes a number.
            numeric = base in ("integer", "bigint", "smallint", "numeric")
            if numeric and inner[0] == "str" and re.fullmatch(r"-?\d+(\.\d+)?", inner[1]):
                return ("num", inner[1])
            return inner
        if inner[0] == "col" and base in TEXT_TYPES and not target.endswith("]"):
            column = types.get(inner[1][-1])
            if column is not None and column.name in STRINGISH:
                return inner
        return ("cast", inner, type_text(target))
    if kind == "neg":
        inner = c(node[1])
        if inner[0] == "num" and not inner[1].startswith("-"):
            return ("num", "-" + inner[1])
        return ("neg", inner)
    if kind == "quantified":
        op, left, quantifier, right = node[1], c(node[2]), node[3], c(node[4])
        if right[0] == "array" and (op, quantifier) in (("=", "ANY"), ("<>", "ALL")):
            return ("in", left, right[1], op == "<>")
        return ("quantified", op, left, quantifier, right)
    if kind == "func":
        args = tuple(c(a) for a in node[2])
        if node[1] in ("now", "transaction_timestamp") and not args:
            return ("kw", "CURRENT_TIMESTAMP")
        return ("func", node[1], args)
    if kind == "in":
        return ("in", c(node[1]), tuple(c(i) for i in node[2]), node[3])
    if kind == "bin":
        return ("bin", node[1], c(node[2]), c(node[3]))
    if kind == "distinct":
        return ("distinct", c(node[1]), c(node[2]), node[3])
    if kind in ("not", "is"):
        return (kind, c(node[1]), *node[2:])
    if kind == "array":
        return ("array", tuple(c(i) for i in node[1]))
    if kind == "case":
        operand = None if node[1] is None else c(node[1])
        whens = tuple((c(w), c(t)) for w, t in node[2])
        return ("case", operand, whens, None if node[3] is None else c(node[3]))
    return node


def _ident(name: str) -> str:
    if PLAIN_IDENT.match(name) and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _emit(node: Node) -> str:
    def wrap(child: Node, below: int) -> str:
        text = _emit(child)
        return f"({text})" if _power(child) < below else text

    kind = node[0]
    if kind in ("or", "and"):
        return f" {kind.upper()} ".join(wrap(i, _power(node) + 1) for i in node[1])
    if kind == "not":
        return "NOT " + wrap(node[1], 3)
    if kind == "is":
        return f"{wrap(node[1], 5)} IS {node[2]}"
    if kind == "distinct":
        return f"{wrap(node[1], 5)} IS {'NOT ' if node[3] else ''}DISTINCT FROM {wrap(node[2], 5)}"
    if kind == "bin":
        power = _power(node)
        left_min = power + 1 if power <= 6 else power  # comparisons do not associate
        return f"{wrap(node[2], left_min)} {node[1]} {wrap(node[3], power + 1)}"
    if kind == "in":
        items = ", ".join(_emit(i) for i in node[2])
        return f"{wrap(node[1], 7)} {'NOT IN' if node[3] else 'IN'} ({items})"
    if kind == "quantified":
        return f"{wrap(node[2], 6)} {node[1]} {node[3]} ({_emit(node[4])})"
    if kind == "neg":
        return "-" + wrap(node[1], 12)
    if kind == "cast":
        return f"{wrap(node[1], 13)}::{node[2]}"
    if kind == "func":
        name = ".".join(_ident(p) for p in node[1].split("."))
        return f"{name}({', '.join(_emit(a) for a in node[2])})"
    if kind == "col":
        return ".".join(_ident(p) for p in node[1])
    if kind == "array":
        return f"ARRAY[{', '.join(_emit(i) for i in node[1])}]"
    if kind == "case":
        parts = ["CASE"] + ([_emit(node[1])] if node[1] is not None else [])
        for condition, result in node[2]:
            parts += ["WHEN", _emit(condition), "THEN", _emit(result)]
        if node[3] is not None:
            parts += ["ELSE", _emit(node[3])]
        return " ".join([*parts, "END"])
    if kind == "str":
        return "'" + node[1].replace("'", "''") + "'"
    if kind == "null":
        return "NULL"
    if kind == "star":
        return "*"
    return str(node[1])  # num, bool, kw


def _collapse(text: str) -> str:
    return " ".join(text.split())


@functools.lru_cache(maxsize=8192)
def _tree(text: str) -> Node | None:
    # Schemas repeat the same few defaults and checks across hundreds of tables.
    try:
        parser = Parser(text)
        node = parser.expr()
        if parser.peek()[0] != "eof":
            return None
    except (Unparsable, IndexError, ValueError):
        return None
    return node


def parse(text: str, types: Types, type_text: TypeText) -> Node | None:
    """The canonical tree of ``text``, or ``None`` when it is beyond this parser."""
    node = _tree(text)
    if node is None:
        return None
    # Only the types of the columns it names matter (a cast of a text column is dropped), so
    # the same check on a thousand tables is rewritten once per set of those types.
    return _canonical_tree(text, tuple(types.get(c) for c in _names(text)), type_text)


@functools.lru_cache(maxsize=8192)
def _names(text: str) -> tuple[str, ...]:
    node = _tree(text)
    return () if node is None else tuple(columns_in(node))


@functools.lru_cache(maxsize=8192)
def _canonical_tree(
    text: str, named: tuple[ColumnType | None, ...], type_text: TypeText
) -> Node | None:
    types = {c: t for c, t in zip(_names(text), named, strict=True) if t is not None}
    return _canon(_tree(text), types, type_text)  # type: ignore[arg-type]


def canonical(text: str, types: Types, type_text: TypeText) -> str:
    if _tree(text) is None:
        return _collapse(text)
    return _canonical_text(text, tuple(types.get(c) for c in _names(text)), type_text)


@functools.lru_cache(maxsize=8192)
def _canonical_text(text: str, named: tuple[ColumnType | None, ...], type_text: TypeText) -> str:
    return _emit(_canonical_tree(text, named, type_text))  # type: ignore[arg-type]


def columns_in(node: Node) -> list[str]:
    """Column names the expression refers to, in order of appearance, each once."""
    found: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, tuple) and n and n[0] == "col":
            if n[1][-1] not in found:
                found.append(n[1][-1])
        elif isinstance(n, tuple):
            for part in n[1:]:
                walk(part)

    walk(node)
    return found


def canonical_default(text: str, column_type: ColumnType, type_text: TypeText) -> str | None:
    """A column default in one spelling for its type (``None`` for an explicit NULL)."""
    node = parse(text, {}, type_text)
    if node is None:
        return _collapse(text)
    name = column_type.name
    if node[0] == "null":
        return None
    if name == "boolean" and node[0] in ("num", "str"):
        value = node[1].lower()
        if value in ("1", "t", "true", "y", "yes", "on"):
            node = ("bool", "true")
        elif value in ("0", "f", "false", "n", "no", "off"):
            node = ("bool", "false")
    elif name in NUMERIC and node[0] == "str" and re.fullmatch(r"-?\d+(\.\d+)?", node[1]):
        node = ("num", node[1])
    elif (name in STRINGISH or name == "enum") and node[0] == "num":
        node = ("str", node[1])
    return _emit(node)


def canonical_index_keys(text: str, types: Types, type_text: TypeText) -> str:
    """An index's key list (``lower(email), created_at DESC``) in one spelling; a key that is
    not a column or a function call keeps the parentheses CREATE INDEX requires."""
    try:
        parser = Parser(text)
        keys: list[str] = []
        while True:
            node = _canon(parser.expr(), types, type_text)
            key = _emit(node)
            if node[0] not in ("col", "func"):
                key = f"({key})"
            words: list[str] = []
            while parser.peek()[0] not in ("eof",) and not parser.at(","):
                kind, value = parser.take()
                words.append(value if kind == "qid" else value.lower())
            suffix = " ".join(w.upper() if w in ORDER_WORDS else w for w in words)
            suffix = DEFAULT_ORDER.get(suffix, suffix)
            keys.append(f"{key} {suffix}".strip())
            if parser.peek()[0] == "eof":
                return ", ".join(keys)
            parser.take(",")
    except (Unparsable, IndexError, ValueError):
        return _collapse(text)
