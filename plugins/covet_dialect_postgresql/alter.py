"""Altering a carried object created before the tables in place (``Dialect.alter_carried``):
a standalone sequence or a domain whose definition changed. Columns use both, so dropping
and recreating them would take the columns' defaults (or the columns) along.

A sequence takes every option of its CREATE SEQUENCE in one ALTER SEQUENCE. A domain is read
with pglast (the server's own parser) from the CREATE DOMAIN the catalog query wrote, and
altered part by part: default, NOT NULL, and each named check dropped or added. A changed
base type or collation cannot be altered: ``None``, and the comparator warns.
"""

from __future__ import annotations

from typing import Any

from covet_core.schema.model import CarriedObject
from covet_dialect_postgresql import quote


def alter_carried(old: CarriedObject, new: CarriedObject) -> list[str] | None:
    if old.kind != new.kind or old.dialect != "postgresql" or new.dialect != "postgresql":
        return None
    if new.kind == "sequence" and new.create.startswith("CREATE SEQUENCE "):
        # The catalog query spells every option, and CYCLE only when set.
        text = "ALTER" + new.create.removeprefix("CREATE")
        return [text if text.endswith(" CYCLE") else text + " NO CYCLE"]
    if new.kind == "domain":
        return _alter_domain(old.create, new.create)
    return None


def _parts(create: str) -> dict[str, Any] | None:
    """The parts of a CREATE DOMAIN, each clause as the catalog query wrote it: its text is
    cut at the parser's clause locations (never re-printed: a printer can spell an
    expression otherwise than the server takes it back)."""
    import pglast
    from pglast.enums import ConstrType
    from pglast.stream import RawStream

    try:
        [raw] = pglast.parse_sql(create)
    except Exception:  # pglast.parser.ParseError, or not exactly one statement
        return None
    stmt: Any = raw.stmt
    if type(stmt).__name__ != "CreateDomainStmt":
        return None
    source = create.encode()  # the parser's locations are byte offsets
    constraints = list(stmt.constraints or ())
    ends = [c.location for c in constraints[1:]] + [len(source)] * bool(constraints)
    text = RawStream()
    parts: dict[str, Any] = {
        "name": ".".join(quote(p.sval) for p in stmt.domainname),
        "type": text(stmt.typeName),
        "collation": text(stmt.collClause) if stmt.collClause else None,
        "default": None,
        "not_null": False,
        "checks": {},
    }
    for c, end in zip(constraints, ends, strict=True):
        clause = source[c.location : end].decode().strip()
        if c.contype == ConstrType.CONSTR_DEFAULT and clause.upper().startswith("DEFAULT "):
            parts["default"] = clause
        elif c.contype == ConstrType.CONSTR_NOTNULL:
            parts["not_null"] = True
        elif c.contype == ConstrType.CONSTR_CHECK and c.conname and clause.startswith("CONSTRAINT"):
            parts["checks"][c.conname] = clause
        elif c.contype != ConstrType.CONSTR_NULL:
            return None  # an unnamed check, or something else: not altered by guess
    return parts


def _alter_domain(old_sql: str, new_sql: str) -> list[str] | None:
    old, new = _parts(old_sql), _parts(new_sql)
    if old is None or new is None:
        return None
    if (old["name"], old["type"], old["collation"]) != (new["name"], new["type"], new["collation"]):
        return None
    domain = f"ALTER DOMAIN {new['name']}"
    statements = []
    for name, check in old["checks"].items():
        if new["checks"].get(name) != check:
            statements.append(f"{domain} DROP CONSTRAINT {quote(name)}")
    if old["default"] != new["default"]:
        default = new["default"]
        statements.append(f"{domain} SET {default}" if default else f"{domain} DROP DEFAULT")
    if old["not_null"] != new["not_null"]:
        statements.append(f"{domain} {'SET' if new['not_null'] else 'DROP'} NOT NULL")
    for name, check in new["checks"].items():
        if old["checks"].get(name) != check:
            statements.append(f"{domain} ADD {check}")
    return statements
