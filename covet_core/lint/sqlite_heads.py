"""SQLite statements whose rules read only their first words, told from the tokens of their
head instead of a full parse.

A SQLite migration is mostly ``CREATE TABLE`` column lists and the ``INSERT ... SELECT``
copies of table rebuilds, and SQLite applies a statement in a fraction of a millisecond: a
full tokenize and parse of every statement cost as much as applying them. The rules use only
a table's name from ``CREATE TABLE``, ``CREATE INDEX`` and ``DROP TABLE``, and nothing from
``INSERT`` and ``DROP INDEX``, so those are read from sqlglot's tokens of their first
``HEAD`` characters, up to the name. Anything that does not match the grammar below exactly
is parsed in full; tests check the hits of both agree on every corpus statement."""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

HEAD = 160
"""Characters tokenized to tell a statement: enough for ``CREATE UNIQUE INDEX IF NOT EXISTS
"schema"."name" ON "table" (`` with room for a leading comment."""
NAMES = (TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING)
"""Tokens that are a name. A keyword used as a name is left to the parser."""


class _Head:
    """The head's tokens and a cursor over them."""

    def __init__(self, tokens: list[Any], cut: bool) -> None:
        self.tokens, self.cut, self.i = tokens, cut, 0
        self.words = tuple(t.text.upper() for t in tokens)

    def word(self, *words: str) -> bool:
        """Take the next tokens if they are ``words`` (case-insensitive)."""
        if self.words[self.i : self.i + len(words)] != words:
            return False
        self.i += len(words)
        return True

    def name(self, qualified: bool = True) -> str | None:
        """Take a name (``schema.name`` when ``qualified``); the last token of a cut head may
        itself be cut, so a name must be followed by a token unless the text ends there."""
        t = self.tokens
        if qualified and self.i + 2 < len(t) and t[self.i + 1].token_type == TokenType.DOT:
            self.i += 2  # the rules key tables by name
        if self.i >= len(t) or t[self.i].token_type not in NAMES:
            return None
        if self.cut and self.i + 1 >= len(t):
            return None
        self.i += 1
        return t[self.i - 1].text

    def ends(self) -> bool:
        return not self.cut and self.i == len(self.tokens)

    def next_is(self, kind: Any) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i].token_type == kind


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name))


def _create(head: _Head) -> Any | None:
    head.word("TEMP") or head.word("TEMPORARY")
    if head.word("TABLE"):
        head.word("IF", "NOT", "EXISTS")
        name = head.name()
        return (
            None if name is None else exp.Create(kind="TABLE", this=exp.Schema(this=_table(name)))
        )
    head.word("UNIQUE")
    if not head.word("INDEX"):
        return None
    head.word("IF", "NOT", "EXISTS")
    if head.name() is None or not head.word("ON"):
        return None
    # SQLite's CREATE INDEX names its table unqualified (the schema goes on the index name).
    table = head.name(qualified=False)
    if table is None or not head.next_is(TokenType.L_PAREN):
        return None
    return exp.Create(kind="INDEX", this=exp.Index(table=_table(table)))


def _drop(head: _Head) -> Any | None:
    kind = "TABLE" if head.word("TABLE") else "INDEX" if head.word("INDEX") else None
    if kind is None:
        return None
    head.word("IF", "EXISTS")
    name = head.name()
    if name is None or not head.ends():
        return None
    return exp.Drop(kind=kind, tables=[_table(name)])


def read_head(sql: str, tokenizer: Any) -> tuple[Any | None, list[Any] | None]:
    """(the tree standing in for ``sql``, or None: parse it in full; the statement's tokens
    when its head was all of it, so a short statement is not tokenized twice).

    None for anything but the statements above, a head that does not tokenize (cut inside a
    string or comment), or text holding a ``;`` anywhere (possibly several statements)."""
    if ";" in sql:
        return None, None
    cut = len(sql) > HEAD
    try:
        tokens = tokenizer.tokenize(sql[:HEAD] if cut else sql)
    except TokenError:
        if cut:
            return None, None
        raise
    whole = None if cut else tokens
    if not tokens:
        return None, whole
    head = _Head(tokens, cut)
    if head.word("INSERT") or head.word("REPLACE"):
        return (exp.Insert() if len(tokens) > 1 or not cut else None), whole
    if head.word("CREATE"):
        return _create(head), whole
    if head.word("DROP"):
        return _drop(head), whole
    return None, whole
