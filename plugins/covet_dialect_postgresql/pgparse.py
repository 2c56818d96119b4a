"""Tokenising and parsing a PostgreSQL expression into a tree (a small Pratt parser with
PostgreSQL's operator precedence); ``expression`` canonicalises and prints the tree."""

from __future__ import annotations

import re
from typing import Any

Node = tuple[Any, ...]
_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<str>[nN]?'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")*")|(?P<id>[A-Za-z_][A-Za-z0-9_$]*)|(?P<cast>::)
    |(?P<op>[+\-*/<>=~!@#%^&|`?]+)|(?P<p>[()\[\],.])""",
    re.VERBOSE,
)
_VALUE_KEYWORDS = {"current_timestamp", "current_date", "current_time", "localtimestamp",
                   "localtime", "current_user", "session_user", "user", "current_catalog"}  # fmt: skip
_TYPE_WORDS = {"varying", "precision", "with", "without", "time", "zone"}
_TYPED_LITERAL = {"date", "time", "timestamp", "timestamptz", "interval", "boolean", "integer",
                  "numeric", "text", "json", "jsonb", "uuid", "bigint", "smallint"}  # fmt: skip
_LIKE = {"~~": "LIKE", "!~~": "NOT LIKE", "~~*": "ILIKE", "!~~*": "NOT ILIKE"}
_COMPARISON = {"=", "<", ">", "<=", ">=", "<>"}
_WORD_OPS = {"like", "ilike"}
TEXT_TYPES = {"text", "character varying", "varchar", "bpchar", "character"}
STRINGISH = {"string", "char", "text"}
NUMERIC = {"smallint", "integer", "bigint", "decimal", "float", "real"}
ORDER_WORDS = {"asc", "desc", "nulls", "first", "last", "collate"}
DEFAULT_ORDER = {"ASC": "", "ASC NULLS LAST": "", "NULLS LAST": "", "DESC NULLS FIRST": "DESC"}
PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")
RESERVED = {"all", "and", "any", "array", "as", "asc", "both", "case", "cast", "check", "collate",
             "column", "constraint", "default", "desc", "distinct", "do", "else", "end", "false",
             "for", "from", "in", "is", "leading", "not", "null", "or", "order", "select", "table",
             "then", "to", "trailing", "true", "user", "when", "where", "with", "like", "ilike",
             "between", "limit", "primary", "references", "unique", "only", "group"}  # fmt: skip


class Unparsable(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise Unparsable(text[pos:])
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "op":
            # PostgreSQL's lexer: a multi-character operator ends in + or - only when it holds
            # one of ~ ! @ # % ^ & | ` ?, so "x>-1" is ">" then "-1".
            while len(value) > 1 and value[-1] in "+-" and not set(value) & set("~!@#%^&|`?"):
                pos -= 1
                value = value[:-1]
        if kind != "ws":
            out.append((kind, value))
    return out


class Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> tuple[str, str]:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def word(self, ahead: int = 0) -> str:
        kind, value = self.peek(ahead)
        return value.lower() if kind == "id" else ""

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] == "eof" or (value is not None and tok[1].lower() != value):
            raise Unparsable(f"expected {value!r} at {tok[1]!r}")
        self.i += 1
        return tok

    def at(self, value: str) -> bool:
        return self.peek()[1].lower() == value and self.peek()[0] in ("id", "op", "p")

    # -- grammar -----------------------------------------------------------------------------

    def expr(self, rbp: int = 0) -> Node:
        left = self.prefix()
        while True:
            bp = self.infix_power()
            if bp <= rbp:
                return left
            left = self.infix(left, bp)

    def infix_power(self) -> int:
        kind, value = self.peek()
        word = value.lower() if kind == "id" else ""
        if word == "or":
            return 1
        if word == "and":
            return 2
        if word in ("is", "isnull", "notnull"):
            return 4
        if word in ("in", "between", "like", "ilike") or (
            word == "not" and self.word(1) in ("in", "between", "like", "ilike")
        ):
            return 6
        if kind == "cast":
            return 12
        if kind == "op":
            return op_power(value)
        return 0

    def infix(self, left: Node, bp: int) -> Node:
        kind, value = self.take()
        word = value.lower()
        if kind == "cast":
            return ("cast", left, self.type_name())
        if word in ("or", "and"):
            return (word, (left, self.expr(bp)))
        if word in ("isnull", "notnull"):
            return ("is", left, "NULL" if word == "isnull" else "NOT NULL")
        if word == "is":
            negated = self.word() == "not"
            if negated:
                self.take()
            what = self.take()[1].upper()
            if what == "DISTINCT":
                self.take("from")
                return ("distinct", left, self.expr(4), negated)
            if what not in ("NULL", "TRUE", "FALSE", "UNKNOWN"):
                raise Unparsable(what)
            return ("is", left, ("NOT " if negated else "") + what)
        negated = word == "not"
        if negated:
            word = self.take()[1].lower()
        if word == "in":
            self.take("(")
            if self.word() == "select":
                raise Unparsable("sub-query")
            items = self.list_until(")")
            return ("in", left, items, negated)
        if word == "between":
            low = self.expr(6)
            self.take("and")
            high = self.expr(6)
            if negated:
                return ("or", (("bin", "<", left, low), ("bin", ">", left, high)))
            return ("and", (("bin", ">=", left, low), ("bin", "<=", left, high)))
        if word in _WORD_OPS:
            op = ("NOT " if negated else "") + word.upper()
            return ("bin", op, left, self.expr(6))
        op = "<>" if value == "!=" else _LIKE.get(value, value)
        if op in _COMPARISON and self.word() in ("any", "all", "some"):
            quantifier = "ANY" if self.take()[1].lower() != "all" else "ALL"
            self.take("(")
            right = self.expr()
            self.take(")")
            return ("quantified", op, left, quantifier, right)
        return ("bin", op, left, self.expr(bp))

    def list_until(self, close: str) -> tuple[Node, ...]:
        items: list[Node] = []
        if not self.at(close):
            items.append(self.expr())
            while self.at(","):
                self.take()
                items.append(self.expr())
        self.take(close)
        return tuple(items)

    def type_name(self) -> str:
        kind, value = self.take()
        if kind == "qid" or kind == "id":
            parts = [value if kind == "qid" else value.lower()]
            while self.at("."):  # schema-qualified: app.mood
                self.take()
                kind, value = self.take()
                parts[-1] += "." + (value if kind == "qid" else value.lower())
            while kind == "id" and self.word() in _TYPE_WORDS:
                parts.append(self.take()[1].lower())
        else:
            raise Unparsable(value)
        text = " ".join(parts)
        if self.at("("):
            self.take()
            args = [self.take()[1]]
            while self.at(","):
                self.take()
                args.append(self.take()[1])
            self.take(")")
            text += f"({','.join(args)})"
            while self.word() in _TYPE_WORDS:  # timestamp(3) with time zone
                text += " " + self.take()[1].lower()
        while self.at("["):
            self.take()
            self.take("]")
            text += "[]"
        return text

    def prefix(self) -> Node:
        kind, value = self.take()
        word = value.lower()
        if kind == "num":
            return ("num", value)
        if kind == "str":
            body = value[value.index("'") + 1 : -1]
            return ("str", body.replace("''", "'"))
        if kind == "p" and value == "(":
            if self.word() == "select":
                raise Unparsable("sub-query")
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "op" and value in "+-":
            operand = self.expr(11)
            return ("neg", operand) if value == "-" else operand
        if kind == "op" and value == "*":
            return ("star",)
        if kind == "qid":
            return self.name_or_call(value[1:-1].replace('""', '"'))
        if kind != "id":
            raise Unparsable(value)
        if word == "null":
            return ("null",)
        if word in ("true", "false"):
            return ("bool", word)
        if word == "not":
            return ("not", self.expr(3))
        if word in _VALUE_KEYWORDS and not self.at("("):
            return ("kw", word.upper())
        if word == "array" and self.at("["):
            self.take()
            return ("array", self.list_until("]"))
        if word == "cast" and self.at("("):
            self.take()
            inner = self.expr()
            self.take("as")
            type_name = self.type_name()
            self.take(")")
            return ("cast", inner, type_name)
        if word == "case":
            return self.case()
        if word in _TYPED_LITERAL and self.peek()[0] == "str":
            return ("cast", self.prefix(), word)
        if word in RESERVED:
            raise Unparsable(word)
        return self.name_or_call(word)

    def name_or_call(self, first: str) -> Node:
        parts = [first]
        while self.at("."):
            self.take()
            kind, value = self.take()
            parts.append(value[1:-1].replace('""', '"') if kind == "qid" else value.lower())
        if self.at("("):
            self.take()
            if self.word() in ("distinct", "all"):
                raise Unparsable("aggregate modifier")
            args = self.list_until(")")
            return ("func", ".".join(parts), args)
        return ("col", tuple(parts))

    def case(self) -> Node:
        operand = None if self.word() == "when" else self.expr()
        whens: list[tuple[Node, Node]] = []
        while self.word() == "when":
            self.take()
            condition = self.expr()
            self.take("then")
            whens.append((condition, self.expr()))
        otherwise = None
        if self.word() == "else":
            self.take()
            otherwise = self.expr()
        self.take("end")
        return ("case", operand, tuple(whens), otherwise)


def op_power(op: str) -> int:
    if op in _COMPARISON or op == "!=":
        return 5
    if op in _LIKE:
        return 6
    if op in ("+", "-"):
        return 8
    if op in ("*", "/", "%"):
        return 9
    if op == "^":
        return 10
    return 7
