"""Kitchen-sink schemas, one per dialect: much of what covet models or carries, in one
database, copied through a generated migration from an empty one and judged by the database's
own tools (pg_dump -s, SHOW CREATE, sqlite_master and pragmas) through up, down and up; the
comparison of the copy with the original is then empty (issue 14)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import Target, database_target
from schema_oracle import copying, oracle_of, up_down_up

from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.reader import SchemaReader

SINK = [
    "CREATE SCHEMA app",
    "CREATE EXTENSION pg_trgm WITH SCHEMA app",
    "CREATE EXTENSION btree_gist WITH SCHEMA public",
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE DOMAIN positive AS numeric(10, 2) CHECK (VALUE > 0)",
    "CREATE SEQUENCE ticket_seq START WITH 100 INCREMENT BY 10",
    "CREATE TYPE pair AS (a integer, b text)",
    "CREATE TEXT SEARCH DICTIONARY english_short (TEMPLATE = simple, STOPWORDS = english, "
    "ACCEPT = false)",
    "CREATE TEXT SEARCH CONFIGURATION app.notes_cfg (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION app.notes_cfg ALTER MAPPING FOR asciiword "
    "WITH english_short, english_stem",
    "CREATE TABLE searched (id integer PRIMARY KEY, body text, "
    "tsv tsvector GENERATED ALWAYS AS (to_tsvector('app.notes_cfg', body)) STORED)",
    "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
    'CREATE COLLATION app.c_copy FROM "C"',
    "CREATE DOMAIN nick AS text COLLATE ci",
    "CREATE TABLE handle (id integer PRIMARY KEY, name text COLLATE ci UNIQUE, "
    "code text COLLATE app.c_copy, alias nick)",
    "CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi)",
    'CREATE TYPE app.textrange AS RANGE (subtype = text, collation = "C", '
    "multirange_type_name = app.texts)",
    "CREATE TABLE measured (id integer PRIMARY KEY, span floatrange, names app.textrange)",
    "CREATE FUNCTION next_code() RETURNS text LANGUAGE plpgsql AS "
    "$$BEGIN RETURN 'c' || nextval('ticket_seq'); END$$",
    "CREATE TABLE person (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "name text COLLATE \"C\" NOT NULL, feeling mood DEFAULT 'ok', "
    "code text DEFAULT next_code(), price positive, extra pair, "
    "name_len integer GENERATED ALWAYS AS (length(name)) STORED, "
    "created date DEFAULT CURRENT_DATE)",
    "CREATE UNIQUE INDEX person_code ON person (code) NULLS NOT DISTINCT",
    "CREATE TABLE booking (id serial PRIMARY KEY, person_id bigint REFERENCES person "
    "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, room integer, during tsrange, "
    "note text, CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&))",
    "CREATE INDEX booking_note_trgm ON booking USING gin (note app.gin_trgm_ops)",
    "CREATE INDEX booking_room ON booking (room DESC NULLS LAST) INCLUDE (note) WHERE room > 0",
    "CREATE TABLE reading (id bigint NOT NULL, at date NOT NULL, value numeric, "
    "PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
    "CREATE TABLE reading_2025 PARTITION OF reading "
    "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "CREATE TABLE reading_rest PARTITION OF reading DEFAULT",
    "CREATE TABLE app.audit (id integer PRIMARY KEY, what text)",
    "CREATE UNLOGGED TABLE scratch (id integer) WITH (fillfactor = 70, autovacuum_enabled = off)",
    "CREATE TABLE app.audit_detail (detail text) INHERITS (app.audit)",
    "CREATE FUNCTION len_acc(state integer[], x text) RETURNS integer[] LANGUAGE sql "
    "AS 'SELECT ARRAY[state[1] + length(x), state[2] + 1]'",
    "CREATE FUNCTION len_avg(state integer[]) RETURNS numeric LANGUAGE sql "
    "AS 'SELECT state[1]::numeric / nullif(state[2], 0)'",
    "CREATE AGGREGATE avg_len(text) (SFUNC = len_acc, STYPE = integer[], FINALFUNC = len_avg, "
    "INITCOND = '{0,0}', PARALLEL = SAFE)",
    "CREATE AGGREGATE app.top(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >, "
    "COMBINEFUNC = int4larger, MSFUNC = int4larger, MINVFUNC = int4mi, MSTYPE = integer)",
    "CREATE VIEW note_lengths AS SELECT avg_len(note) AS avg, app.top(room) FROM booking",
    "CREATE VIEW busy AS SELECT room, count(*) AS n FROM booking GROUP BY room",
    "CREATE VIEW open_booking WITH (security_barrier) AS SELECT * FROM booking WHERE room > 0 "
    "WITH LOCAL CHECK OPTION",
    "CREATE STATISTICS person_stats (ndistinct, dependencies) ON name, feeling FROM person",
    "CREATE VIEW busiest AS SELECT room FROM busy WHERE n > 1",
    "CREATE MATERIALIZED VIEW people_count AS SELECT count(*) AS n FROM person",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END$$",
    "CREATE TRIGGER booking_touch BEFORE INSERT ON booking FOR EACH ROW EXECUTE FUNCTION touch()",
    "ALTER TABLE person ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY own ON person USING (name = current_user)",
    "CREATE RULE no_delete AS ON DELETE TO app.audit DO INSTEAD NOTHING",
    "COMMENT ON TABLE person IS 'people'",
    "COMMENT ON COLUMN person.name IS 'the name'",
    # Constraints added NOT VALID, and settings CREATE does not say: carried as the ALTERs.
    "CREATE TABLE tuned_t (id integer PRIMARY KEY, n integer, body text, person_id bigint)",
    "ALTER TABLE tuned_t ADD CONSTRAINT n_pos CHECK (n > 0) NOT VALID",
    "ALTER TABLE tuned_t ADD CONSTRAINT body_short CHECK (length(body) < 1000) NO INHERIT",
    "ALTER TABLE tuned_t ADD CONSTRAINT id_pos CHECK (id > 0) NO INHERIT NOT VALID",
    "ALTER TABLE tuned_t ADD CONSTRAINT tuned_person FOREIGN KEY (person_id) REFERENCES person "
    "NOT VALID",
    "CREATE INDEX tuned_n ON tuned_t (n) WITH (fillfactor = 60)",
    "ALTER TABLE tuned_t ALTER COLUMN n SET (n_distinct = 100)",
    "CREATE TABLE swap (id integer, pos integer, CONSTRAINT swap_pk PRIMARY KEY (id) "
    "DEFERRABLE INITIALLY DEFERRED, CONSTRAINT swap_pos UNIQUE (pos) DEFERRABLE, "
    "CONSTRAINT swap_excl EXCLUDE USING btree (pos WITH =) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TABLE keyed_extra (a integer, b integer, c integer, "
    "CONSTRAINT keyed_ab UNIQUE NULLS NOT DISTINCT (a, b) INCLUDE (c))",
    "CREATE TABLE arrays (id integer PRIMARY KEY, amounts numeric(10,2)[], "
    "seen timestamp(3) with time zone[], tags text[] DEFAULT '{}')",
    "ALTER TABLE tuned_t ALTER COLUMN n SET STATISTICS 500",
    "ALTER TABLE tuned_t ALTER COLUMN body SET STORAGE EXTERNAL",
    "ALTER TABLE tuned_t ALTER COLUMN body SET COMPRESSION pglz",
    "ALTER TABLE tuned_t CLUSTER ON tuned_n",
    "ALTER TABLE tuned_t REPLICA IDENTITY FULL",
    "CREATE UNIQUE INDEX booking_id_key ON booking (id)",
    "ALTER TABLE booking REPLICA IDENTITY USING INDEX booking_id_key",
    "ALTER TABLE booking DISABLE TRIGGER booking_touch",
    "ALTER VIEW busy ALTER COLUMN n SET DEFAULT 0",
    # A sequence a nullable column owns: not what SERIAL makes; created alone, then OWNED BY.
    "CREATE SEQUENCE loose_seq",
    "CREATE TABLE loose (id bigint DEFAULT nextval('loose_seq'))",
    "ALTER SEQUENCE loose_seq OWNED BY loose.id",
    # A column owning two sequences, and one owning a sequence without using it: each
    # sequence is created alone and its OWNED BY set after the tables.
    "CREATE SEQUENCE loose_spare_seq OWNED BY loose.id",
    "CREATE TABLE owner_only (n integer)",
    "CREATE SEQUENCE owner_only_seq OWNED BY owner_only.n",
    # Its own sequence's nextval() and more: not SERIAL's default, kept as written.
    "CREATE TABLE bumped (id integer NOT NULL)",
    "CREATE SEQUENCE bumped_id_seq AS integer OWNED BY bumped.id",
    "ALTER TABLE bumped ALTER id SET DEFAULT nextval('bumped_id_seq') * 2",
    # Comments on what is not a modelled table or column: carried, each after its object.
    "COMMENT ON INDEX booking_room IS 'busy rooms'",
    "COMMENT ON CONSTRAINT no_overlap ON booking IS 'one booking a room at a time'",
    "COMMENT ON CONSTRAINT positive_check ON DOMAIN positive IS 'money is positive'",
    "COMMENT ON VIEW busy IS 'it''s busy'",
    "COMMENT ON COLUMN people_count.n IS 'how many'",
    "COMMENT ON FUNCTION next_code() IS 'codes'",
    "COMMENT ON AGGREGATE avg_len(text) IS 'mean length'",
    "COMMENT ON SEQUENCE ticket_seq IS 'tickets'",
    "COMMENT ON TYPE mood IS 'feelings'",
    "COMMENT ON DOMAIN positive IS 'positive amounts'",
    "COMMENT ON SCHEMA app IS 'the app'",
    "COMMENT ON TRIGGER booking_touch ON booking IS 'touches'",
    "COMMENT ON POLICY own ON person IS 'own rows'",
    "COMMENT ON RULE no_delete ON app.audit IS 'keep audits'",
    "COMMENT ON TABLE reading_2025 IS 'a partition'",
    "COMMENT ON COLLATION ci IS 'case-insensitive'",
]


MYSQL_SINK = [
    "CREATE SEQUENCE tickets",
    "CREATE TABLE person (id INT AUTO_INCREMENT PRIMARY KEY, "
    "name VARCHAR(40) COLLATE utf8mb4_bin NOT NULL COMMENT 'the name', "
    "rating ENUM('G', 'PG', 'NC-17') DEFAULT 'PG', tags SET('Red', 'blue'), "
    "ticket BIGINT DEFAULT NEXTVAL(tickets), "
    "updated TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, "
    "name_len INT AS (CHAR_LENGTH(name)) STORED, initial CHAR(1) AS (LEFT(name, 1)) VIRTUAL, "
    "bio TEXT, CONSTRAINT name_not_blank CHECK (name <> ''), "
    "FULLTEXT KEY person_bio (bio), KEY person_name_prefix (name(8)), "
    "KEY person_updated_desc (updated DESC)) COMMENT 'people'",
    "CREATE TABLE booking (id INT PRIMARY KEY, person_id INT, "
    "CONSTRAINT booking_person FOREIGN KEY (person_id) REFERENCES person (id) "
    "ON DELETE CASCADE) DEFAULT COLLATE utf8mb4_unicode_ci",
    "CREATE TABLE reading (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at)) "
    "PARTITION BY RANGE (YEAR(at)) (PARTITION p2025 VALUES LESS THAN (2026), "
    "PARTITION pmax VALUES LESS THAN MAXVALUE)",
    "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
    "CREATE PROCEDURE tidy() BEGIN DELETE FROM booking WHERE person_id IS NULL; END",
    "CREATE VIEW busy AS SELECT person_id, twice(count(*)) AS n FROM booking GROUP BY person_id",
    "CREATE VIEW busiest AS SELECT person_id FROM busy WHERE n > 2",
    "CREATE TRIGGER person_trim BEFORE INSERT ON person FOR EACH ROW SET NEW.name = TRIM(NEW.name)",
    "CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE "
    "DO CALL tidy()",
    "CREATE TABLE compact (id INT PRIMARY KEY) ROW_FORMAT=COMPACT STATS_PERSISTENT=0 "
    "MAX_ROWS=100 CHECKSUM=1 COMMENT='small rows'",
    "CREATE TABLE heap (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=MEMORY",
    "CREATE TABLE aria_log (id INT PRIMARY KEY) ENGINE=Aria",
    "CREATE TABLE noted (id INT PRIMARY KEY, a INT, b INT, INDEX noted_a (a) COMMENT 'by a', "
    "UNIQUE KEY noted_b (b) COMMENT 'it''s b')",
    "CREATE INDEX noted_ab ON noted (a, b) COMMENT 'pairs'",
    # MariaDB's column-level CHECK (named after its column) and a bit-literal default.
    "CREATE TABLE flags (id INT PRIMARY KEY, b BIT(3) DEFAULT b'101', n INT CHECK (n < 5), "
    "y YEAR, u CHAR(36) DEFAULT (uuid()))",
]

SQLITE_SINK = [
    "CREATE TABLE person (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT COLLATE NOCASE "
    "NOT NULL CHECK (name <> ''), born DATETIME, score INT DEFAULT 0, "
    "twice INTEGER GENERATED ALWAYS AS (score * 2) VIRTUAL)",
    "CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL) STRICT",
    "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID",
    "CREATE TABLE booking (id INTEGER PRIMARY KEY, person_id INTEGER "
    "REFERENCES person (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, note VARCHAR(20))",
    "CREATE INDEX person_name ON person (name COLLATE BINARY DESC, born)",
    "CREATE INDEX booking_open ON booking (person_id) WHERE note IS NULL",
    # Written defaults the pragmas cannot tell from bare columns: read from the text.
    "CREATE INDEX booking_note_asc ON booking (note ASC, person_id)",
    "CREATE UNIQUE INDEX person_born ON person (born COLLATE BINARY)",
    "CREATE INDEX person_score ON person (score, born)",
    "CREATE VIEW busy AS SELECT person_id, count(*) AS n FROM booking GROUP BY person_id",
    "CREATE VIRTUAL TABLE person_fts USING fts5(name, content='person', content_rowid='id')",
    "CREATE TRIGGER person_fts_add AFTER INSERT ON person BEGIN "
    "INSERT INTO person_fts (rowid, name) VALUES (new.id, new.name); END",
    "CREATE VIRTUAL TABLE zones USING rtree(id, min_x, max_x)",
    "CREATE TRIGGER person_clean AFTER INSERT ON person BEGIN "
    "UPDATE person SET name = trim(name) WHERE id = NEW.id; END",
]


SINKS = {"postgresql": (SINK, ["public", "app"]), "mysql": (MYSQL_SINK, None),
         "sqlite": (SQLITE_SINK, None)}  # fmt: skip


@pytest.mark.parametrize("name", ["postgresql", "mysql", "sqlite"])
def test_a_kitchen_sink_schema_copies_exactly(name: str, tmp_path: Path) -> None:
    statements, schemas = SINKS[name]

    async def go(source: Target, other: Target) -> None:
        async with copying(source, statements, other, schemas=schemas) as made:
            copy, original, diff = made.copy, made.original, made.diff
            assert diff.unmanaged == [], diff.unmanaged
            expected = await oracle_of(source, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)
            reproduced = await SchemaReader(copy, other.dialect, schemas=schemas).read_schema()
            again = SchemaComparator(source.dialect).compare(reproduced, original)
            assert again.operations == [] and again.warnings == []

    with (
        database_target(name, tmp_path / "a") as source,
        database_target(name, tmp_path / "b") as other,
    ):
        asyncio.run(go(source, other))
