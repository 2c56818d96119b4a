"""The one way text from a database or a user reaches a generated file or a terminal.

A name read from a catalog is attacker-controlled: anyone with CREATE on a schema chooses it.
So every context that text lands in has exactly one function here, and nothing else builds
such text by hand:

- ``python_string``: a Python string literal that evaluates to exactly the text;
- ``one_line``: text shown as a single line, in a ``#`` comment, a docstring line or on a
  terminal: nothing in it can end the line, move the cursor, change colours or reorder
  what is displayed (bidirectional overrides);
- ``docstring_line``: ``one_line`` that also cannot close a triple-quoted docstring;
- ``shell_word``: one argument of a command a person is told to run.

SQL identifiers are quoted by the dialect (``Dialect.quote``) and values are bound parameters.
"""

from __future__ import annotations

import shlex

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def one_line(text: str) -> str:
    """``text`` on one line, every character that is not printable written as an escape.

    ``str.isprintable`` is false for controls (C0, C1, DEL, ESC sequences), line and
    paragraph separators, format characters (bidirectional overrides, zero-width joiners),
    lone surrogates and unassigned code points. Letters of every script, emoji, spaces and
    backslashes stay as they are, so SQL reads as written.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def docstring_line(text: str) -> str:
    """``one_line`` that also cannot end the triple-quoted docstring it is placed in.

    Backslashes and double quotes are escaped, so the docstring reads back as ``text``.
    """
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        else:
            out.append(ch if ch.isprintable() else _escape(ch))
    return "".join(out)


def comment(text: str) -> str:
    """A ``#`` comment line holding ``text``."""
    return f"# {one_line(text)}".rstrip()


def python_string(text: str) -> str:
    """A Python string literal whose value is exactly ``text``.

    Triple-quoted when that reads best and holds the text as is (multi-line SQL); ``repr``
    otherwise, which escapes quotes, backslashes and every character that is not printable.
    """
    if _fits_triple_quotes(text):
        return f'"""{text}"""'
    return repr(text)


def _fits_triple_quotes(text: str) -> bool:
    if '"""' in text or "\\" in text or text.endswith('"') or text.startswith('"'):
        return False
    # Only printable characters, tabs and plain newlines: a raw \r would be read back as \n
    # (universal newlines), and a NUL or surrogate cannot be in source at all.
    return all(ch.isprintable() or ch in "\n\t" for ch in text)


def shell_word(text: str) -> str:
    """``text`` as one shell argument a person can paste (POSIX shells)."""
    quoted = shlex.quote(text)
    # shlex leaves control characters raw inside its quotes; a terminal must not see them.
    return quoted if quoted.isprintable() else "$'" + _ansi_c(text) + "'"


def _ansi_c(text: str) -> str:
    # In bash's $'...' a \xNN is a byte, not a character: past ASCII, \u and \U are.
    out = []
    for ch in text:
        if ch == "'":
            out.append("\\'")
        elif ch.isprintable() and ch != "\\":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(_escape(ch))
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "".join(out)
