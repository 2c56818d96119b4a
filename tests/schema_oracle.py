"""An oracle independent of covet's reader: each database's own account of a schema.

A reader that loses a feature loses it on both sides of a comparison, so fidelity is judged
with the databases' own tools: ``pg_dump --schema-only`` on PostgreSQL, ``SHOW CREATE`` on
MySQL/MariaDB, ``sqlite_master`` and the pragmas on SQLite. Each function returns the schema
as ``{(kind, name): definition}``, normalised only for what differs between two databases
holding the same schema (the database's name, AUTO_INCREMENT counters, quoting, spacing).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covet_core.schema.diff import SchemaDiff
from covet_core.schema.model import IgnoredObject, Schema

Objects = dict[tuple[str, str], str]

_TOC = re.compile(r"^-- Name: (?P<name>.*); Type: (?P<type>.*); Schema: (?P<schema>.*?);")


def pg_dump_objects(url: str) -> Objects:
    """``pg_dump -s``, one entry per TOC item (``("INDEX", "public.ix")`` -> its SQL)."""
    text = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-d", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    objects: Objects = {}
    key: tuple[str, str] | None = None
    body: list[str] = []
    for line in text.splitlines():
        toc = _TOC.match(line)
        if toc:
            if key is not None:
                objects[key] = "\n".join(body).strip()
            key, body = (toc["type"], f"{toc['schema']}.{toc['name']}"), []
        elif key is not None and not line.startswith(("--", "\\", "SET ", "SELECT pg_catalog.")):
            body.append(line)
    if key is not None:
        objects[key] = "\n".join(body).strip()
    return objects


async def mysql_objects(adapter: Any) -> Objects:
    """``SHOW CREATE`` of every table, view, trigger, routine and event of the database."""
    database = await adapter.fetch_value("SELECT DATABASE()")
    listing = await adapter.fetch_all(
        "SELECT CASE TABLE_TYPE WHEN 'VIEW' THEN 'VIEW' WHEN 'SEQUENCE' THEN 'SEQUENCE' "
        "ELSE 'TABLE' END AS kind, TABLE_NAME AS name FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() UNION ALL "
        "SELECT 'TRIGGER', TRIGGER_NAME FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() UNION ALL "
        "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE() UNION ALL "
        "SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
    )
    objects: Objects = {}
    for row in listing:
        kind, name = str(row["kind"]), str(row["name"])
        if name.startswith("_covet_"):
            continue
        shown = await adapter.fetch_all(f"SHOW CREATE {kind} `{name}`")
        # The statement is the one value that is CREATE text (its column's name varies).
        text = next(v for v in shown[0].values() if str(v).upper().startswith("CREATE"))
        text = re.sub(r" AUTO_INCREMENT=\d+", "", str(text)).replace(f"`{database}`.", "")
        objects[(kind, name)] = _index_lines_sorted(re.sub(r"DEFINER=\S+ ", "", text))
    return objects


_INDEX_LINE = re.compile(r"^  (?:UNIQUE |FULLTEXT |SPATIAL )?KEY ")


def _index_lines_sorted(text: str) -> str:
    """SHOW CREATE TABLE lists indexes in the order they were created, which says nothing
    about the schema (like pg_dump's ordering, normalised away): sorted, commas aside."""
    lines = text.split("\n")
    at = [i for i, line in enumerate(lines) if _INDEX_LINE.match(line)]
    if not at:
        return text
    keys = sorted(lines[i].rstrip(",") for i in at)
    for i, key in zip(at, keys, strict=True):
        lines[i] = key + ("," if lines[i].endswith(",") else "")
    return "\n".join(lines)


_SQLITE_WORD = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]|\w+|[^\s\w]")


def sqlite_text(sql: str) -> str:
    """SQL with identifier quotes, case of words and spacing folded; literals kept."""
    out = []
    for token in _SQLITE_WORD.findall(sql or ""):
        if token[0] in '"`[':
            token = token[1:-1]
        out.append(token if token.startswith("'") else token.lower())
    return " ".join(out)


async def sqlite_objects(adapter: Any) -> Objects:
    """Tables by their pragmas (columns as declared, keys, foreign keys); indexes, views and
    triggers by their ``sqlite_master`` SQL."""
    rows = await adapter.fetch_all(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '_covet_%' AND tbl_name NOT LIKE '_covet_%'"
    )
    objects: Objects = {}
    for row in rows:
        kind, name = row["type"], row["name"]
        if kind != "table":
            objects[(kind, name)] = sqlite_text(row["sql"] or f"auto index on {row['tbl_name']}")
            continue
        quoted = "'" + name.replace("'", "''") + "'"
        parts = []
        for pragma in ("table_xinfo", "foreign_key_list", "index_list"):
            found = await adapter.fetch_all(f"SELECT * FROM pragma_{pragma}({quoted})")
            if pragma == "foreign_key_list":
                found = [await _referenced(adapter, r) for r in found]
            # index_list's seq is only the order the indexes were created in.
            rows = [
                {k: v for k, v in r.items() if (pragma, k) != ("index_list", "seq")} for r in found
            ]
            parts.append(repr(sorted(tuple(sorted(r.items())) for r in rows)))
        # No pragma tells collations, constraint names, checks or deferral: the CREATE text
        # does, compared clause by clause (a key may be written inline or at the end).
        text = sqlite_text(row["sql"])
        parts.append(repr(re.findall(r"collate \w+", text)))
        parts.append(repr(sorted(re.findall(r"\bconstraint (\S+)", text))))
        parts.append(repr(sorted(_checks(text))))
        parts.append(repr([len(re.findall(w, text)) for w in _FLAGS]))
        sql = row["sql"] or ""
        tail = " ".join(sql[sql.rfind(")") + 1 :].upper().replace(",", " ").split())
        options = [w for w in ("STRICT", "WITHOUT ROWID") if re.search(rf"\b{w}\b", tail)]
        objects[(kind, name)] = "\n".join([*parts, *options])
    return objects


async def _referenced(adapter: Any, row: dict[str, Any]) -> dict[str, Any]:
    """SQLite's own rule: ``REFERENCES parent`` without columns means the parent's primary
    key (https://sqlite.org/foreignkeys.html), so that is what the pragma's NULL stands for."""
    if row["to"] is not None:
        return dict(row)
    parent = "'" + str(row["table"]).replace("'", "''") + "'"
    keys = await adapter.fetch_all(
        f"SELECT name FROM pragma_table_info({parent}) WHERE pk > 0 ORDER BY pk"
    )
    return {**row, "to": keys[row["seq"]]["name"] if row["seq"] < len(keys) else None}


_FLAGS = (r"deferrable initially deferred", r"\bautoincrement\b", r"\bon conflict \w+",
          r"\bprimary key desc\b")  # fmt: skip


def _checks(text: str) -> list[str]:
    """The bodies of the CHECK clauses of folded CREATE text."""
    found = []
    for match in re.finditer(r"\bcheck \(", text):
        depth, i = 0, match.end() - 1
        for i in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                break
        found.append(text[match.end() : i].strip())
    return found


def covered(key: tuple[str, str], reported: list[IgnoredObject], definition: str = "") -> bool:
    """Whether an object the copy lacks (or holds differently) is named in the report: its
    name's leading identifier is a word of the oracle's name for the object (or, for a
    column's DEFAULT, of the default: nextval('t_id_seq1') belongs to that sequence)."""
    words = set(re.findall(r"\w+", key[1].lower()))
    if key[0] in ("DEFAULT", "SEQUENCE OWNED BY"):
        words |= set(re.findall(r"\w+", definition.lower()))
    # An operator's name has no word characters: its whole name is the oracle's word.
    words |= set(key[1].lower().replace(".", " ").split())
    return any(_first_word(obj.name) in words for obj in reported)


def _first_word(name: str) -> str:
    found = re.findall(r"\w+", name.lower())
    return found[0] if found else name.split()[0]


def lost(original: Objects, copy: Objects) -> dict[tuple[str, str], str]:
    """What the copy lacks or holds differently, with the original's definition."""
    return {k: v for k, v in original.items() if copy.get(k) != v}


@dataclass
class Copying:
    """A source database with its objects, and the diff that would copy it into another."""

    source: Any
    copy: Any
    original: Schema
    diff: SchemaDiff


@dataclass
class Differing:
    """Two databases given their statements, both read, and the diff from the first (current)
    to the second (target); ``old`` and ``new`` are their connected adapters."""

    old: Any
    new: Any
    current: Schema
    target: Schema
    diff: SchemaDiff


@asynccontextmanager
async def differing(
    old: Any, before: Sequence[str], new: Any, after: Sequence[str],
    schemas: Sequence[str] | None = None,
) -> AsyncIterator[Differing]:  # fmt: skip
    """``before`` run on the ``old`` target and ``after`` on ``new`` (conftest Targets), both
    schemas read and compared, old -> new; both adapters stay connected for the block."""
    from covet_core.schema.comparator import SchemaComparator
    from covet_core.schema.reader import SchemaReader

    a, b = old.new_adapter(), new.new_adapter()
    await a.connect()
    await b.connect()
    try:
        for adapter, statements in ((a, before), (b, after)):
            for statement in statements:
                await adapter.execute(statement)
        current = await SchemaReader(a, old.dialect, schemas=schemas).read_schema()
        target = await SchemaReader(b, new.dialect, schemas=schemas).read_schema()
        diff = SchemaComparator(old.dialect).compare(current, target)
        yield Differing(a, b, current, target, diff)
    finally:
        await a.disconnect()
        await b.disconnect()


@asynccontextmanager
async def copying(
    source: Any, statements: Sequence[str], copy: Any, schemas: Sequence[str] | None = None
) -> AsyncIterator[Copying]:
    """``statements`` run on the ``source`` target, and the diff that would copy its schema
    into the empty ``copy`` (conftest Targets); both adapters stay connected for the block."""
    async with differing(copy, [], source, statements, schemas) as made:
        yield Copying(made.new, made.old, made.target, made.diff)


async def oracle_of(target: Any, adapter: Any) -> Objects:
    """The database's own account of ``target`` (a conftest Target, connected as
    ``adapter``), covet's bookkeeping tables left out."""
    if target.name == "postgresql":
        found = await asyncio.to_thread(pg_dump_objects, target.url)
    elif target.name == "mysql":
        found = await mysql_objects(adapter)
    else:
        found = await sqlite_objects(adapter)
    return {k: v for k, v in found.items() if "_covet_" not in k[1] + v}


async def up_down_up(
    diff: SchemaDiff, target: Any, adapter: Any, folder: Path, expected: Objects,
    before: Objects | None = None, judged: Callable[[tuple[str, str]], bool] | None = None,
) -> Path:  # fmt: skip
    """``diff`` written as a migration in ``folder`` and run up, down and up on ``target``:
    after each up the database's own tools show ``expected``, after the down ``before``
    (nothing, unless given), both of the objects ``judged`` keeps (all, unless given: a
    difference the diff warns about and leaves is not judged). The migration file's path."""
    from covet_core.manager import MigrationManager
    from covet_core.schema.generator import MigrationGenerator

    path = MigrationGenerator(target.dialect, folder).generate_from_diff(diff, "copy")
    manager = MigrationManager(adapter, target.dialect, path.parent)
    for step in ("up", "down", "up"):
        result = await (manager.migrate_up() if step == "up" else manager.migrate_down())
        assert result["success"], f"{result['error']}\n{path.read_text()}"
        wanted = expected if step == "up" else before or {}
        found = await oracle_of(target, adapter)
        if judged is not None:
            wanted = {k: v for k, v in wanted.items() if judged(k)}
            found = {k: v for k, v in found.items() if judged(k)}
        assert found == wanted
    return path
