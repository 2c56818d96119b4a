"""Canonical text of a MySQL expression (CHECK clauses, expression defaults, index keys).

MariaDB does not keep a CHECK as written: it parses it and prints the tree back, so
``CHECK ((a > 0) AND NOT (b = 5))`` reads back as ``\\`a\\` > 0 and \\`b\\` <> 5``. To compare a
model's text with the server's, both go through the same parse-and-print here: identifiers
backtick-quoted and lower-cased (MySQL column names ignore case), keywords lower-cased,
``!=`` / ``&&`` / ``||`` / ``!`` / ``%`` spelt ``<>`` / ``and`` / ``or`` / ``not`` / ``mod``,
only the parentheses precedence needs, and NOT pushed into comparisons and through AND / OR
(De Morgan), as MariaDB does. Every rewrite keeps the meaning under SQL's three-valued logic,
so two different expressions never come out equal. Text the small grammar does not cover
(CAST, INTERVAL, COLLATE, subqueries) falls back to a token-by-token canonical form.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_TOKEN = re.compile(
    # A bit or hex literal (b'101', x'0A') is one token: "b '101'" is not SQL.
    r"\s+|(?P<bits>[bBxX]'[0-9a-fA-F]*')|(?P<str>'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\")"
    r"|(?P<qid>`(?:[^`]|``)*`)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<word>[A-Za-z_$][\w$]*)"
    r"|(?P<op><=>|<>|!=|>=|<=|\|\||&&|<<|>>|[=<>+\-*/%(),.!~^|&])",
    re.S,
)
_KEYWORDS = frozenset(
    {
        "and", "or", "xor", "not", "is", "null", "true", "false", "unknown", "in", "between",
        "like", "regexp", "rlike", "case", "when", "then", "else", "end", "div", "mod",
        "escape", "binary", "collate", "interval", "as", "exists", "select", "asc", "desc",
    }
)  # fmt: skip
_SYNONYMS = {"!=": "<>", "&&": "and", "||": "or", "!": "not", "%": "mod", "rlike": "regexp"}
_FUNCTIONS = {"lower": "lcase", "upper": "ucase"}
_BINARY = {  # operator -> precedence (higher binds tighter)
    "or": 1, "xor": 2, "and": 3,
    "=": 5, "<=>": 5, "<>": 5, "<": 5, ">": 5, "<=": 5, ">=": 5, "like": 5, "regexp": 5,
    "|": 6, "&": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "div": 10, "mod": 10,
    "^": 11,
}  # fmt: skip
_NOT_PREC, _CMP_PREC, _UNARY_PREC = 4, 5, 12
_INVERSE = {"=": "<>", "<>": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_ESCAPES = {"0": "\0", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "Z": "\x1a"}
# \% and \_ keep their backslash outside LIKE patterns (MySQL's string literal rules).
_ESCAPES |= {"%": "\\%", "_": "\\_"}


class _Unparsable(Exception):
    pass


STRING_LITERAL = re.compile(r"'(?:[^'\\]|''|\\.)*'|\"(?:[^\"\\]|\"\"|\\.)*\"", re.S)
"""Exactly one MySQL string literal, single- or double-quoted, with its escapes."""


def decode_string(literal: str) -> str:
    """The value of a MySQL string literal (quotes doubled or backslash-escaped)."""
    quote, body = literal[0], literal[1:-1]

    def one(match: re.Match[str]) -> str:
        escaped = match.group(1)
        return quote if escaped is None else _ESCAPES.get(escaped, escaped)

    # One pass: in 'a\\''b' the doubled quote follows an escaped backslash.
    return re.sub(r"\\(.)|" + re.escape(quote * 2), one, body, flags=re.S)


def encode_string(value: str) -> str:
    """A MySQL string literal: a backslash is an escape character there, unlike in ANSI SQL
    (and a NUL is written as its escape, so the statement text holds none)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0") + "'"


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _Unparsable(text[pos:])
        pos = match.end()
        kind = match.lastgroup
        if kind is None:
            continue
        value = match.group(kind)
        if kind == "bits":
            kind, value = "num", value[0].lower() + value[1:].lower()  # a literal, as written
        elif kind == "str":
            value = encode_string(decode_string(value))
        elif kind == "qid":
            kind, value = "id", value[1:-1].replace("``", "`").lower()
        elif kind == "num":
            value = value.lower()
        elif kind == "word":
            value = value.lower()
            kind = "kw" if value in _KEYWORDS else "word"
        if kind in ("op", "kw"):
            value = _SYNONYMS.get(value, value)
        tokens.append((kind, value))
    return tokens


@functools.lru_cache(maxsize=8192)
def canonical_expression(text: str, *, keys: bool = False) -> str:
    """One spelling for ``text`` (idempotent). ``keys``: a comma-separated index key list."""
    try:
        tokens = _tokens(text)
    except _Unparsable:
        return " ".join(text.split())
    if not keys:
        try:
            parser = _Parser(tokens)
            node = parser.expression(0)
            if parser.pos != len(tokens):
                raise _Unparsable(str(tokens[parser.pos]))
            return _print(_boolean(node))
        except _Unparsable:
            pass
    return _print_tokens(tokens, keys)


def _print_tokens(tokens: list[tuple[str, str]], keys: bool) -> str:
    # In a key list a bare word is a column (``name(10)`` is a prefix: MySQL 8 wants a
    # function in its own parentheses); elsewhere it may be a type (CAST(x AS CHAR)): as is.
    out = ""
    for i, (kind, value) in enumerate(tokens):
        text = _quote(value) if kind == "id" or (kind == "word" and keys) else value
        glued = out.endswith(("(", ".")) or value in (")", ",", ".") or (value == "(" and i > 0 and tokens[i - 1][0] in ("id", "word"))  # fmt: skip
        out += text if (glued or not out) else " " + text
    return out


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class _Parser:
    """Precedence climbing over MySQL's operator table; nodes are tuples."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.tokens[i][1] if i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens) or (expected and self.tokens[self.pos][1] != expected):
            raise _Unparsable(f"expected {expected}")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expression(self, min_prec: int) -> Any:
        if self.peek() == "not":
            self.take()
            left = _negate(_boolean(self.expression(_NOT_PREC)))
        else:
            left = self.unary()
        while True:
            op = self.peek()
            negated = op == "not" and self.peek(1) in ("in", "between", "like", "regexp")
            if negated:
                op = self.peek(1)
            if op in ("is", "in", "between") and min_prec <= _CMP_PREC:
                self.pos += 2 if negated else 1
                left = self.postfix(op, left, negated)
                continue
            prec = _BINARY.get(op or "")
            if prec is None or prec < min_prec:
                return left
            self.pos += 2 if negated else 1
            right = self.expression(prec + 1)
            if op in ("and", "or", "xor"):
                left, right = _boolean(left), _boolean(right)
            left = ("bin", op, left, right)
            left = _negate(left) if negated else left

    def postfix(self, op: str, left: Any, negated: bool) -> Any:
        if op == "is":
            negated = self.peek() == "not"
            if negated:
                self.take()
            value = self.take()[1]
            if value not in ("null", "true", "false", "unknown"):
                raise _Unparsable(value)
            return ("is", left, value, negated)
        if op == "between":
            low = self.expression(_CMP_PREC + 1)
            self.take("and")
            return ("between", left, low, self.expression(_CMP_PREC + 1), negated)
        self.take("(")
        items = [self.expression(0)]
        while self.peek() == ",":
            self.take()
            items.append(self.expression(0))
        self.take(")")
        return ("in", left, tuple(items), negated)

    def unary(self) -> Any:
        kind, value = self.take()
        if value in ("-", "+", "~"):
            operand = self.expression(_UNARY_PREC)
            return operand if value == "+" else ("neg", value, operand)
        if value == "(":
            node = self.expression(0)
            self.take(")")
            return node
        if kind in ("str", "num") or value in ("null", "true", "false"):
            return ("lit", value)
        if value == "case":
            return self.case()
        if kind == "word" and self.peek() == "(":
            self.take("(")
            args: list[Any] = []
            while self.peek() != ")":
                args.append(self.expression(0))
                if self.peek() == ",":
                    self.take()
                elif self.peek() != ")":
                    raise _Unparsable("argument list")
            self.take(")")
            return ("fn", _FUNCTIONS.get(value, value), tuple(args))
        if kind in ("id", "word"):
            parts = [value]
            while self.peek() == ".":
                self.take()
                parts.append(self.take()[1])
            return ("id", tuple(parts))
        raise _Unparsable(value)

    def case(self) -> Any:
        operand = None if self.peek() == "when" else self.expression(0)
        whens = []
        while self.peek() == "when":
            self.take()
            condition = self.expression(0)
            self.take("then")
            whens.append((condition, self.expression(0)))
        otherwise = None
        if self.peek() == "else":
            self.take()
            otherwise = self.expression(0)
        self.take("end")
        return ("case", operand, tuple(whens), otherwise)


def _boolean(node: Any) -> Any:
    # MariaDB reads a bare column or number used as a condition as `x <> 0`.
    if node[0] == "id":
        return ("bin", "<>", node, ("lit", "0"))
    return node


def _negate(node: Any) -> Any:
    kind = node[0]
    if kind == "bin" and node[1] in _INVERSE:
        return ("bin", _INVERSE[node[1]], node[2], node[3])
    if kind == "bin" and node[1] in ("and", "or"):
        flipped = "or" if node[1] == "and" else "and"
        return ("bin", flipped, _negate(node[2]), _negate(node[3]))
    if kind in ("is", "between", "in"):
        return (*node[:-1], not node[-1])
    if kind == "bin" and node[1] in ("like", "regexp"):
        return ("notbin", node[1], node[2], node[3])
    if kind == "notbin":
        return ("bin", node[1], node[2], node[3])
    if kind == "not":
        return node[1]
    return ("not", node)


def _prec(node: Any) -> int:
    kind = node[0]
    if kind in ("bin", "notbin"):
        return _BINARY[node[1]]
    if kind in ("is", "between", "in"):
        return _CMP_PREC
    return {"not": _NOT_PREC, "neg": _UNARY_PREC}.get(kind, 100)


def _wrap(node: Any, parent: int, right: bool = False, assoc: bool = False) -> str:
    text, prec = _print(node), _prec(node)
    tight = prec < parent or (prec == parent and right and not assoc)
    return f"({text})" if tight else text


def _print(node: Any) -> str:
    kind = node[0]
    if kind == "lit":
        return str(node[1])
    if kind == "id":
        return ".".join(_quote(p) for p in node[1])
    if kind == "fn":
        return f"{node[1]}({','.join(_print(a) for a in node[2])})"
    if kind in ("bin", "notbin"):
        op, prec = node[1], _BINARY[node[1]]
        assoc = op in ("and", "or")
        word = f"not {op}" if kind == "notbin" else op
        return f"{_wrap(node[2], prec, assoc=assoc)} {word} {_wrap(node[3], prec, True, assoc)}"
    if kind == "not":
        return f"not {_wrap(node[1], _NOT_PREC + 1)}"
    if kind == "neg":
        return f"{node[1]}{_wrap(node[2], _UNARY_PREC)}"
    if kind == "is":
        return f"{_wrap(node[1], _CMP_PREC)} is {'not ' if node[3] else ''}{node[2]}"
    if kind == "between":
        word = "not between" if node[4] else "between"
        low, high = (_wrap(n, _CMP_PREC + 1) for n in node[2:4])
        return f"{_wrap(node[1], _CMP_PREC)} {word} {low} and {high}"
    if kind == "in":
        items = ",".join(_print(i) for i in node[2])
        return f"{_wrap(node[1], _CMP_PREC)} {'not in' if node[3] else 'in'} ({items})"
    operand, whens, otherwise = node[1], node[2], node[3]
    text = "case" + (f" {_print(operand)}" if operand is not None else "")
    text += "".join(f" when {_print(w)} then {_print(t)}" for w, t in whens)
    return text + (f" else {_print(otherwise)}" if otherwise is not None else "") + " end"
