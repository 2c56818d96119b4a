"""The PostgreSQL catalog queries behind the schema reader: eight, whatever the schema's size.

Each is filtered by namespace (``$1``, the oids of the schemas read), so 1,000 tables cost the
same round trips as ten. What the schema model does not cover is still selected, so that the
reader can name it (nothing is lost silently): see ``OTHERS`` and the flags on relations,
columns and constraints.
"""

from __future__ import annotations

import functools
import re

# covet's own tables are read like any other (the façade decides whether to show them), but
# objects hanging off them are covet's business, not something to report as ignored.
INTERNAL_PREFIX = "_covet_"

# Schemas not asked for are named when they hold anything (nothing is lost silently).
NAMESPACES = """
SELECT current_schema() AS current, current_setting('server_version_num')::int AS version,
       coalesce(array_agg(n.oid ORDER BY n.nspname) FILTER (WHERE n.chosen), '{}') AS oids,
       coalesce(array_agg(n.nspname ORDER BY n.nspname) FILTER (WHERE n.chosen), '{}') AS names,
       coalesce(array_agg(n.nspname ORDER BY n.nspname) FILTER (WHERE NOT n.chosen
                AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                AND (EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid)
                     OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = n.oid)
                     OR EXISTS (SELECT 1 FROM pg_type t WHERE t.typnamespace = n.oid))), '{}')
       AS unread
FROM (SELECT oid, nspname,
             CASE WHEN $1::text[] IS NULL THEN nspname = current_schema()
                  ELSE nspname = ANY($1::text[]) END AS chosen
      FROM pg_namespace) n
"""

# Sequences with an 'a' (serial) or 'i' (identity) dependency belong to a column: modelled as
# autoincrement, not reported. Extension members are the extension's business.
RELATIONS = """
SELECT c.oid, c.relnamespace AS nsp, c.relname, c.relkind::text AS relkind, c.relispartition, d.description,
       c.relpersistence::text AS persistence, c.reloptions,
       c.relrowsecurity OR c.relforcerowsecurity AS row_security,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN NOT c.relispartition THEN
            ARRAY(SELECT ARRAY[p.relnamespace::text, p.relname::text] FROM pg_inherits h
                  JOIN pg_class p ON p.oid = h.inhparent
                  WHERE h.inhrelid = c.oid ORDER BY h.inhseqno) END AS parents,
       EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass
               AND o.objid = c.oid AND o.deptype IN ('a', 'i')) AS owned,
       EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
               AND e.objid = c.oid AND e.deptype = 'e') AS in_extension
FROM pg_class c
LEFT JOIN pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
"""


def _serial_default(sequence: str) -> str:
    """SQL: whether the default ``ad`` (pg_attrdef) is exactly the nextval() of ``sequence``
    (an oid expression) that SERIAL writes. COLUMNS' "used" and CARRIED's test of a sequence
    SERIAL makes are this one condition: a sequence neither creates would be lost."""
    return (
        "pg_get_expr(ad.adbin, ad.adrelid, true)"
        f" = format('nextval(%L::regclass)', {sequence}::regclass::text)"
    )


def _column_settings(prefix: str) -> str:
    """Rows (what, set_sql, reset_sql): the settings of column ``a`` (of type ``t``, in table
    ``c``) that CREATE TABLE does not say, each as the ALTER that sets it and the one that puts
    the default back. ``prefix`` is the SQL of the table's schema prefix."""
    return f"""
SELECT x.what || ' of ' || c.relname || '.' || a.attname AS what,
       format('ALTER TABLE ONLY %s%I ALTER COLUMN %I ', {prefix}, c.relname, a.attname)
       || x.set_clause AS set_sql,
       format('ALTER TABLE ONLY %s%I ALTER COLUMN %I ', {prefix}, c.relname, a.attname)
       || x.reset_clause AS reset_sql
-- A column's documented options (n_distinct, n_distinct_inherited) only: some builds keep
-- their own bookkeeping there (pg_attver=...) on every column.
FROM (SELECT string_agg(format('%s = %L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)),
                        ', ' ORDER BY o) AS set_list,
             string_agg(split_part(o, '=', 1), ', ' ORDER BY o) AS reset_list
      FROM unnest(a.attoptions) o WHERE o ~ '^n_distinct(_inherited)?=') o
CROSS JOIN LATERAL (VALUES
    ('statistics target', 'SET STATISTICS ' || a.attstattarget, 'SET STATISTICS -1',
     coalesce(a.attstattarget, -1) >= 0),
    ('storage', 'SET STORAGE ' || STORAGE(a.attstorage), 'SET STORAGE ' || STORAGE(t.typstorage),
     a.attstorage <> t.typstorage),
    ('compression', 'SET COMPRESSION ' || CASE COMPRESSION(a) WHEN 'l' THEN 'lz4' ELSE 'pglz' END,
     'SET COMPRESSION DEFAULT', COMPRESSION(a) <> ''),
    ('options', 'SET (' || o.set_list || ')', 'RESET (' || o.reset_list || ')',
     o.set_list IS NOT NULL)
) x(what, set_clause, reset_clause, present)
WHERE x.present"""


# Whether column ``a`` of type ``t`` may have a setting above: cheap, so that the settings'
# statements are built only for the few columns that have one.
_MAY_HAVE_SETTINGS = (
    "(coalesce(a.attstattarget, -1) >= 0 OR a.attstorage <> t.typstorage"
    " OR COMPRESSION(a) <> '' OR array_to_string(a.attoptions, ',') LIKE '%n_distinct%')"
)

COLUMNS = f"""
-- The sequences each column owns ('i': its identity; 'a': its SERIAL or an OWNED BY), in one
-- pass over pg_depend rather than a lookup per column with a default, and all of them: a
-- column may own more than one, or own one its default does not use. "used": the default is
-- exactly this sequence's nextval(), as SERIAL writes it.
WITH owned AS (
  SELECT d.refobjid AS rel, d.refobjsubid AS attnum,
         array_agg(ARRAY[d.deptype::text, s.relname::text,
             CASE WHEN sn.nspname = current_schema() THEN '' ELSE quote_ident(sn.nspname) || '.' END
             || quote_ident(s.relname),
             CASE WHEN
                  q.seqstart <> 1 OR q.seqincrement <> 1 OR q.seqmin <> 1 OR q.seqcache <> 1
                  OR q.seqcycle OR q.seqmax <> CASE q.seqtypid WHEN 'int2'::regtype THEN 32767
                  WHEN 'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END
                  THEN concat_ws(' ', 'START WITH ' || q.seqstart,
                        'INCREMENT BY ' || q.seqincrement, 'MINVALUE ' || q.seqmin,
                        'MAXVALUE ' || q.seqmax, 'CACHE ' || q.seqcache,
                        CASE WHEN q.seqcycle THEN 'CYCLE' END) END,
             q.seqstart::text, (q.seqtypid = a.atttypid)::text,
             coalesce({_serial_default("s.oid")}, false)::text]
             ORDER BY d.deptype DESC, s.relname) AS sequences
  FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_sequence q ON q.seqrelid = s.oid
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
    AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
  GROUP BY d.refobjid, d.refobjsubid
)
SELECT a.attrelid AS rel, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
       t.typtype::text AS typtype, t.typname, tn.nspname AS type_schema, a.attnotnull,
       a.attislocal,
       a.attidentity::text AS attidentity, a.attgenerated::text AS attgenerated, pg_get_expr(ad.adbin, ad.adrelid, true) AS "default",
       ds.description AS comment,
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel FROM pg_enum e
            WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS labels,
       o.sequences,
       CASE WHEN a.attcollation <> t.typcollation THEN (
            SELECT ARRAY[cn.nspname, co.collname] FROM pg_collation co
            JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
            END AS collation,
       -- Settings carried as ALTERs, read here rather than in CARRIED: each is a pass over
       -- pg_attribute there, which cost more than the rest of that query.
       CASE WHEN {_MAY_HAVE_SETTINGS} THEN ARRAY(
            SELECT ARRAY[f.what, f.set_sql, f.reset_sql] FROM ({
    _column_settings(
        "(SELECT CASE WHEN n.nspname = current_schema() THEN '' "
        "ELSE quote_ident(n.nspname) || '.' END "
        "FROM pg_namespace n WHERE n.oid = c.relnamespace)"
    )
}) f) END AS settings
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description ds
       ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
LEFT JOIN owned o ON o.rel = a.attrelid AND o.attnum = a.attnum
WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
"""  # in no order: the reader sorts them by table and number

CONSTRAINTS = """
SELECT con.conrelid AS rel, con.conname, con.contype::text AS contype,
       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid, true) END AS def,
       -- Key columns by number: the reader names them from COLUMNS' rows (a lookup per key
       -- column here was a quarter of this query).
       con.conkey AS keys, con.confrelid AS ref_rel, con.confkey AS ref_keys,
       rc.relname AS ref_table, rn.nspname AS ref_schema,
       -- A foreign key to a table of a schema not read: its columns are named here.
       CASE WHEN con.contype = 'f' AND NOT rc.relnamespace = ANY($1::oid[]) THEN
            ARRAY(SELECT (SELECT a.attname FROM pg_attribute a
                          WHERE a.attrelid = con.confrelid AND a.attnum = k.num)
                  FROM unnest(con.confkey) WITH ORDINALITY k(num, ord) ORDER BY k.ord) END AS ref_cols,
       con.confupdtype::text AS confupdtype, con.confdeltype::text AS confdeltype,
       con.condeferrable, con.condeferred, con.confmatchtype::text AS confmatchtype,
       con.conislocal, con.convalidated, con.connoinherit,
       DELSETCOLS(con) AS set_columns,
       -- A key's index, joined rather than looked up per key: its INCLUDE columns (by
       -- number, after the key's own) and NULLS NOT DISTINCT.
       x.indkey::int2[] AS index_keys, x.indnkeyatts AS key_count, NND(x) AS key_nnd
FROM pg_constraint con
LEFT JOIN pg_index x ON x.indexrelid = con.conindid AND con.contype IN ('p', 'u')
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.connamespace = ANY($1::oid[]) AND con.conrelid <> 0
  AND con.contype IN ('p', 'u', 'f', 'c', 'x')
"""  # in no order: the reader sorts them by table and name (a sort here cost a fifth)

# Indexes that back a primary key, unique or exclusion constraint are the constraint's.
# NND(alias) is pg_index.indnullsnotdistinct from PostgreSQL 15 on, false before (see
# for_server: the column does not exist on older servers).
# pg_get_indexdef is costly, so it is asked only for an index that is more than a list of
# columns (expressions, DESC / NULLS, another method, operator class or collation).
INDEXES = """
SELECT i.indrelid AS rel, ic.relname AS name, i.indisunique, am.amname,
       NND(i) AS nulls_not_distinct,
       ic.reltablespace <> 0 AS has_options,  -- its storage parameters are carried
       CASE WHEN i.indnatts > i.indnkeyatts THEN
            ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
                  WHERE k.ord > i.indnkeyatts ORDER BY k.ord) ELSE '{}' END AS include,
       CASE WHEN i.indexprs IS NOT NULL OR am.amname <> 'btree' OR i.indoption::text ~ '[1-9]'
                 OR keys.other_collation
                 -- Operator classes that are not their type's default, gathered once (an
                 -- uncorrelated subquery is an InitPlan; joined, it was rebuilt per index).
                 OR i.indclass::oid[] && (SELECT coalesce(array_agg(oid), '{}') FROM pg_opclass
                                          WHERE NOT opcdefault)
            THEN pg_get_indexdef(i.indexrelid, 0, true) END AS def,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate, keys.cols, keys.quoted
FROM pg_index i
-- The key columns, their quoted names and whether one has a collation other than its
-- column's, in one pass over the key, not one each (correlated EXISTS per index cost more
-- than the rest of the query).
CROSS JOIN LATERAL (
    SELECT array_agg(a.attname ORDER BY k.ord) AS cols,
           array_agg(quote_ident(a.attname) ORDER BY k.ord) AS quoted,
           coalesce(bool_or(k.coll <> a.attcollation), false) AS other_collation
    FROM unnest(i.indkey::int2[], i.indcollation::oid[]) WITH ORDINALITY k(num, coll, ord)
    -- A lookup per key column: joined, it was planned as a hash of all the table's columns.
    LEFT JOIN LATERAL (SELECT attname, attcollation FROM pg_attribute
                       WHERE attrelid = i.indrelid AND attnum = k.num) a ON true
    WHERE k.ord <= i.indnkeyatts) keys
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'p')
  -- NOT IN over one scan of pg_constraint (a hashed subplan): NOT EXISTS was planned as a
  -- nested loop, a join per index.
  AND i.indexrelid NOT IN (SELECT con.conindid FROM pg_constraint con
                           WHERE con.contype IN ('p', 'u', 'x'))
ORDER BY ic.relname
"""

ENUMS = """
SELECT t.typnamespace AS nsp, t.typname,
       array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = ANY($1::oid[])
GROUP BY t.typnamespace, t.typname
ORDER BY t.typname
"""

NOT_IN_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass "
    "AND x.objid = {oid} AND x.deptype = 'e')"
)
OTHERS = f"""
SELECT 'trigger' AS kind, t.tgname AS name, c.relnamespace AS nsp, c.relname AS parent
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND c.relnamespace = ANY($1::oid[])
UNION ALL
-- What a partition has of its own, beyond what its parent gives every partition: a copy
-- creates partitions with PARTITION OF, which gives them the parent's indexes, keys,
-- defaults and triggers only.
SELECT 'index of a partition (not its parent''s)', i.relname, c.relnamespace, c.relname
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relispartition AND c.relnamespace = ANY($1::oid[])
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = x.indexrelid)
UNION ALL
SELECT 'constraint of a partition (not its parent''s)', con.conname, c.relnamespace, c.relname
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE c.relispartition AND c.relnamespace = ANY($1::oid[]) AND con.conislocal
  AND con.conparentid = 0 AND con.contype IN ('c', 'f', 'u', 'p', 'x')
UNION ALL
SELECT CASE WHEN c.relispartition THEN 'column default or NOT NULL of a partition (not its parent''s)'
            ELSE 'column default or NOT NULL of an inheriting table (not its parent''s)' END,
       a.attname, c.relnamespace, c.relname
FROM pg_class c JOIN pg_inherits h ON h.inhrelid = c.oid
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_attribute pa ON pa.attrelid = h.inhparent AND pa.attname = a.attname
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
-- A child's own (local) column is declared in its copy with its own default and NOT NULL.
WHERE (c.relispartition OR NOT a.attislocal) AND c.relnamespace = ANY($1::oid[])
  AND (a.attnotnull AND NOT pa.attnotnull
       OR pg_get_expr(d.adbin, d.adrelid) IS DISTINCT FROM pg_get_expr(pd.adbin, pd.adrelid))
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                      WHEN 'w' THEN 'window function' ELSE 'function' END,
       p.proname, p.pronamespace, NULL
FROM pg_proc p
WHERE p.pronamespace = ANY($1::oid[])
  -- An extension's, or part of another object (a range type's constructors): not its own.
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype IN ('i', 'a', 'e'))
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type'
                      WHEN 'm' THEN 'range type' ELSE 'composite type' END,
       t.typname, t.typnamespace, NULL
FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typnamespace = ANY($1::oid[])
  AND (t.typtype IN ('d', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
  AND {NOT_IN_EXTENSION.format(catalog="pg_type", oid="t.oid")}
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
UNION ALL
SELECT 'collation', o.collname, o.collnamespace, NULL FROM pg_collation o
WHERE o.collnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_collation", oid="o.oid")}
UNION ALL
SELECT 'operator', o.oprname, o.oprnamespace, NULL FROM pg_operator o
WHERE o.oprnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_operator", oid="o.oid")}
UNION ALL
SELECT 'operator class', o.opcname, o.opcnamespace, NULL FROM pg_opclass o
WHERE o.opcnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_opclass", oid="o.oid")}
UNION ALL
SELECT 'operator family', o.opfname, o.opfnamespace, NULL FROM pg_opfamily o
WHERE o.opfnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_opfamily", oid="o.oid")}
UNION ALL
SELECT 'statistics', o.stxname, o.stxnamespace, NULL FROM pg_statistic_ext o
WHERE o.stxnamespace = ANY($1::oid[])
UNION ALL
SELECT 'conversion', o.conname, o.connamespace, NULL FROM pg_conversion o
WHERE o.connamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_conversion", oid="o.oid")}
UNION ALL
SELECT 'text search configuration', o.cfgname, o.cfgnamespace, NULL FROM pg_ts_config o
WHERE o.cfgnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_ts_config", oid="o.oid")}
UNION ALL
SELECT 'text search dictionary', o.dictname, o.dictnamespace, NULL FROM pg_ts_dict o
WHERE o.dictnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_ts_dict", oid="o.oid")}
UNION ALL
SELECT 'text search parser', o.prsname, o.prsnamespace, NULL FROM pg_ts_parser o
WHERE o.prsnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_ts_parser", oid="o.oid")}
UNION ALL
SELECT 'text search template', o.tmplname, o.tmplnamespace, NULL FROM pg_ts_template o
WHERE o.tmplnamespace = ANY($1::oid[])
  AND {NOT_IN_EXTENSION.format(catalog="pg_ts_template", oid="o.oid")}
UNION ALL
-- Objects of the whole database, not of a schema: reported with every read.
SELECT 'foreign data wrapper', w.fdwname, NULL, NULL FROM pg_foreign_data_wrapper w
WHERE {NOT_IN_EXTENSION.format(catalog="pg_foreign_data_wrapper", oid="w.oid")}
UNION ALL
SELECT 'foreign server', s.srvname, NULL, NULL FROM pg_foreign_server s
UNION ALL
SELECT 'event trigger', e.evtname, NULL, NULL FROM pg_event_trigger e
WHERE {NOT_IN_EXTENSION.format(catalog="pg_event_trigger", oid="e.oid")}
UNION ALL
SELECT 'publication', p.pubname, NULL, NULL FROM pg_publication p
"""

# What the reader can recreate with the server's own spelling (extensions, domains and
# sequences no column owns), so a generated migration creates what its tables use. ``name``
# is written qualified unless it lives in the current schema, as format_type writes it.
CARRIED = f"""
WITH named AS (
    SELECT n.oid, CASE WHEN n.nspname = current_schema() THEN '' ELSE quote_ident(n.nspname) || '.'
                  END AS prefix, n.nspname FROM pg_namespace n WHERE n.oid = ANY($1::oid[])
),
-- Comments on what users made (OIDs from FirstNormalObjectId, 16384, on) and on schemas
-- (public's is older): read once, not in a scan of every built-in object's comment per kind.
described AS MATERIALIZED (
    SELECT objoid, classoid, objsubid, description FROM pg_description
    WHERE objoid >= 16384 OR classoid = 'pg_namespace'::regclass
)
SELECT 'extension' AS kind, e.extname AS name, e.extnamespace AS nsp, 0 AS stage, e.oid::bigint AS ord,
       format('CREATE EXTENSION %I WITH SCHEMA %I', e.extname, s.nspname) AS create_sql,
       format('DROP EXTENSION %I', e.extname) AS drop_sql
FROM pg_extension e JOIN named s ON s.oid = e.extnamespace
UNION ALL
SELECT 'domain', t.typname, t.typnamespace, 1, t.oid::bigint,
       'CREATE DOMAIN ' || s.prefix || quote_ident(t.typname) || ' AS '
       || format_type(t.typbasetype, t.typtypmod)
       || CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation THEN
               ' COLLATE ' || (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                               JOIN pg_namespace cn ON cn.oid = co.collnamespace
                               WHERE co.oid = t.typcollation) ELSE '' END
       || CASE WHEN t.typdefault IS NOT NULL THEN ' DEFAULT ' || t.typdefault ELSE '' END
       || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce((SELECT string_agg(format(' CONSTRAINT %I %s', c.conname,
                                             pg_get_constraintdef(c.oid)), '' ORDER BY c.conname)
                    FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), ''),
       'DROP DOMAIN ' || s.prefix || quote_ident(t.typname)
FROM pg_type t JOIN named s ON s.oid = t.typnamespace JOIN pg_type b ON b.oid = t.typbasetype
WHERE t.typtype = 'd' AND {NOT_IN_EXTENSION.format(catalog="pg_type", oid="t.oid")}
UNION ALL
-- A composite type a column may be of, attribute by attribute as format_type spells them.
SELECT 'composite type', t.typname, t.typnamespace, 1, t.oid::bigint,
       'CREATE TYPE ' || s.prefix || quote_ident(t.typname) || ' AS ('
       || coalesce((SELECT string_agg(quote_ident(a.attname) || ' '
                                      || format_type(a.atttypid, a.atttypmod)
                                      || CASE WHEN a.attcollation <> 0
                                              AND a.attcollation <> b.typcollation THEN
                                           ' COLLATE ' || (SELECT format('%I.%I', cn.nspname, co.collname)
                                                           FROM pg_collation co
                                                           JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                                           WHERE co.oid = a.attcollation)
                                         ELSE '' END, ', ' ORDER BY a.attnum)
                    FROM pg_attribute a JOIN pg_type b ON b.oid = a.atttypid
                    WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '')
       || ')',
       'DROP TYPE ' || s.prefix || quote_ident(t.typname)
FROM pg_type t JOIN named s ON s.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typtype = 'c' AND c.relkind = 'c'
  AND {NOT_IN_EXTENSION.format(catalog="pg_type", oid="t.oid")}
UNION ALL
-- A collation a column, a domain or a range type may use (so with them, before the tables),
-- by provider: an ICU locale, or libc's LC_COLLATE / LC_CTYPE.
SELECT 'collation', o.collname, o.collnamespace, 1, o.oid::bigint,
       format('CREATE COLLATION %s%I (provider = %s, deterministic = %s, %s)', s.prefix, o.collname,
              CASE o.collprovider WHEN 'i' THEN 'icu' ELSE 'libc' END,
              CASE WHEN o.collisdeterministic THEN 'true' ELSE 'false' END,
              CASE WHEN o.collprovider = 'i' THEN format('locale = %L', ICULOCALE(o))
                   WHEN o.collcollate = o.collctype THEN format('locale = %L', o.collcollate)
                   ELSE format('lc_collate = %L, lc_ctype = %L', o.collcollate, o.collctype) END),
       'DROP COLLATION ' || s.prefix || quote_ident(o.collname)
FROM pg_collation o JOIN named s ON s.oid = o.collnamespace
WHERE o.collprovider IN ('i', 'c') AND ICURULES(o) IS NULL
  AND {NOT_IN_EXTENSION.format(catalog="pg_collation", oid="o.oid")}
UNION ALL
-- Text search dictionaries, then configurations (ordered after every other object of this
-- stage: a mapping may name a dictionary made after the configuration), before the tables: a
-- generated column or an index may call to_tsvector with one.
SELECT 'text search dictionary', d.dictname, d.dictnamespace, 1, d.oid::bigint,
       format('CREATE TEXT SEARCH DICTIONARY %s%I (TEMPLATE = %I.%I%s)', s.prefix, d.dictname,
              tn.nspname, t.tmplname, coalesce(', ' || d.dictinitoption, '')),
       format('DROP TEXT SEARCH DICTIONARY %s%I', s.prefix, d.dictname)
FROM pg_ts_dict d JOIN named s ON s.oid = d.dictnamespace
JOIN pg_ts_template t ON t.oid = d.dicttemplate JOIN pg_namespace tn ON tn.oid = t.tmplnamespace
WHERE {NOT_IN_EXTENSION.format(catalog="pg_ts_dict", oid="d.oid")}
UNION ALL
SELECT 'text search configuration', c.cfgname, c.cfgnamespace, 1, c.oid::bigint + 4294967296,
       format('CREATE TEXT SEARCH CONFIGURATION %s%I (PARSER = %I.%I)', s.prefix, c.cfgname,
              pn.nspname, p.prsname)
       || coalesce((SELECT string_agg(format('; ALTER TEXT SEARCH CONFIGURATION %s%I ADD MAPPING FOR %s WITH %s',
                                             s.prefix, c.cfgname, m.alias, m.dicts), '' ORDER BY m.tokentype)
                    FROM (SELECT m.maptokentype AS tokentype,
                                 (SELECT k.alias FROM ts_token_type(c.cfgparser) k
                                  WHERE k.tokid = m.maptokentype) AS alias,
                                 string_agg(m.mapdict::regdictionary::text, ', ' ORDER BY m.mapseqno) AS dicts
                          FROM pg_ts_config_map m WHERE m.mapcfg = c.oid
                          GROUP BY m.maptokentype) m), ''),
       format('DROP TEXT SEARCH CONFIGURATION %s%I', s.prefix, c.cfgname)
FROM pg_ts_config c JOIN named s ON s.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
WHERE {NOT_IN_EXTENSION.format(catalog="pg_ts_config", oid="c.oid")}
UNION ALL
-- A range type, unless a function of the schema canonicalises it or measures its subtype:
-- those are created after the types (named, not carried).
SELECT 'range type', t.typname, t.typnamespace, 1, t.oid::bigint,
       'CREATE TYPE ' || s.prefix || quote_ident(t.typname) || ' AS RANGE (SUBTYPE = '
       || format_type(r.rngsubtype, NULL)
       || CASE WHEN NOT o.opcdefault THEN
               format(', SUBTYPE_OPCLASS = %I.%I', opn.nspname, o.opcname) ELSE '' END
       || CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN
               ', COLLATION = ' || (SELECT format('%I.%I', cn.nspname, co.collname)
                                    FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                    WHERE co.oid = r.rngcollation) ELSE '' END
       || CASE WHEN r.rngsubdiff <> 0 THEN ', SUBTYPE_DIFF = ' || r.rngsubdiff::regproc::text
               ELSE '' END
       || CASE WHEN MULTIRANGE(r) <> 0 THEN ', MULTIRANGE_TYPE_NAME = '
               || (SELECT format('%s%I', ms.prefix, m.typname) FROM pg_type m
                   JOIN named ms ON ms.oid = m.typnamespace WHERE m.oid = MULTIRANGE(r))
               ELSE '' END
       || ')',
       'DROP TYPE ' || s.prefix || quote_ident(t.typname)
FROM pg_type t JOIN named s ON s.oid = t.typnamespace JOIN pg_range r ON r.rngtypid = t.oid
JOIN pg_type st ON st.oid = r.rngsubtype JOIN pg_opclass o ON o.oid = r.rngsubopc
JOIN pg_namespace opn ON opn.oid = o.opcnamespace
WHERE t.typtype = 'r' AND r.rngcanonical = 0
  AND (r.rngsubdiff = 0 OR (SELECT p.pronamespace = 'pg_catalog'::regnamespace FROM pg_proc p
                            WHERE p.oid = r.rngsubdiff))
  AND {NOT_IN_EXTENSION.format(catalog="pg_type", oid="t.oid")}
UNION ALL
SELECT 'sequence', c.relname, c.relnamespace, 1, c.oid::bigint,
       'CREATE SEQUENCE ' || s.prefix || quote_ident(c.relname)
       || ' AS ' || format_type(q.seqtypid, NULL) || ' INCREMENT BY ' || q.seqincrement
       || ' MINVALUE ' || q.seqmin || ' MAXVALUE ' || q.seqmax || ' START WITH ' || q.seqstart
       || ' CACHE ' || q.seqcache || CASE WHEN q.seqcycle THEN ' CYCLE' ELSE '' END,
       'DROP SEQUENCE ' || s.prefix || quote_ident(c.relname)
FROM pg_class c JOIN named s ON s.oid = c.relnamespace JOIN pg_sequence q ON q.seqrelid = c.oid
WHERE c.relkind = 'S'
  AND NOT EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass
                  AND o.objid = c.oid AND o.deptype IN ('i', 'e'))
  -- A sequence a column owns comes with that column's SERIAL, when SERIAL would make it:
  -- the column NOT NULL, of the sequence's type, its default this sequence's nextval. Any
  -- other owned sequence is created here, and its OWNED BY set after the tables.
  AND NOT EXISTS (SELECT 1 FROM pg_depend o
                  JOIN pg_attribute a ON a.attrelid = o.refobjid AND a.attnum = o.refobjsubid
                  JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                  WHERE o.classid = 'pg_class'::regclass AND o.objid = c.oid
                    AND o.refclassid = 'pg_class'::regclass AND o.deptype = 'a'
                    AND a.attnotnull AND a.atttypid = q.seqtypid
                    AND {_serial_default("c.oid")})
UNION ALL
-- Functions a table calls (a column default or generated column, a check, an index
-- expression: pg_depend from pg_attrdef, pg_constraint or an index) before the tables, as
-- pg_dump does; other functions and procedures after them (their SQL bodies may read tables),
-- exclusion constraints, then views in creation order (a view uses what existed before it),
-- then triggers (they call functions). Each as the server prints it.
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, p.proname,
       p.pronamespace,
       CASE WHEN EXISTS (SELECT 1 FROM pg_depend u
                         WHERE u.refclassid = 'pg_proc'::regclass AND u.refobjid = p.oid
                           AND u.classid IN ('pg_attrdef'::regclass, 'pg_constraint'::regclass,
                                             'pg_class'::regclass)
                           AND u.deptype = 'n') THEN 1 ELSE 2 END,
       p.oid::bigint, pg_get_functiondef(p.oid),
       format('DROP %s %s%I(%s)', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
              s.prefix, p.proname, pg_get_function_identity_arguments(p.oid))
FROM pg_proc p JOIN named s ON s.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype IN ('i', 'a', 'e'))
UNION ALL
-- An aggregate after the functions it calls (creation order), before the views that use it,
-- option by option as CREATE AGGREGATE takes them (the server has no pg_get_aggregatedef).
SELECT 'aggregate', p.proname, p.pronamespace, 2, p.oid::bigint,
       format('CREATE AGGREGATE %s%I(%s) (', s.prefix, p.proname, pg_get_function_arguments(p.oid))
       || concat_ws(', ',
            'SFUNC = ' || a.aggtransfn::regproc::text,
            'STYPE = ' || format_type(a.aggtranstype, NULL),
            'SSPACE = ' || nullif(a.aggtransspace, 0),
            'FINALFUNC = ' || nullif(a.aggfinalfn::oid, 0)::regproc::text,
            CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
            'FINALFUNC_MODIFY = ' || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY'
                                     WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END,
            'COMBINEFUNC = ' || nullif(a.aggcombinefn::oid, 0)::regproc::text,
            'SERIALFUNC = ' || nullif(a.aggserialfn::oid, 0)::regproc::text,
            'DESERIALFUNC = ' || nullif(a.aggdeserialfn::oid, 0)::regproc::text,
            'INITCOND = ' || quote_literal(a.agginitval),
            'MSFUNC = ' || nullif(a.aggmtransfn::oid, 0)::regproc::text,
            'MINVFUNC = ' || nullif(a.aggminvtransfn::oid, 0)::regproc::text,
            'MSTYPE = ' || format_type(nullif(a.aggmtranstype::oid, 0), NULL),
            'MSSPACE = ' || nullif(a.aggmtransspace, 0),
            'MFINALFUNC = ' || nullif(a.aggmfinalfn::oid, 0)::regproc::text,
            CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
            CASE WHEN a.aggmtransfn::oid <> 0 THEN 'MFINALFUNC_MODIFY = '
                 || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY'
                    WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
            'MINITCOND = ' || quote_literal(a.aggminitval),
            'SORTOP = OPERATOR(' || nullif(a.aggsortop::oid, 0)::regoperator::regoper::text || ')',
            'PARALLEL = ' || CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED'
                                               ELSE 'UNSAFE' END,
            CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END)
       || ')',
       format('DROP AGGREGATE %s%I(%s)', s.prefix, p.proname,
              pg_get_function_identity_arguments(p.oid))
FROM pg_proc p JOIN named s ON s.oid = p.pronamespace JOIN pg_aggregate a ON a.aggfnoid = p.oid
WHERE p.prokind = 'a'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype IN ('i', 'a', 'e'))
UNION ALL
-- Extended statistics on a table's columns or expressions, as the server prints them.
SELECT 'statistics', o.stxname, o.stxnamespace, 2, o.oid::bigint,
       pg_get_statisticsobjdef(o.oid), format('DROP STATISTICS %s%I', s.prefix, o.stxname)
FROM pg_statistic_ext o JOIN named s ON s.oid = o.stxnamespace
WHERE STATTARGET(o) < 0
UNION ALL
SELECT 'exclusion constraint', con.conname || ' on ' || c.relname, c.relnamespace, 2,
       con.oid::bigint,
       format('ALTER TABLE %s%I ADD CONSTRAINT %I %s', s.prefix, c.relname, con.conname,
              pg_get_constraintdef(con.oid)),
       format('ALTER TABLE %s%I DROP CONSTRAINT %I', s.prefix, c.relname, con.conname)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
JOIN named s ON s.oid = c.relnamespace
WHERE con.contype = 'x'
UNION ALL
SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, c.relname,
       c.relnamespace, 3, c.oid::bigint,
       -- Its options (security_barrier, check_option, a materialized view's storage
       -- parameters) as reloptions keeps them: name=value, the value quoted back.
       format('CREATE %sVIEW %s%I%s AS %s%s', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED ' ELSE '' END,
              s.prefix, c.relname,
              (SELECT ' WITH (' || string_agg(format('%s = %L', split_part(o, '=', 1),
                                                     substr(o, strpos(o, '=') + 1)), ', ') || ')'
               FROM unnest(c.reloptions) o),
              rtrim(pg_get_viewdef(c.oid), '; '),
              CASE c.relkind WHEN 'm' THEN ' WITH NO DATA' ELSE '' END),
       format('DROP %sVIEW %s%I', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED ' ELSE '' END,
              s.prefix, c.relname)
FROM pg_class c JOIN named s ON s.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm')
  -- An option name is a plain word (the server checks it); anything else is named.
  AND NOT EXISTS (SELECT 1 FROM unnest(c.reloptions) o WHERE o !~ '^[a-z_][a-z0-9_]*=')
  AND {NOT_IN_EXTENSION.format(catalog="pg_class", oid="c.oid")}
UNION ALL
-- A partition after its parent (a table; a sub-partition after its partition: creation
-- order), as PARTITION OF gives it: the parent's columns, indexes, keys, defaults and
-- triggers, and its bounds.
SELECT 'partition', c.relname, c.relnamespace, 2, c.oid::bigint,
       format('CREATE TABLE %s%I PARTITION OF %s %s', s.prefix, c.relname,
              h.inhparent::regclass::text, pg_get_expr(c.relpartbound, c.oid))
       || CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END,
       format('DROP TABLE %s%I', s.prefix, c.relname)
FROM pg_class c JOIN named s ON s.oid = c.relnamespace JOIN pg_inherits h ON h.inhrelid = c.oid
WHERE c.relispartition AND c.relkind IN ('r', 'p')
UNION ALL
-- Rules and row level security with its policies, after the views (a rule may act on them).
SELECT 'rule', r.rulename || ' on ' || c.relname, c.relnamespace, 4, r.oid::bigint,
       rtrim(pg_get_ruledef(r.oid), '; '),
       format('DROP RULE %I ON %s%I', r.rulename, s.prefix, c.relname)
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN named s ON s.oid = c.relnamespace
WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'row level security', c.relname, c.relnamespace, 4, c.oid::bigint,
       format('ALTER TABLE %s%I ENABLE ROW LEVEL SECURITY%s', s.prefix, c.relname,
              CASE WHEN c.relforcerowsecurity THEN ', FORCE ROW LEVEL SECURITY' ELSE '' END),
       format('ALTER TABLE %s%I DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY',
              s.prefix, c.relname)
FROM pg_class c JOIN named s ON s.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity)
UNION ALL
SELECT 'policy', p.polname || ' on ' || c.relname, c.relnamespace, 4, p.oid::bigint,
       format('CREATE POLICY %I ON %s%I AS %s FOR %s TO %s', p.polname, s.prefix, c.relname,
              CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                            WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
              (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC'
                                      ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
               FROM unnest(p.polroles) AS r))
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''),
       format('DROP POLICY %I ON %s%I', p.polname, s.prefix, c.relname)
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN named s ON s.oid = c.relnamespace
UNION ALL
SELECT 'trigger', t.tgname || ' on ' || c.relname, c.relnamespace, 4, t.oid::bigint,
       pg_get_triggerdef(t.oid),
       format('DROP TRIGGER %I ON %s%I', t.tgname, s.prefix, c.relname)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN named s ON s.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND c.relname NOT LIKE '\\_covet\\_%'
UNION ALL
-- Settings of tables, columns, indexes and triggers that CREATE does not say, each as the
-- ALTER that sets it (after the triggers: a disabled trigger exists by then), undone by the
-- ALTER that puts the default back.
SELECT 'setting', x.what, x.nsp, 5, x.oid::bigint, x.set_sql, x.reset_sql
FROM (
    -- Columns of tables have theirs read with the columns (COLUMNS).
    SELECT f.what, c.relnamespace AS nsp, c.oid, f.set_sql, f.reset_sql
    FROM pg_class c JOIN named s ON s.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON t.oid = a.atttypid
    CROSS JOIN LATERAL ({_column_settings("s.prefix")}) f
    WHERE c.relkind = 'm' AND a.attnum > 0 AND NOT a.attisdropped AND {_MAY_HAVE_SETTINGS}
    UNION ALL
    SELECT 'storage parameters of index ' || i.relname, i.relnamespace, i.oid,
           format('ALTER INDEX %s%I SET (%s)', s.prefix, i.relname,
                  (SELECT string_agg(format('%s = %L', split_part(o, '=', 1),
                                            substr(o, strpos(o, '=') + 1)), ', ')
                   FROM unnest(i.reloptions) o)),
           format('ALTER INDEX %s%I RESET (%s)', s.prefix, i.relname,
                  (SELECT string_agg(split_part(o, '=', 1), ', ') FROM unnest(i.reloptions) o))
    FROM pg_class i JOIN named s ON s.oid = i.relnamespace
    WHERE i.relkind IN ('i', 'I') AND i.reloptions IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM unnest(i.reloptions) o WHERE o !~ '^[a-z_][a-z0-9_]*=')
    UNION ALL
    SELECT 'default of view column ' || c.relname || '.' || a.attname, c.relnamespace, c.oid,
           format('ALTER VIEW %s%I ALTER COLUMN %I SET DEFAULT %s', s.prefix, c.relname, a.attname,
                  pg_get_expr(d.adbin, d.adrelid)),
           format('ALTER VIEW %s%I ALTER COLUMN %I DROP DEFAULT', s.prefix, c.relname, a.attname)
    FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN named s ON s.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE c.relkind = 'v'
    UNION ALL
    SELECT 'clustering of ' || c.relname, c.relnamespace, c.oid,
           format('ALTER TABLE %s%I CLUSTER ON %I', s.prefix, c.relname, i.relname),
           format('ALTER TABLE %s%I SET WITHOUT CLUSTER', s.prefix, c.relname)
    FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
    JOIN named s ON s.oid = c.relnamespace
    WHERE x.indisclustered
    UNION ALL
    SELECT 'replica identity of ' || c.relname, c.relnamespace, c.oid,
           format('ALTER TABLE ONLY %s%I REPLICA IDENTITY %s', s.prefix, c.relname,
                  CASE c.relreplident WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING'
                       ELSE (SELECT format('USING INDEX %I', i.relname) FROM pg_index x
                             JOIN pg_class i ON i.oid = x.indexrelid
                             WHERE x.indrelid = c.oid AND x.indisreplident) END),
           format('ALTER TABLE ONLY %s%I REPLICA IDENTITY DEFAULT', s.prefix, c.relname)
    FROM pg_class c JOIN named s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relreplident <> 'd'
      AND (c.relreplident <> 'i' OR EXISTS (SELECT 1 FROM pg_index x
                                            WHERE x.indrelid = c.oid AND x.indisreplident))
    UNION ALL
    SELECT 'state of trigger ' || t.tgname || ' on ' || c.relname, c.relnamespace, t.oid,
           format('ALTER TABLE %s%I %s TRIGGER %I', s.prefix, c.relname,
                  CASE t.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
                       ELSE 'ENABLE ALWAYS' END, t.tgname),
           format('ALTER TABLE %s%I ENABLE TRIGGER %I', s.prefix, c.relname, t.tgname)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN named s ON s.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgenabled <> 'O'
) x
UNION ALL
-- Comments on everything but tables and columns (modelled), last, when what they describe
-- exists: each as COMMENT ON, undone with IS NULL. (An extension's members keep the
-- extension's own comments.)
SELECT 'comment', 'on ' || c.what, c.nsp, 5, c.oid::bigint,
       format('COMMENT ON %s IS %L', c.target, c.description),
       format('COMMENT ON %s IS NULL', c.target)
FROM (
    SELECT CASE r.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                          WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table'
                          WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' ELSE 'index' END
           || ' ' || r.relname AS what,
           r.relnamespace AS nsp, d.objoid AS oid, d.description,
           format('%s %s%I', CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                            WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                                            WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'TABLE'
                                            ELSE 'INDEX' END, s.prefix, r.relname) AS target
    FROM described d JOIN pg_class r ON r.oid = d.objoid JOIN named s ON s.oid = r.relnamespace
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0
      -- A table's own comment is modelled, a partition's is not (it is carried).
      AND (r.relkind IN ('i', 'I', 'v', 'm', 'S', 'f') OR r.relispartition)
      AND {NOT_IN_EXTENSION.format(catalog="pg_class", oid="r.oid")}
    UNION ALL
    SELECT 'column ' || r.relname || '.' || a.attname, r.relnamespace, d.objoid, d.description,
           format('COLUMN %s%I.%I', s.prefix, r.relname, a.attname)
    FROM described d JOIN pg_class r ON r.oid = d.objoid JOIN named s ON s.oid = r.relnamespace
    JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = d.objsubid
    WHERE d.classoid = 'pg_class'::regclass AND d.objsubid > 0
      AND (r.relkind IN ('v', 'm', 'f') OR r.relispartition)
    UNION ALL
    SELECT 'constraint ' || k.conname || ' on ' || coalesce(r.relname, t.typname),
           k.connamespace, d.objoid, d.description,
           CASE WHEN k.conrelid <> 0 THEN format('CONSTRAINT %I ON %s%I', k.conname, s.prefix, r.relname)
                ELSE format('CONSTRAINT %I ON DOMAIN %s%I', k.conname, s.prefix, t.typname) END
    FROM described d JOIN pg_constraint k ON k.oid = d.objoid
    JOIN named s ON s.oid = k.connamespace
    LEFT JOIN pg_class r ON r.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
    WHERE d.classoid = 'pg_constraint'::regclass
    UNION ALL
    SELECT lower(x.kind) || ' ' || p.proname, p.pronamespace, d.objoid, d.description,
           format('%s %s%I(%s)', x.kind, s.prefix, p.proname,
                  pg_get_function_identity_arguments(p.oid))
    FROM described d JOIN pg_proc p ON p.oid = d.objoid JOIN named s ON s.oid = p.pronamespace
    CROSS JOIN LATERAL (SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                                              ELSE 'FUNCTION' END AS kind) x
    WHERE d.classoid = 'pg_proc'::regclass
      AND {NOT_IN_EXTENSION.format(catalog="pg_proc", oid="p.oid")}
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || t.typname, t.typnamespace,
           d.objoid, d.description,
           format('%s %s%I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, s.prefix, t.typname)
    FROM described d JOIN pg_type t ON t.oid = d.objoid JOIN named s ON s.oid = t.typnamespace
    WHERE d.classoid = 'pg_type'::regclass
      AND {NOT_IN_EXTENSION.format(catalog="pg_type", oid="t.oid")}
    UNION ALL
    SELECT 'schema ' || n.nspname, NULL, d.objoid, d.description, format('SCHEMA %I', n.nspname)
    FROM described d JOIN named n ON n.oid = d.objoid
    WHERE d.classoid = 'pg_namespace'::regclass
    UNION ALL
    SELECT 'trigger ' || g.tgname || ' on ' || r.relname, r.relnamespace, d.objoid, d.description,
           format('TRIGGER %I ON %s%I', g.tgname, s.prefix, r.relname)
    FROM described d JOIN pg_trigger g ON g.oid = d.objoid JOIN pg_class r ON r.oid = g.tgrelid
    JOIN named s ON s.oid = r.relnamespace
    WHERE d.classoid = 'pg_trigger'::regclass
    UNION ALL
    SELECT 'policy ' || o.polname || ' on ' || r.relname, r.relnamespace, d.objoid, d.description,
           format('POLICY %I ON %s%I', o.polname, s.prefix, r.relname)
    FROM described d JOIN pg_policy o ON o.oid = d.objoid JOIN pg_class r ON r.oid = o.polrelid
    JOIN named s ON s.oid = r.relnamespace
    WHERE d.classoid = 'pg_policy'::regclass
    UNION ALL
    SELECT 'rule ' || w.rulename || ' on ' || r.relname, r.relnamespace, d.objoid, d.description,
           format('RULE %I ON %s%I', w.rulename, s.prefix, r.relname)
    FROM described d JOIN pg_rewrite w ON w.oid = d.objoid JOIN pg_class r ON r.oid = w.ev_class
    JOIN named s ON s.oid = r.relnamespace
    WHERE d.classoid = 'pg_rewrite'::regclass AND w.rulename <> '_RETURN'
    UNION ALL
    SELECT 'collation ' || o.collname, o.collnamespace, d.objoid, d.description,
           format('COLLATION %s%I', s.prefix, o.collname)
    FROM described d JOIN pg_collation o ON o.oid = d.objoid
    JOIN named s ON s.oid = o.collnamespace
    WHERE d.classoid = 'pg_collation'::regclass
    UNION ALL
    SELECT 'statistics ' || o.stxname, o.stxnamespace, d.objoid, d.description,
           format('STATISTICS %s%I', s.prefix, o.stxname)
    FROM described d JOIN pg_statistic_ext o ON o.oid = d.objoid
    JOIN named s ON s.oid = o.stxnamespace
    WHERE d.classoid = 'pg_statistic_ext'::regclass
) c
ORDER BY 4, 5
"""


# Catalog columns that exist from some server version on, written in the queries as
# MACRO(alias): each macro's spellings, newest first, the first whose version the server has.
_SPELLINGS: dict[str, tuple[tuple[int, str], ...]] = {
    # pg_index.indnullsnotdistinct (15)
    "NND": ((150000, r"\1.indnullsnotdistinct"), (0, "false")),
    # pg_range.rngmultitypid (14)
    "MULTIRANGE": ((140000, r"\1.rngmultitypid"), (0, "0::oid")),
    # A statistics object's target (13): -1 (the default) until 17, where NULL is the default.
    "STATTARGET": ((130000, r"coalesce(\1.stxstattarget, -1)"), (0, "-1")),
    # An ICU collation's locale: in collcollate before 15, colliculocale in 15-16, then
    # colllocale; its custom rules (16 on) are not carried (such a collation stays named).
    "ICULOCALE": (
        (170000, r"\1.colllocale"),
        (150000, r"\1.colliculocale"),
        (0, r"\1.collcollate"),
    ),
    "ICURULES": ((160000, r"\1.collicurules"), (0, "NULL")),
    # ON DELETE SET NULL / SET DEFAULT (columns) of a foreign key (15).
    "DELSETCOLS": ((150000, r"\1.confdelsetcols IS NOT NULL"), (0, "false")),
    # A column's compression method (14); before, every column has the default.
    "COMPRESSION": ((140000, r"\1.attcompression"), (0, "''")),
}


@functools.lru_cache(maxsize=64)
def for_server(query: str, version: int) -> str:
    """``query`` with its version macros (``_SPELLINGS``) spelt for a server of
    ``server_version_num`` ``version``, and ``STORAGE(letter)`` spelt out; computed once per
    query and version."""
    for macro, spellings in _SPELLINGS.items():
        spelt = next(text for since, text in spellings if version >= since)
        query = re.sub(rf"{macro}\((\w+)\)", spelt, query)
    return re.sub(r"STORAGE\(([\w.]+)\)", _STORAGE, query)


# A storage letter (pg_attribute.attstorage, pg_type.typstorage) as ALTER COLUMN spells it.
_STORAGE = (
    r"CASE \1 WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' WHEN 'm' THEN 'MAIN' "
    r"ELSE 'EXTENDED' END"
)
