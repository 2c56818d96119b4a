"""Reading a live PostgreSQL schema from pg_catalog in seven bulk queries, whatever its size.

One query each for the schemas, the relations, the columns, the constraints, the indexes, the
enum types and everything else (triggers, functions, domains, rules, policies, extensions),
all filtered by namespace, so 1,000 tables cost the same seven round trips as ten. The server
does the formatting (``format_type``, ``pg_get_expr``, ``pg_get_constraintdef``,
``pg_get_indexdef``); Python only maps its spelling onto the portable model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from covet_core.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    EnumType,
    ForeignKey,
    IgnoredObject,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)

# covet's own tables are read like any other (the façade decides whether to show them), but
# objects hanging off them are covet's business, not something to report as ignored.
INTERNAL_PREFIX = "_covet_"

_NAMESPACES = """
SELECT current_schema() AS current,
       coalesce(array_agg(n.oid ORDER BY n.nspname), '{}') AS oids,
       coalesce(array_agg(n.nspname ORDER BY n.nspname), '{}') AS names
FROM pg_namespace n
WHERE CASE WHEN $1::text[] IS NULL THEN n.nspname = current_schema()
           ELSE n.nspname = ANY($1::text[]) END
"""

# Sequences with an 'a' (serial) or 'i' (identity) dependency belong to a column: modelled as
# autoincrement, not reported. Extension members are the extension's business.
_RELATIONS = """
SELECT c.oid, c.relnamespace AS nsp, c.relname, c.relkind::text AS relkind, c.relispartition, d.description,
       EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass
               AND o.objid = c.oid AND o.deptype IN ('a', 'i')) AS owned,
       EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
               AND e.objid = c.oid AND e.deptype = 'e') AS in_extension
FROM pg_class c
LEFT JOIN pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
"""

_COLUMNS = """
SELECT a.attrelid AS rel, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
       t.typtype::text AS typtype, t.typname, tn.nspname AS type_schema, a.attnotnull,
       a.attidentity::text AS attidentity, a.attgenerated::text AS attgenerated, pg_get_expr(ad.adbin, ad.adrelid, true) AS "default",
       ds.description AS comment,
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel FROM pg_enum e
            WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS labels,
       CASE WHEN ad.adbin IS NOT NULL AND a.attidentity = '' THEN EXISTS (
            SELECT 1 FROM pg_depend s WHERE s.refclassid = 'pg_class'::regclass
            AND s.refobjid = a.attrelid AND s.refobjsubid = a.attnum
            AND s.classid = 'pg_class'::regclass AND s.deptype = 'a') END AS owns_sequence
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description ds
       ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

_CONSTRAINTS = """
SELECT con.conrelid AS rel, con.conname, con.contype::text AS contype,
       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid, true) END AS def,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord) AS cols,
       rc.relname AS ref_table, rn.nspname AS ref_schema,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord) AS ref_cols,
       con.confupdtype::text AS confupdtype, con.confdeltype::text AS confdeltype
FROM pg_constraint con
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.connamespace = ANY($1::oid[]) AND con.conrelid <> 0
  AND con.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY con.conrelid, con.conname
"""

# Indexes that back a primary key, unique or exclusion constraint are the constraint's.
# pg_get_indexdef is costly, so it is asked only for an index that is more than a list of
# columns (expressions, DESC / NULLS, another method, operator class or collation).
_INDEXES = """
SELECT i.indrelid AS rel, ic.relname AS name, i.indisunique, am.amname,
       CASE WHEN i.indexprs IS NOT NULL OR am.amname <> 'btree' OR i.indoption::text ~ '[1-9]'
                 OR EXISTS (SELECT 1 FROM unnest(i.indclass::oid[]) oc
                            JOIN pg_opclass o ON o.oid = oc WHERE NOT o.opcdefault)
                 OR EXISTS (SELECT 1 FROM unnest(i.indcollation::oid[], i.indkey::int2[]) x(coll, num)
                            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.num
                            WHERE x.coll <> a.attcollation)
            THEN pg_get_indexdef(i.indexrelid, 0, true) END AS def,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
             WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS cols,
       ARRAY(SELECT quote_ident(a.attname) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
             WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS quoted
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid
                  AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
ORDER BY ic.relname
"""

_ENUMS = """
SELECT t.typnamespace AS nsp, t.typname,
       array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = ANY($1::oid[])
GROUP BY t.typnamespace, t.typname
ORDER BY t.typname
"""

_NOT_IN_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass "
    "AND x.objid = {oid} AND x.deptype = 'e')"
)
_OTHERS = f"""
SELECT 'trigger' AS kind, t.tgname AS name, c.relnamespace AS nsp, c.relname AS parent
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND c.relnamespace = ANY($1::oid[])
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                      WHEN 'w' THEN 'window function' ELSE 'function' END,
       p.proname, p.pronamespace, NULL
FROM pg_proc p
WHERE p.pronamespace = ANY($1::oid[])
  AND {_NOT_IN_EXTENSION.format(catalog="pg_proc", oid="p.oid")}
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type'
                      WHEN 'm' THEN 'range type' ELSE 'composite type' END,
       t.typname, t.typnamespace, NULL
FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typnamespace = ANY($1::oid[])
  AND (t.typtype IN ('d', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
  AND {_NOT_IN_EXTENSION.format(catalog="pg_type", oid="t.oid")}
UNION ALL
SELECT 'rule', r.rulename, c.relnamespace, c.relname
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE r.rulename <> '_RETURN' AND c.relnamespace = ANY($1::oid[])
UNION ALL
SELECT 'policy', p.polname, c.relnamespace, c.relname
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = ANY($1::oid[])
UNION ALL
SELECT 'extension', e.extname, e.extnamespace, NULL
FROM pg_extension e WHERE e.extnamespace = ANY($1::oid[])
"""

_RELKIND = {"v": "view", "m": "materialized view", "S": "sequence", "f": "foreign table"}
_ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_TYPE = re.compile(r"^(?P<name>[a-z][a-z ]*?)(?:\((?P<args>\d+(?:,\d+)?)\))?(?P<rest>[a-z ]*)$")
_SIMPLE_TYPES = {
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "double precision": "float",
    "real": "real",
    "boolean": "boolean",
    "text": "text",
    "bytea": "binary",
    "date": "date",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
}
_ARG_TYPES = {
    "character varying": ("string", "length"),
    "character": ("char", "length"),
    "bpchar": ("char", "length"),
    "numeric": ("decimal", "precision"),
    "timestamp without time zone": ("timestamp", "precision"),
    "timestamp with time zone": ("timestamptz", "precision"),
    "time without time zone": ("time", "precision"),
}


@lru_cache(maxsize=1024)
def portable_type(text: str) -> ColumnType:
    """``format_type`` output -> the portable ``ColumnType`` (unknown types keep their name)."""
    if '"' in text:  # a quoted name keeps its case
        return ColumnType(text.strip())
    spelled = text.strip().lower()
    if spelled in _SIMPLE_TYPES:
        return ColumnType(_SIMPLE_TYPES[spelled])
    match = _TYPE.match(spelled)
    if match is None:  # arrays, quoted or schema-qualified names: the server's text as is
        return ColumnType(spelled)
    # format_type puts the modifier inside: timestamp(3) with time zone.
    base = f"{match['name']}{match['rest']}".strip()
    args = [int(a) for a in match["args"].split(",")] if match["args"] else []
    if base in _ARG_TYPES:
        name, first = _ARG_TYPES[base]
        if first == "length":
            return ColumnType(name, length=args[0] if args else None)
        if name == "decimal":
            return ColumnType(name, precision=args[0], scale=args[1]) if args else ColumnType(name)
        return ColumnType(name, precision=args[0] if args else None)
    if base in _SIMPLE_TYPES:
        return ColumnType(_SIMPLE_TYPES[base])
    if len(args) == 2:
        return ColumnType(base, precision=args[0], scale=args[1])
    return ColumnType(base, length=args[0] if args else None)


def _balanced(text: str, start: int) -> int:
    """Index just past the parenthesis group opening at ``text[start]``."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def check_expression(definition: str) -> str:
    """``CHECK ((a > 0)) NOT VALID`` -> ``(a > 0)``: the text inside CHECK's parentheses."""
    start = definition.index("(")
    return definition[start + 1 : _balanced(definition, start) - 1].strip()


def _index_keys(definition: str, method: str) -> str:
    marker = f" USING {method} ("
    start = definition.index(marker) + len(marker) - 1
    return definition[start + 1 : _balanced(definition, start) - 1]


class PostgreSQLSchemaReader:
    """``await PostgreSQLSchemaReader(adapter).read(["app"])``."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter

    async def read(self, schemas: Sequence[str] | None = None) -> Schema:
        fetch = self.adapter.fetch_all
        spaces = await self.adapter.fetch_one(_NAMESPACES, (list(schemas) if schemas else None,))
        assert spaces is not None  # an aggregate always returns its row
        current, oids = spaces["current"], list(spaces["oids"])
        # The connection's default schema is ``None`` in the model, every other one its name.
        label = {
            o: (None if n == current else n) for o, n in zip(oids, spaces["names"], strict=True)
        }
        relations = await fetch(_RELATIONS, (oids,))
        columns = await fetch(_COLUMNS, (oids,))
        constraints = await fetch(_CONSTRAINTS, (oids,))
        indexes = await fetch(_INDEXES, (oids,))
        enums = await fetch(_ENUMS, (oids,))
        others = await fetch(_OTHERS, (oids,))

        def own(name: str) -> str | None:
            return None if name == current else name

        ignored: list[IgnoredObject] = []
        tables: dict[int, dict[str, Any]] = {}
        for rel in relations:
            schema = label[rel["nsp"]]
            if rel["in_extension"]:
                continue
            if rel["relkind"] in ("r", "p") and rel["relispartition"]:
                ignored.append(IgnoredObject("partition", rel["relname"], schema))
            elif rel["relkind"] in ("r", "p"):
                tables[rel["oid"]] = {
                    "name": rel["relname"], "schema": schema, "comment": rel["description"],
                    "columns": [], "pk": (), "pk_name": None, "indexes": [], "uniques": [],
                    "checks": [], "fks": [],
                }  # fmt: skip
            elif not (rel["relkind"] == "S" and rel["owned"]):
                ignored.append(IgnoredObject(_RELKIND[rel["relkind"]], rel["relname"], schema))

        for row in columns:
            table = tables.get(row["rel"])
            if table is None:
                continue
            table["columns"].append(self._column(row, own))
            if row["attgenerated"]:
                name = f"{table['name']}.{row['attname']}"
                ignored.append(IgnoredObject("generated column", name, table["schema"]))

        for row in constraints:
            table = tables.get(row["rel"])
            if table is None:
                continue
            name, kind, cols = row["conname"], row["contype"], tuple(row["cols"])
            if kind == "p":
                table["pk"], table["pk_name"] = cols, name
            elif kind == "u":
                table["uniques"].append(UniqueConstraint(name, cols))
            elif kind == "c":
                table["checks"].append(CheckConstraint(name, check_expression(row["def"])))
            elif kind == "f":
                table["fks"].append(
                    ForeignKey(
                        name,
                        cols,
                        row["ref_table"],
                        tuple(row["ref_cols"]),
                        ref_schema=own(row["ref_schema"]),
                        on_delete=_ACTIONS.get(row["confdeltype"]),
                        on_update=_ACTIONS.get(row["confupdtype"]),
                    )
                )
            else:
                where = f"{name} on {table['name']}"
                ignored.append(IgnoredObject("exclusion constraint", where, table["schema"]))

        for row in indexes:
            table = tables.get(row["rel"])
            if table is not None:
                table["indexes"].append(self._index(row))

        for row in others:
            parent = row["parent"]
            if parent and parent.startswith(INTERNAL_PREFIX):
                continue
            name = f"{row['name']} on {parent}" if parent else row["name"]
            ignored.append(IgnoredObject(row["kind"], name, label[row["nsp"]]))

        return Schema.of(
            [
                Table(
                    t["name"],
                    tuple(t["columns"]),
                    primary_key=t["pk"],
                    schema=t["schema"],
                    comment=t["comment"],
                    indexes=tuple(t["indexes"]),
                    unique_constraints=tuple(t["uniques"]),
                    check_constraints=tuple(t["checks"]),
                    foreign_keys=tuple(t["fks"]),
                    primary_key_name=t["pk_name"],
                )
                for t in tables.values()
            ],
            [EnumType(e["typname"], tuple(e["labels"]), label[e["nsp"]]) for e in enums],
            dialect="postgresql",
            ignored=ignored,
        )

    @staticmethod
    def _column(row: dict[str, Any], own: Any) -> Column:
        if row["typtype"] == "e":
            schema = own(row["type_schema"])
            enum_name = f"{schema}.{row['typname']}" if schema else row["typname"]
            column_type = ColumnType("enum", values=tuple(row["labels"]), enum_name=enum_name)
        else:
            column_type = portable_type(row["type"])
        default = row["default"]
        # A serial column's nextval() over its own sequence is the server's autoincrement.
        serial = bool(row["owns_sequence"]) and (default or "").startswith("nextval(")
        autoincrement = bool(row["attidentity"]) or serial
        if autoincrement or row["attgenerated"]:
            default = None
        return Column(
            row["attname"], column_type, nullable=not row["attnotnull"], default=default,
            autoincrement=autoincrement, comment=row["comment"],
        )  # fmt: skip

    @staticmethod
    def _index(row: dict[str, Any]) -> Index:
        cols: list[str | None] = list(row["cols"])
        keys = _index_keys(row["def"], row["amname"]) if row["def"] else ", ".join(row["quoted"])
        plain = None not in cols and keys == ", ".join(row["quoted"])
        return Index(
            row["name"],
            tuple(c for c in cols if c is not None) if plain else (),
            unique=row["indisunique"],
            where=row["predicate"],
            expression=None if plain else keys,
        )


def schema_reader(adapter: Any) -> PostgreSQLSchemaReader:
    return PostgreSQLSchemaReader(adapter)
