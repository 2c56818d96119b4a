"""Plain-SQL migration files, in covet's own form and in the forms other tools write.

| form | files | sections and directives |
|---|---|---|
| covet | ``YYYY_MM_DD_HHMMSS_name.sql`` | ``-- covet:up`` / ``-- covet:down``, ``-- covet:depends NAME``, ``-- covet:no-transaction`` |
| golang-migrate | ``<version>_<name>.up.sql`` + ``.down.sql`` (``000001_``, ``V0001.``) | none |
| goose | ``<version>_<name>.sql`` | ``-- +goose Up`` / ``Down``, ``StatementBegin`` / ``End``, ``NO TRANSACTION`` |
| dbmate | ``<version>_<name>.sql`` | ``-- migrate:up`` / ``-- migrate:down``, ``transaction:false`` |
| Flyway | ``V<version>__<name>.sql`` + ``U<version>__<name>.sql`` (undo) | none |

Each becomes a ``SqlMigration`` named after the file (without ``.up`` / ``.down``), ordered by
its version as the tool orders it. Statements are split by the dialect's splitter, except goose
``StatementBegin`` blocks, which are one statement by definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from covet_core.errors import DiscoveryError, MigrationLoadError
from covet_core.migration import NAME_RE, SqlMigration

Splitter = Callable[[str], list[str]]

_PAIR = re.compile(r"^(?P<version>V?\d+(?:\.\d+)*)[._](?P<label>.+)\.(?P<dir>up|down)\.sql$")
_FLYWAY = re.compile(r"^(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<label>.+)\.sql$")
_VERSIONED = re.compile(r"^(?P<version>\d+)[._](?P<label>.+)\.sql$")


def version_key(version: str) -> tuple[int, ...]:
    """``V0007`` -> (7,), ``1.10`` -> (1, 10), ``2024_10_11_153000`` -> (20241011153000,)."""
    if NAME_RE.fullmatch(version + "_x"):
        return (int(version.replace("_", "")),)
    return tuple(int(part) for part in re.findall(r"\d+", version))


@dataclass
class _Parsed:
    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)
    up_text: str = ""
    down_text: str = ""
    no_transaction: bool = False
    depends: list[str] = field(default_factory=list)
    has_down: bool = False


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationLoadError(f"cannot read file: {exc}", path) from exc


def _split(text: str, split: Splitter) -> list[str]:
    return [s for s in split(text) if s.strip()]


def _parse_covet(text: str, path: Path, split: Splitter) -> _Parsed:
    parsed = _Parsed()
    for line in text.splitlines():
        stripped = line.strip().lower()
        if stripped.startswith("-- covet:depends"):
            parsed.depends += line.split(None, 2)[2].replace(",", " ").split()
        elif stripped == "-- covet:no-transaction":
            parsed.no_transaction = True
    sections = _marker_sections(text, "-- covet:up", "-- covet:down")
    return _fill(parsed, sections, split, path, "-- covet:up")


def _fill(
    parsed: _Parsed, sections: dict[str, list[str]], split: Splitter, path: Path, marker: str
) -> _Parsed:
    if "up" not in sections:
        raise MigrationLoadError(f"no {marker} section", path)
    parsed.up_text = "\n".join(sections["up"][1:])
    parsed.down_text = "\n".join(sections.get("down", [""])[1:])
    parsed.has_down = "down" in sections
    parsed.up = _split(parsed.up_text, split)
    parsed.down = _split(parsed.down_text, split)
    return parsed


def _marker_sections(text: str, up: str, down: str) -> dict[str, list[str]]:
    current: str | None = None
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        low = line.strip().lower()
        if low.startswith(up):
            current = "up"
        elif low.startswith(down):
            current = "down"
        elif current is not None:
            found.setdefault(current, [""]).append(line)
            continue
        if current is not None:
            found.setdefault(current, [line])
    return found


def _parse_dbmate(text: str, path: Path, split: Splitter) -> _Parsed:
    parsed = _Parsed()
    for line in text.splitlines():
        low = line.strip().lower()
        if low.startswith("-- migrate:up") and "transaction:false" in low:
            parsed.no_transaction = True
    sections = _marker_sections(text, "-- migrate:up", "-- migrate:down")
    return _fill(parsed, sections, split, path, "-- migrate:up")


def _goose_statements(lines: Iterable[str], split: Splitter) -> list[str]:
    """Outside StatementBegin/End the dialect splits; a block is one statement as written."""
    statements: list[str] = []
    plain: list[str] = []
    block: list[str] | None = None
    for line in lines:
        low = line.strip().lower()
        if low.startswith("-- +goose statementbegin"):
            statements += _split("\n".join(plain), split)
            plain, block = [], []
        elif low.startswith("-- +goose statementend"):
            body = "\n".join(block or []).strip()
            body = body[:-1].rstrip() if body.endswith(";") else body
            if body:
                statements.append(body)
            block = None
        elif block is not None:
            block.append(line)
        else:
            plain.append(line)
    return statements + _split("\n".join(plain), split)


def _parse_goose(text: str, path: Path, split: Splitter) -> _Parsed:
    parsed = _Parsed()
    parsed.no_transaction = any(
        line.strip().lower().startswith("-- +goose no transaction") for line in text.splitlines()
    )
    sections = _marker_sections(text, "-- +goose up", "-- +goose down")
    if "up" not in sections:
        raise MigrationLoadError("no -- +goose Up section", path)
    parsed.up_text = "\n".join(sections["up"][1:])
    parsed.down_text = "\n".join(sections.get("down", [""])[1:])
    parsed.has_down = "down" in sections
    parsed.up = _goose_statements(sections["up"][1:], split)
    parsed.down = _goose_statements(sections.get("down", [""])[1:], split)
    return parsed


def _single_file(path: Path, split: Splitter) -> tuple[str, tuple[int, ...], _Parsed]:
    text = _read(path)
    head = text.lower()
    stem = path.stem
    if NAME_RE.fullmatch(stem) and "-- covet:up" in head:
        return stem, version_key(stem[:17]), _parse_covet(text, path, split)
    match = _VERSIONED.match(path.name)
    if match and "-- +goose" in head:
        return stem, version_key(match["version"]), _parse_goose(text, path, split)
    if match and "-- migrate:" in head:
        return stem, version_key(match["version"]), _parse_dbmate(text, path, split)
    if "-- covet:up" in head:
        raise MigrationLoadError(
            "invalid migration file name; expected YYYY_MM_DD_HHMMSS_lower_case_name.sql", path
        )
    raise MigrationLoadError(
        "not a migration covet recognises: expected -- covet:up (covet), -- +goose Up (goose), "
        "-- migrate:up (dbmate), a .up.sql/.down.sql pair (golang-migrate) or V<version>__name.sql "
        "(Flyway)",
        path,
    )


def load_sql_migrations(paths: list[Path], split: Splitter) -> list[SqlMigration]:
    """Every SQL migration among ``paths`` (files ending ``.sql``)."""
    pairs: dict[str, dict[str, Path]] = {}
    flyway: dict[str, dict[str, Path]] = {}
    migrations: list[SqlMigration] = []
    for path in paths:
        if (m := _PAIR.match(path.name)) is not None:
            stem = f"{m['version']}{path.name[len(m['version'])]}{m['label']}"
            pairs.setdefault(stem, {})[m["dir"]] = path
        elif (f := _FLYWAY.match(path.name)) is not None:
            flyway.setdefault(f["version"], {})[f["kind"]] = path
        else:
            name, order, parsed = _single_file(path, split)
            migrations.append(_build(name, order, parsed, path))
    for name, files in pairs.items():
        if "up" not in files:
            raise DiscoveryError("a .down.sql file without its .up.sql", files["down"])
        up_text = _read(files["up"])
        down_text = _read(files["down"]) if "down" in files else ""
        parsed = _Parsed(_split(up_text, split), _split(down_text, split), up_text, down_text)
        parsed.has_down = "down" in files
        version = _PAIR.match(files["up"].name)["version"]  # type: ignore[index]
        migrations.append(_build(name, version_key(version), parsed, files["up"]))
    for version, files in flyway.items():
        if "V" not in files:
            raise DiscoveryError(
                "a Flyway undo (U) file without its versioned (V) file", files["U"]
            )
        up_text = _read(files["V"])
        down_text = _read(files["U"]) if "U" in files else ""
        parsed = _Parsed(_split(up_text, split), _split(down_text, split), up_text, down_text)
        parsed.has_down = "U" in files
        migrations.append(_build(files["V"].stem, version_key(version), parsed, files["V"]))
    return migrations


def _build(name: str, key: tuple[int, ...], parsed: _Parsed, path: Path) -> SqlMigration:
    migration = SqlMigration(
        name,
        path,
        forward=parsed.up,
        backward=parsed.down,
        source=(parsed.up_text, parsed.down_text),
        atomic=False if parsed.no_transaction else None,
        dependencies=parsed.depends,
        sort_key=key,
        has_down=parsed.has_down,
    )
    return migration
