"""Reading SQLite's own DDL text: a tokenizer, the parts of CREATE TABLE / CREATE INDEX that no
pragma reports, and one canonical spelling for SQL expressions.

SQLite keeps every CREATE statement as written in ``sqlite_master.sql``. The pragmas report
columns, keys and indexes, but not CHECK constraints, constraint names, AUTOINCREMENT or an
index's WHERE / key expressions: those come from the text. Quoted identifiers (``"x"``, `` `x` ``,
``[x]``), string and blob literals, comments and nested parentheses are tokenized properly, so a
comma or a keyword inside any of them never splits or ends a clause.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

# Token kinds.
WORD = "word"  # a bare identifier or keyword
QUOTED = "quoted"  # a quoted identifier; ``value`` is unquoted
STRING = "string"  # '...' (``text`` keeps the quotes)
BLOB = "blob"  # x'...'
NUMBER = "number"
OP = "op"
PARAM = "param"


@dataclass(slots=True, eq=False)
class Token:
    # Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__,
    # a tenth of reading a 1,000-table SQLite schema. Tokens are never changed once made.
    kind: str
    text: str
    """The token as written."""
    value: str
    """Identifiers unquoted; keywords and words as written; otherwise the text."""
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == WORD and self.value.upper() in words

    @property
    def name(self) -> str:
        """The identifier this token names (bare, quoted or a string used as a name)."""
        if self.kind == STRING:
            return self.text[1:-1].replace("''", "'")
        return self.value


# Whitespace is taken as the lead of the next token, not as a token of its own: half the
# matches, and twice as fast on the CREATE TABLE texts a schema read goes through.
_TOKEN = re.compile(
    r"""\s*(?:(?P<skip>--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<blob>[xX]'[^']*(?:''[^']*)*'?)
    |(?P<string>'[^']*(?:''[^']*)*'?)
    |(?P<dquote>"[^"]*(?:""[^"]*)*"?)
    |(?P<backtick>`[^`]*(?:``[^`]*)*`?)
    |(?P<bracket>\[[^\]]*\]?)
    |(?P<number>0[xX][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)
    |(?P<word>[^\W\d][\w$]*)
    |(?P<param>[?:@$]\w*)
    |(?P<op>->>|\|\||<=|>=|<>|!=|==|<<|>>|->|\S))""",
    re.S | re.X,
)
_KINDS = {"blob": BLOB, "string": STRING, "number": NUMBER, "param": PARAM, "word": WORD}


def tokenize(sql: str) -> list[Token]:
    """One pass of one regular expression: comments and whitespace dropped, quoted
    identifiers unquoted into ``value``, offsets kept so callers can slice the source."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "op"
        if kind == "skip":
            continue
        text = match.group(kind)
        start, end = match.span(kind)
        if kind in ("dquote", "backtick"):
            quote = text[0]
            inner = text[1:-1] if len(text) > 1 and text.endswith(quote) else text[1:]
            tokens.append(Token(QUOTED, text, inner.replace(quote * 2, quote), start, end))
        elif kind == "bracket":
            inner = text[1:-1] if text.endswith("]") else text[1:]
            tokens.append(Token(QUOTED, text, inner, start, end))
        else:
            tokens.append(Token(_KINDS.get(kind, OP), text, text, start, end))
    return tokens


def matching(tokens: list[Token], open_at: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``open_at`` (``len(tokens)`` if unclosed)."""
    depth = 0
    for k in range(open_at, len(tokens)):
        if tokens[k].kind == OP and tokens[k].value == "(":
            depth += 1
        elif tokens[k].kind == OP and tokens[k].value == ")":
            depth -= 1
            if depth == 0:
                return k
    return len(tokens)


def split_top(tokens: list[Token], separator: str = ",") -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == OP and token.value == "(":
            depth += 1
        elif token.kind == OP and token.value == ")":
            depth -= 1
        if depth == 0 and token.kind == OP and token.value == separator:
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def text_between(sql: str, first: Token, last: Token) -> str:
    return sql[first.start : last.end].strip()


# -- CREATE TABLE ------------------------------------------------------------------------------

_COLUMN_CONSTRAINT_START = {
    "CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE",
    "REFERENCES", "GENERATED", "AS",
}  # fmt: skip


@dataclass
class ParsedForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    deferrable: str | None = None
    """``DEFERRABLE INITIALLY DEFERRED`` / ``... IMMEDIATE`` as the schema model spells it."""


@dataclass
class ParsedTable:
    """What only the CREATE TABLE text tells."""

    columns: list[str] = field(default_factory=list)
    primary_key_name: str | None = None
    autoincrement: str | None = None
    """The column declared ``INTEGER PRIMARY KEY AUTOINCREMENT``."""
    checks: list[tuple[str | None, str]] = field(default_factory=list)
    uniques: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)
    foreign_keys: list[ParsedForeignKey] = field(default_factory=list)
    generated: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Lower-cased column name -> its generating expression and whether it is STORED."""
    collations: dict[str, str] = field(default_factory=dict)
    """Lower-cased column name -> the collation its definition declares."""
    options: list[str] = field(default_factory=list)
    """Table options after the definitions: ``STRICT``, ``WITHOUT ROWID``."""
    unwritten: list[tuple[str, str | None]] = field(default_factory=list)
    """What the text says that a copy would not: (what, column or None for the table).
    ``ON CONFLICT`` clauses, ``INTEGER PRIMARY KEY DESC`` (not a rowid alias, unlike every
    other INTEGER PRIMARY KEY) and names given to NOT NULL / DEFAULT / COLLATE clauses."""


# What can hold a parenthesis or a comma that is not structure (quoted names, literals,
# comments), and the structure itself: enough to cut a CREATE TABLE into its definitions
# without tokenizing all of it.
_STRUCTURE = re.compile(
    r"""[(),]|'[^']*(?:''[^']*)*'?|"[^"]*(?:""[^"]*)*"?|`[^`]*(?:``[^`]*)*`?|\[[^\]]*\]?
    |--[^\n]*|/\*.*?(?:\*/|\Z)""",
    re.S | re.X,
)


def parse_create_table(sql: str) -> ParsedTable:
    parsed = ParsedTable()
    definitions, tail = _definitions(sql)
    if definitions is None:  # CREATE TABLE ... AS SELECT: no definitions to read
        return parsed
    options = [[t.value.upper() for t in o if t.kind == WORD] for o in split_top(tokenize(tail))]
    parsed.options = [" ".join(words) for words in options if words]
    for text in definitions:
        # Each definition alone, once per text: tables repeat their columns (id, created_at,
        # ...), and tokenizing every CREATE TABLE whole was most of a SQLite schema read.
        one = _read_definition(text)
        parsed.columns += one.columns
        if one.primary_key_name is not None:
            parsed.primary_key_name = one.primary_key_name
        parsed.autoincrement = one.autoincrement or parsed.autoincrement
        parsed.checks += one.checks
        parsed.uniques += one.uniques
        parsed.foreign_keys += one.foreign_keys
        parsed.generated.update(one.generated)
        parsed.collations.update(one.collations)
        parsed.unwritten += one.unwritten
    return parsed


def _definitions(sql: str) -> tuple[list[str] | None, str]:
    """The texts of the column and constraint definitions between CREATE TABLE's outer
    parentheses (``None`` without them), and what follows the closing one."""
    depth, start, cuts, tail = 0, -1, [], None
    for match in _STRUCTURE.finditer(sql):
        char = match.group()
        if char == "(":
            depth += 1
            if depth == 1 and start < 0:
                start = match.end()
                cuts.append(start)
        elif char == ")" and start >= 0:
            depth -= 1
            if depth == 0:
                cuts.append(match.start())
                tail = sql[match.end() :]
                break
        elif char == "," and depth == 1 and start >= 0:
            cuts += [match.start(), match.end()]
    if start < 0:
        return None, ""
    if tail is None:  # unclosed: the rest is the last definition
        cuts.append(len(sql))
    texts = [sql[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
    return [t for t in texts if t.strip()], tail or ""


# A definition's own names: the name after CONSTRAINT and the table after REFERENCES differ
# from table to table (covet itself writes "id" INTEGER CONSTRAINT "pk_<table>" PRIMARY KEY,
# and each table's foreign key references another), while the rest of the text is often the
# same on many tables. The names are swapped for placeholders, the rest is read once per
# text, and the names are put back. Literals, comments and quoted names are matched whole
# first, so a CONSTRAINT or REFERENCES inside one is never taken for the keyword.
_MAY_NAME = re.compile(r"constraint|references", re.I)
_OWN_NAMES = re.compile(
    r"""'[^']*(?:''[^']*)*'?|--[^\n]*|/\*.*?(?:\*/|\Z)
    |(?<![\w$])((?:CONSTRAINT|REFERENCES)\s+)("(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|[^\W\d][\w$]*)
    |"[^"]*(?:""[^"]*)*"?|`[^`]*(?:``[^`]*)*`?|\[[^\]]*\]?""",
    re.S | re.X | re.I,
)


class _NameInText(Exception):
    """A placeholder landed in an expression's text: that text is read as written."""


def _read_definition(text: str) -> ParsedTable:
    if _MAY_NAME.search(text) is None:
        return _definition(text)
    names: list[str] = []

    def swap(match: re.Match[str]) -> str:
        if match.group(2) is None:
            return match.group()
        names.append(_unquoted(match.group(2)))
        return f'{match.group(1)}"\x00{len(names) - 1}\x00"'

    template = _OWN_NAMES.sub(swap, text)
    if not names:
        return _definition(text)
    try:
        return _put_back(_definition(template), names)
    except _NameInText:
        return _definition(text)


def _put_back(parsed: ParsedTable, names: list[str]) -> ParsedTable:
    """``parsed`` (shared: never changed) with each placeholder its name again. Only these
    fields hold names that follow CONSTRAINT or REFERENCES; the others are shared as they
    are (no caller changes a definition's parts)."""
    placeholders = {f"\x00{k}\x00": written for k, written in enumerate(names)}

    def name(text: str | None) -> str | None:
        if text is None or "\x00" not in text:
            return text
        whole = placeholders.get(text)
        if whole is not None:
            return whole
        for placeholder, written in placeholders.items():
            text = text.replace(placeholder, written)
        return text

    if any("\x00" in e for _, e in parsed.checks) or any(
        "\x00" in e for e, _ in parsed.generated.values()
    ):
        raise _NameInText
    out = object.__new__(ParsedTable)  # a shallow copy without copy.copy's protocol walk
    out.__dict__.update(parsed.__dict__)
    out.primary_key_name = name(parsed.primary_key_name)
    if parsed.checks:
        out.checks = [(name(n), e) for n, e in parsed.checks]
    if parsed.uniques:
        out.uniques = [(name(n), c) for n, c in parsed.uniques]
    if parsed.foreign_keys:
        out.foreign_keys = [
            replace(fk, name=name(fk.name), ref_table=name(fk.ref_table) or "")
            for fk in parsed.foreign_keys
        ]
    if parsed.unwritten:
        out.unwritten = [(name(w) or "", c) for w, c in parsed.unwritten]
    return out


def _unquoted(name: str) -> str:
    """A name as ``_OWN_NAMES`` matched it, unquoted as the tokenizer would."""
    first = name[0]
    if first in '"`':
        return name[1:-1].replace(first * 2, first)
    return name[1:-1] if first == "[" else name


@functools.lru_cache(maxsize=8192)
def _definition(text: str) -> ParsedTable:
    """What one definition says, alone (shared: read it, never change it)."""
    parsed = ParsedTable()
    item = tokenize(text)
    if not item:
        return parsed
    if item[0].is_word("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
        _table_constraint(text, item, parsed)
    else:
        _column_def(text, item, parsed)
    return parsed


def _names(tokens: list[Token]) -> tuple[str, ...]:
    """Column names of a parenthesised list, without ASC / DESC / COLLATE."""
    return tuple(part[0].name for part in split_top(tokens) if part)


def _paren_group(tokens: list[Token], k: int) -> tuple[list[Token], int]:
    """The tokens inside the ``(`` at ``k`` and the index after its ``)``."""
    end = matching(tokens, k)
    return tokens[k + 1 : end], end + 1


def _conflicts(item: list[Token], parsed: ParsedTable, column: str | None) -> None:
    for i in range(len(item) - 2):
        if item[i].is_word("ON") and item[i + 1].is_word("CONFLICT"):
            parsed.unwritten.append((f"ON CONFLICT {item[i + 2].value.upper()}", column))


def _table_constraint(sql: str, item: list[Token], parsed: ParsedTable) -> None:
    _conflicts(item, parsed, None)
    name = None
    k = 0
    if item[0].is_word("CONSTRAINT"):
        name, k = item[1].name, 2
    if k >= len(item):
        return
    word = item[k]
    if word.is_word("PRIMARY"):
        parsed.primary_key_name = name
    elif word.is_word("UNIQUE"):
        inner, _ = _paren_group(item, k + 1)
        parsed.uniques.append((name, _names(inner)))
    elif word.is_word("CHECK"):
        inner, _ = _paren_group(item, k + 1)
        if inner:
            parsed.checks.append((name, text_between(sql, inner[0], inner[-1])))
    elif word.is_word("FOREIGN"):
        inner, after = _paren_group(item, k + 2)  # FOREIGN KEY (
        parsed.foreign_keys.append(_references(item, after, name, _names(inner)))


def _references(
    item: list[Token], k: int, name: str | None, columns: tuple[str, ...]
) -> ParsedForeignKey:
    # item[k] is REFERENCES; then [schema.]table and an optional column list.
    k += 1
    ref = item[k].name if k < len(item) else ""
    if k + 2 < len(item) and item[k + 1].kind == OP and item[k + 1].value == ".":
        k += 2
        ref = item[k].name
    ref_columns: tuple[str, ...] = ()
    if k + 1 < len(item) and item[k + 1].kind == OP and item[k + 1].value == "(":
        inner, _ = _paren_group(item, k + 1)
        ref_columns = _names(inner)
    return ParsedForeignKey(name, columns, ref, ref_columns, _deferral(item[k:]))


def _deferral(clause: list[Token]) -> str | None:
    """SQLite's deferral of a REFERENCES clause: only ``DEFERRABLE INITIALLY DEFERRED``
    defers; ``DEFERRABLE`` alone or ``INITIALLY IMMEDIATE`` checks at once."""
    words = [t.value.upper() for t in clause if t.kind == WORD]
    for i, word in enumerate(words):
        if word == "DEFERRABLE" and (i == 0 or words[i - 1] != "NOT"):
            later = words[i + 1 : i + 3]
            deferred = later == ["INITIALLY", "DEFERRED"]
            return f"DEFERRABLE INITIALLY {'DEFERRED' if deferred else 'IMMEDIATE'}"
        if word in ("CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "DEFAULT", "COLLATE"):
            return None  # the next constraint of the column
    return None


def _column_def(sql: str, item: list[Token], parsed: ParsedTable) -> None:
    column = item[0].name
    parsed.columns.append(column)
    _conflicts(item, parsed, column)
    k = 1
    while k < len(item) and not (
        item[k].kind == WORD and item[k].value.upper() in _COLUMN_CONSTRAINT_START
    ):
        if item[k].kind == OP and item[k].value == "(":
            k = matching(item, k)
        k += 1
    name = None
    while k < len(item):
        token = item[k]
        if token.is_word("CONSTRAINT"):
            name = item[k + 1].name if k + 1 < len(item) else None
            k += 2
            continue
        if token.is_word("PRIMARY"):
            parsed.primary_key_name = name
            k += 2
            while k < len(item) and not item[k].is_word(*_COLUMN_CONSTRAINT_START):
                if item[k].is_word("AUTOINCREMENT"):
                    parsed.autoincrement = column
                if item[k].is_word("DESC") and len(item) > 1 and item[1].is_word("INTEGER"):
                    parsed.unwritten.append(
                        ("INTEGER PRIMARY KEY DESC (not a rowid alias)", column)
                    )
                k += 1
        elif name is not None and token.is_word("NOT", "NULL", "DEFAULT", "COLLATE"):
            clause = "NOT NULL" if token.is_word("NOT") else token.value.upper()
            parsed.unwritten.append((f"constraint name {name} on {clause}", column))
            name = None
            continue
        elif token.is_word("UNIQUE"):
            parsed.uniques.append((name, (column,)))
            k += 1
        elif token.is_word("CHECK"):
            inner, k = _paren_group(item, k + 1)
            if inner:
                parsed.checks.append((name, text_between(sql, inner[0], inner[-1])))
        elif token.is_word("REFERENCES"):
            parsed.foreign_keys.append(_references(item, k, name, (column,)))
            k = _end_of_references(item, k + 1)
        elif token.is_word("GENERATED", "AS"):
            start = next((j for j in range(k, len(item)) if item[j].value == "("), len(item))
            inner, k = _paren_group(item, start) if start < len(item) else ([], len(item))
            stored = k < len(item) and item[k].is_word("STORED")
            if k < len(item) and item[k].is_word("STORED", "VIRTUAL"):
                k += 1
            if inner:
                parsed.generated[column.lower()] = (text_between(sql, inner[0], inner[-1]), stored)
        elif token.is_word("COLLATE") and k + 1 < len(item):
            parsed.collations[column.lower()] = item[k + 1].name
            k += 2
        elif token.is_word("DEFAULT") and k + 1 < len(item):
            k += 2
            if item[k - 1].kind == OP and item[k - 1].value == "(":
                k = matching(item, k - 1) + 1
            elif item[k - 1].kind == OP and item[k - 1].value in "+-":
                k += 1
        elif token.kind == OP and token.value == "(":
            k = matching(item, k) + 1
        else:
            k += 1
        if not token.is_word("CONSTRAINT"):
            name = None


def _end_of_references(item: list[Token], k: int) -> int:
    """Skip a REFERENCES clause's table, columns and actions up to the next constraint
    (``SET NULL`` / ``SET DEFAULT`` / ``NOT DEFERRABLE`` belong to the clause)."""
    while k < len(item):
        token = item[k]
        if token.kind == OP and token.value == "(":
            k = matching(item, k)
        elif token.is_word(*_COLUMN_CONSTRAINT_START):
            follows_set = item[k - 1].is_word("SET")
            deferrable = (
                token.is_word("NOT") and k + 1 < len(item) and item[k + 1].is_word("DEFERRABLE")
            )
            if not (follows_set or deferrable):
                return k
        k += 1
    return k


# -- CREATE INDEX ------------------------------------------------------------------------------


def parse_create_index(sql: str) -> tuple[str, str | None]:
    """The key list (as written, without its parentheses) and the WHERE predicate."""
    tokens = tokenize(sql)
    on = next(k for k, t in enumerate(tokens) if t.is_word("ON"))
    open_at = next(k for k in range(on, len(tokens)) if tokens[k].value == "(")
    close = matching(tokens, open_at)
    keys = sql[tokens[open_at].end : tokens[close].start].strip()
    rest = tokens[close + 1 :]
    where = None
    if rest and rest[0].is_word("WHERE") and len(rest) > 1:
        where = text_between(sql, rest[1], rest[-1])
    return keys, where


_KEY_WORDS = re.compile(r"\b(?:ASC|DESC|COLLATE)\b|[()]", re.I)


def plain_keys(keys: str) -> bool:
    """Whether an index's key list is bare column names only (no DESC, COLLATE, expression)."""
    if not _KEY_WORDS.search(keys):
        return True  # the common case, without tokenizing (a quoted name may still match)
    return all(len(p) == 1 and p[0].kind in (WORD, QUOTED) for p in split_top(tokenize(keys)))
