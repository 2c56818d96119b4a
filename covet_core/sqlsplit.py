"""Splitting a SQL script into the statements a server accepts one at a time.

Behaviour is chosen by data: a dialect plugin hands ``split`` a ``SplitRules`` naming the lexical
features its SQL has (dollar quotes, backslash escapes, ``DELIMITER`` lines, ...); this module
knows no dialect names. ``POSTGRESQL_RULES``, ``MYSQL_RULES`` and ``SQLITE_RULES`` are ready-made
rule sets, and ``splitter(rules)`` is the ``Dialect.split_statements`` worker built from one.

Why hand-written and not sqlparse or sqlglot: both were run on the corpora and edge cases.
``sqlparse.split`` (0.6.1) glues ``DELIMITER //`` lines and the procedure after them into one
statement, splits ``COPY ... FROM stdin`` data rows at their semicolons, treats ``\\'`` as an
escape in every dialect (PostgreSQL/SQLite ``SELECT 'a\\'; SELECT 1; SELECT 'b';`` comes back as
one statement), and takes about 1.7 s on ``Chinook_PostgreSql.sql``. sqlglot (30.x) only
tokenizes: splitting on its semicolon tokens cuts trigger and procedure bodies, and it has no
``DELIMITER`` or COPY data.
What a splitter needs is small - strings, identifiers, comments, dollar quotes, and block depth
in ``CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT`` - so this is a single linear scan: anchored regular
expressions jump over plain text, strings and identifiers, and ``str.find`` over comments,
dollar-quoted bodies and COPY data. Words are looked at only where they matter (a statement's
first words, routine bodies, COPY), like psql's own lexer; nothing backtracks over the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class SplitRules:
    """The lexical features of a dialect's scripts. Always on, as in standard SQL: ``'...'``
    strings with ``''``, ``"..."`` identifiers with ``""``, ``--`` and ``/* */`` comments."""

    dollar_quotes: bool = False
    """``$$ ... $$`` and ``$tag$ ... $tag$`` bodies."""
    escape_strings: bool = False
    """``E'...'`` strings take backslash escapes; plain ``'...'`` strings stay standard."""
    backtick_identifiers: bool = False
    bracket_identifiers: bool = False
    """``[name]`` is an identifier (SQLite); off where ``[`` subscripts arrays."""
    hash_comments: bool = False
    dash_comment_needs_space: bool = False
    """``--`` starts a comment only before whitespace or a control character (``5--1`` is 6)."""
    executable_comments: bool = False
    """``/*! ... */`` is statement content, not a comment (mysqldump's version comments)."""
    backslash_escapes: bool = False
    """A backslash escapes the next character in every quoted string (``'it\\'s'``)."""
    delimiter_command: bool = False
    """Client ``DELIMITER xx`` lines change the terminator; they are not statements."""
    begin_end_blocks: bool = False
    """``CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT`` bodies: ``;`` inside BEGIN ... END (and a
    CASE ... END in it) does not end the statement; ``END IF/LOOP/WHILE/REPEAT/FOR`` closes none."""
    copy_from_stdin: bool = False
    """``COPY ... FROM stdin;`` takes the data lines after it up to a ``\\.`` line: the chunk's
    text is the command, its ``;``, and the data through the ``\\.`` line, as written."""


POSTGRESQL_RULES = SplitRules(
    dollar_quotes=True, escape_strings=True, begin_end_blocks=True, copy_from_stdin=True
)
# MySQL runners (authelia's among them) send CREATE PROCEDURE ... BEGIN ... END; without DELIMITER.
MYSQL_RULES = SplitRules(
    backtick_identifiers=True,
    hash_comments=True,
    dash_comment_needs_space=True,
    executable_comments=True,
    backslash_escapes=True,
    delimiter_command=True,
    begin_end_blocks=True,
)
SQLITE_RULES = SplitRules(
    backtick_identifiers=True, bracket_identifiers=True, begin_end_blocks=True
)


@dataclass(frozen=True, slots=True)
class SqlChunk:
    """One statement: its text without the terminator, and the 1-based line it starts on."""

    text: str
    line: int


_SINGLE = re.compile(r"'[^']*(?:''[^']*)*'?")
_SINGLE_BS = re.compile(r"'[^'\\]*(?:(?:''|\\.)[^'\\]*)*'?", re.S)
_DOUBLE = re.compile(r'"[^"]*(?:""[^"]*)*"?')
_DOUBLE_BS = re.compile(r'"[^"\\]*(?:(?:""|\\.)[^"\\]*)*"?', re.S)
_BACKTICK = re.compile(r"`[^`]*(?:``[^`]*)*`?")
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d]\w*)?\$")
_NEXT_WORD = re.compile(r"\s+(\w+)")
_COPY_END = re.compile(r"^\\\.[ \t]*\r?$", re.M)

_ROUTINES = frozenset({"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"})
_MODIFIERS = frozenset({"OR", "REPLACE", "TEMP", "TEMPORARY", "AGGREGATE", "CONSTRAINT"})
_NOT_CLOSING_BEGIN = frozenset({"IF", "LOOP", "WHILE", "REPEAT", "FOR"})  # END IF; ...
# What the scan knows about the current statement, from its words.
_NEW, _CREATE, _ROUTINE, _COPY, _COPY_STDIN, _PLAIN = range(6)


@lru_cache(maxsize=32)
def _lexers(rules: SplitRules, delimiter: str) -> tuple[str, re.Pattern[str], re.Pattern[str]]:
    """Characters that may start a token, and patterns for the runs between them."""
    special = "'\"-/" + delimiter[0]
    special += "`" * rules.backtick_identifiers + "[" * rules.bracket_identifiers
    special += "#" * rules.hash_comments + "$" * rules.dollar_quotes
    cls = re.escape(special)
    words = re.compile(rf"(\w+)|(\s+)|[^\w\s{cls}]+")
    return special, re.compile(f"[^{cls}]+"), words


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


def _match_end(pattern: re.Pattern[str], sql: str, pos: int) -> int:
    found = pattern.match(sql, pos)
    return found.end() if found else pos + 1


def _copy_data_end(sql: str, pos: int) -> int:
    """End of the ``\\.`` line closing COPY data that starts on the line after ``pos``."""
    eol = sql.find("\n", pos)
    if eol < 0:
        return pos
    found = _COPY_END.search(sql, eol + 1)
    return found.end() if found else len(sql)


def split(sql: str, rules: SplitRules) -> list[SqlChunk]:
    """Split ``sql`` into statements; chunks holding only comments or nothing are dropped."""
    chunks: list[SqlChunk] = []
    delimiter = ";"
    special, fast, words = _lexers(rules, delimiter)
    n = len(sql)
    i = 1 if sql.startswith("\ufeff") else 0
    start, last, line, line_pos, start_line = -1, 0, 1, 0, 1
    kind, depth, prev, definer, header = _NEW, 0, "", False, 0
    while i < n:
        c = sql[i]
        content, word = True, ""
        if c not in special:
            if kind in (_NEW, _CREATE, _ROUTINE, _COPY):
                m = words.match(sql, i)
                assert m is not None
                end = m.end()
                if m.lastindex == 1:
                    word = m.group(1).upper()
                elif m.lastindex == 2:
                    content = False
            else:
                end = _match_end(fast, sql, i)
                content = not (c.isspace() and sql[i:end].isspace())
        elif sql.startswith(delimiter, i) and (depth == 0 or delimiter != ";"):
            end = i + len(delimiter)
            if kind == _COPY_STDIN:
                last = end = _copy_data_end(sql, end)
            if start >= 0:
                chunks.append(SqlChunk(sql[start:last].rstrip(), start_line))
            start, kind, depth, prev, definer, header = -1, _NEW, 0, "", False, 0
            i = end
            continue
        elif c == "'":
            escaped = rules.backslash_escapes or (
                rules.escape_strings
                and i > 0
                and sql[i - 1] in "eE"
                and (i < 2 or not _is_word_char(sql[i - 2]))
            )
            end = _match_end(_SINGLE_BS if escaped else _SINGLE, sql, i)
        elif c == '"':
            end = _match_end(_DOUBLE_BS if rules.backslash_escapes else _DOUBLE, sql, i)
        elif c == "`" and rules.backtick_identifiers:
            end = _match_end(_BACKTICK, sql, i)
        elif c == "[" and rules.bracket_identifiers:
            close = sql.find("]", i + 1)
            end = n if close < 0 else close + 1
        elif (c == "#" and rules.hash_comments) or (
            sql.startswith("--", i)
            and (not rules.dash_comment_needs_space or i + 2 >= n or sql[i + 2] <= " ")
        ):
            close = sql.find("\n", i)
            end, content = (n if close < 0 else close), False
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            end = n if close < 0 else close + 2
            content = rules.executable_comments and sql.startswith("!", i + 2)
        elif (
            c == "$"
            and rules.dollar_quotes
            and (i == 0 or not _is_word_char(sql[i - 1]))
            and (tag := _DOLLAR_TAG.match(sql, i))
        ):
            close = sql.find(tag.group(), tag.end())
            end = n if close < 0 else close + len(tag.group())
        else:
            end = i + 1
        if word:
            if kind == _NEW:
                if word == "DELIMITER" and rules.delimiter_command and start < 0:
                    eol = sql.find("\n", end)
                    eol = n if eol < 0 else eol
                    argument = sql[end:eol].split()
                    if argument:
                        delimiter = argument[0]
                        special, fast, words = _lexers(rules, delimiter)
                    i = eol
                    continue
                kind = _PLAIN
                if delimiter == ";":
                    if word == "CREATE" and rules.begin_end_blocks:
                        kind = _CREATE
                    elif word == "COPY" and rules.copy_from_stdin:
                        kind = _COPY
            elif kind == _CREATE:
                # CREATE [OR REPLACE] [TEMP] [DEFINER = user@host] TRIGGER|PROCEDURE|...
                header += 1
                if word in _ROUTINES:
                    kind = _ROUTINE
                elif word == "DEFINER":
                    definer = True
                elif (word not in _MODIFIERS and not definer) or header > 8:
                    kind = _PLAIN
            elif kind == _ROUTINE:
                if word == "BEGIN" or (word == "CASE" and depth > 0):
                    depth += 1
                elif word == "END" and depth > 0:
                    after = _NEXT_WORD.match(sql, end)
                    closes = after.group(1).upper() if after else ""
                    if after and (closes == "CASE" or closes in _NOT_CLOSING_BEGIN):
                        end = after.end()  # END CASE closes the CASE, not one more
                    if closes not in _NOT_CLOSING_BEGIN:
                        depth -= 1
            elif kind == _COPY and prev == "FROM" and word == "STDIN":
                kind = _COPY_STDIN
            prev = word
        if content:
            if start < 0:
                start = i
                line += sql.count("\n", line_pos, i)
                line_pos, start_line = i, line
            last = end
        i = end
    if start >= 0:
        chunks.append(SqlChunk(sql[start:last].rstrip(), start_line))
    return chunks


def splitter(rules: SplitRules) -> Callable[[str], list[str]]:
    """The ``Dialect.split_statements`` worker for ``rules``: the statements' texts."""

    def split_statements(sql: str) -> list[str]:
        return [chunk.text for chunk in split(sql, rules)]

    return split_statements
