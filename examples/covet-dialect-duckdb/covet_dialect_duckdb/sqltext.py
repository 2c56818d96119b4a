"""Small, quote-aware scanning of the SQL text DuckDB's catalog returns (types, index keys)."""

from __future__ import annotations

import re

from covet_core.schema.model import ColumnType

_STRING = re.compile(r"'((?:[^']|'')*)'")
_TYPE = re.compile(r"^\s*([A-Za-z_ ]+?)\s*(?:\(\s*([^)]*?)\s*\))?\s*$")

_SIMPLE = {
    "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint",
    "BOOLEAN": "boolean", "VARCHAR": "text", "BLOB": "binary", "DATE": "date", "TIME": "time",
    "FLOAT": "real", "DOUBLE": "float", "JSON": "json", "UUID": "uuid",
    "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz",
}  # fmt: skip


def portable_type(data_type: str) -> ColumnType:
    """``duckdb_columns().data_type`` as a portable type: ``VARCHAR`` -> text (DuckDB keeps no
    length), ``DECIMAL(10,2)`` -> decimal(10, 2), ``ENUM('a', 'b')`` -> enum; a type with no
    portable name (``HUGEINT``, ``INTEGER[]``, ``STRUCT(...)``) keeps its spelling, lower-cased."""
    text = data_type.strip()
    if text.upper().startswith("ENUM("):
        return ColumnType("enum", values=tuple(v.replace("''", "'") for v in _STRING.findall(text)))
    match = _TYPE.match(text)
    if match is None:
        return ColumnType(" ".join(text.lower().split()))
    base = " ".join(match.group(1).upper().split())
    args = [int(a) for a in re.findall(r"\d+", match.group(2) or "")]
    if base == "DECIMAL":
        return ColumnType(
            "decimal",
            precision=args[0] if args else None,
            scale=args[1] if len(args) > 1 else None,
        )
    name = _SIMPLE.get(base)
    if name is None or args:
        return ColumnType(" ".join(text.lower().split()))
    return ColumnType(name)


def string_value(literal: str) -> str | None:
    """The value of a SQL string literal (``'it''s'`` -> ``it's``), else ``None``."""
    match = _STRING.fullmatch(literal.strip())
    return match.group(1).replace("''", "'") if match else None


def split_top_level(text: str) -> list[str]:
    """``text`` cut at commas outside parentheses, strings and quoted identifiers."""
    parts: list[str] = []
    depth, start, i, quote = 0, 0, 0, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                if i + 1 < len(text) and text[i + 1] == quote:
                    i += 1  # a doubled quote stays inside
                else:
                    quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def last_group(text: str) -> str | None:
    """The contents of the last top-level parenthesised group: an index's keys in
    ``CREATE INDEX ix ON "t(1)"(a, (lower(b)));``."""
    depth, quote, opened, found = 0, "", -1, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""  # a doubled quote closes and reopens: same outcome
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            if depth == 0:
                opened = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and opened >= 0:
                found = text[opened + 1 : i]
    return found


_IDENT = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")$')


def identifier(text: str) -> str | None:
    """The name ``text`` spells when it is one identifier (bare or quoted), else ``None``."""
    if not _IDENT.match(text):
        return None
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


def strip_outer_parens(text: str) -> str:
    """``(a > 0)`` -> ``a > 0``; ``(a) AND (b)`` stays as it is."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and last_group(text) == text[1:-1]:
        inner = text[1:-1]
        if split_top_level(inner) != [inner.strip()] or _unbalanced(inner):
            break
        text = inner.strip()
    return text


def _unbalanced(text: str) -> bool:
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return True
    return depth != 0
