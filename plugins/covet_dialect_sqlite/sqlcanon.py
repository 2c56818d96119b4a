"""One spelling for a SQLite expression (CHECK, index keys and predicates, defaults), so two
texts the server treats alike compare equal; literals are never touched."""

from __future__ import annotations

import functools

from covet_dialect_sqlite.sqltext import (
    BLOB,
    OP,
    QUOTED,
    WORD,
    Token,
    matching,
    tokenize,
)

# -- one spelling for an expression --------------------------------------------------------------

KEYWORDS = frozenset(
    [
        "ABORT",
        "ALL",
        "AND",
        "AS",
        "ASC",
        "BETWEEN",
        "BY",
        "CASE",
        "CAST",
        "COLLATE",
        "CONSTRAINT",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "DEFAULT",
        "DESC",
        "DISTINCT",
        "ELSE",
        "END",
        "ESCAPE",
        "EXISTS",
        "FALSE",
        "FROM",
        "GLOB",
        "IN",
        "INDEX",
        "IS",
        "ISNULL",
        "KEY",
        "LIKE",
        "MATCH",
        "NOT",
        "NOTNULL",
        "NULL",
        "ON",
        "OR",
        "PRIMARY",
        "RAISE",
        "REFERENCES",
        "REGEXP",
        "SELECT",
        "TABLE",
        "THEN",
        "TRUE",
        "UNIQUE",
        "WHEN",
        "WHERE",
    ]
)
_NO_SPACE_BEFORE = {")", ",", "."}
_NO_SPACE_AFTER = {"(", "."}
_EQUIVALENT_OPS = {"==": "=", "!=": "<>"}


def _identifier(name: str) -> str:
    lowered = name.lower()
    simple = lowered.replace("_", "a").isalnum() and lowered.isascii() and not lowered[0].isdigit()
    if simple and lowered.upper() not in KEYWORDS:
        return lowered
    return '"' + lowered.replace('"', '""') + '"'


def canonical_tokens(tokens: list[Token]) -> str:
    """Keywords upper-case, identifiers lower-case (SQLite's names ignore case) and quoted only
    when they must be, ``==`` as ``=``, one space between tokens; literals untouched."""
    out: list[str] = []
    prev: Token | None = None
    for token in tokens:
        if token.kind == WORD and token.value.upper() in KEYWORDS:
            text = token.value.upper()
        elif token.kind in (WORD, QUOTED):
            text = _identifier(token.value)
        elif token.kind == OP:
            text = _EQUIVALENT_OPS.get(token.value, token.value)
        elif token.kind == BLOB:
            text = "X" + token.text[1:].upper()
        else:
            text = token.text
        space = bool(out) and text not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER
        if prev is not None and text == "(" and prev.kind in (WORD, QUOTED):
            space = prev.kind == WORD and prev.value.upper() in KEYWORDS
        if out and out[-1].strip() in ("-", "+") and _unary(out[:-1]):
            space = False
        out.append((" " if space else "") + text)
        prev = token
    return "".join(out).strip()


def _unary(before: list[str]) -> bool:
    """Whether a sign after ``before`` is a unary sign (not a subtraction)."""
    if not before:
        return True
    last = before[-1].strip()
    if last in ("(", ",") or last.upper() in KEYWORDS:
        return True
    return not last[:1].isalnum() and last[:1] not in ("'", '"', ")", "_")


def strip_outer_parens(tokens: list[Token]) -> list[Token]:
    while (
        len(tokens) >= 2
        and tokens[0].kind == OP
        and tokens[0].value == "("
        and matching(tokens, 0) == len(tokens) - 1
    ):
        tokens = tokens[1:-1]
    return tokens


@functools.lru_cache(maxsize=8192)
def canonical_expression(sql: str) -> str:  # schemas repeat a few checks across many tables
    return canonical_tokens(strip_outer_parens(tokenize(sql)))
