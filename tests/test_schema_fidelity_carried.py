"""PostgreSQL: a generated migration creates the objects its tables use (issue 14).

A copy of a database whose tables use a sequence (``nextval('t_seq')``), a domain, an
extension's operator class or live in another schema failed to apply: those objects were
never created. The reader now carries them with the server's own spelling and the
comparator creates them first; judged with ``pg_dump -s`` through up, down and up.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import Target, database_target
from schema_oracle import copying, differing, oracle_of, up_down_up

from covet_core.schema import CreateObject, CreateTable, DropObject, ReplaceObject
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.reader import SchemaReader

SOURCE = [
    "CREATE SCHEMA app",
    "CREATE EXTENSION pg_trgm WITH SCHEMA app",
    "CREATE SEQUENCE app.ticket_seq AS integer INCREMENT BY 5 MINVALUE 10 START WITH 20 CYCLE",
    "CREATE DOMAIN app.positive AS numeric(10, 2) DEFAULT 1 NOT NULL "
    "CONSTRAINT positive_check CHECK (VALUE > 0)",
    "CREATE DOMAIN app.code AS text COLLATE \"C\" CHECK (VALUE ~ '^[A-Z]+$')",
    "CREATE TABLE app.tickets (id integer PRIMARY KEY DEFAULT nextval('app.ticket_seq'), "
    "price app.positive, code app.code, title text)",
    "CREATE INDEX tickets_title ON app.tickets USING gin (title app.gin_trgm_ops)",
]


def test_postgresql_copy_creates_what_its_tables_use(pg: Target, tmp_path: Path) -> None:
    async def go(other: Target) -> None:
        async with copying(pg, SOURCE, other, schemas=["app"]) as made:
            copy, original, diff = made.copy, made.original, made.diff
            assert diff.unmanaged == []  # nothing is refused: everything is created
            created = [str(op.obj) for op in diff.operations if isinstance(op, CreateObject)]
            assert created == [
                "schema app", "extension app.pg_trgm", "sequence app.ticket_seq",
                "domain app.positive", "domain app.code",
            ]  # fmt: skip
            first_table = next(
                i for i, op in enumerate(diff.operations) if isinstance(op, CreateTable)
            )
            assert all(isinstance(op, CreateObject) for op in diff.operations[:first_table])
            expected = await oracle_of(pg, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)
            reproduced = await SchemaReader(copy, other.dialect, schemas=["app"]).read_schema()
            again = SchemaComparator(pg.dialect).compare(reproduced, original)
            assert again.operations == [] and again.warnings == []

    with database_target("postgresql", tmp_path / "copy") as other:
        asyncio.run(go(other))


OBJECTS = [
    "CREATE TABLE booking (id integer PRIMARY KEY, room integer, during tsrange, "
    "CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&))",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN NEW.room := coalesce(NEW.room, 0); RETURN NEW; END$$",
    "CREATE TRIGGER booking_touch BEFORE INSERT ON booking FOR EACH ROW EXECUTE FUNCTION touch()",
    "CREATE FUNCTION rooms() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM booking'",
    "CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1'",
    "CREATE VIEW busy AS SELECT room, count(*) AS n FROM booking GROUP BY room",
    "CREATE VIEW busiest AS SELECT room FROM busy WHERE n > 1",
    "CREATE MATERIALIZED VIEW snapshot AS SELECT * FROM busiest",
]


def test_postgresql_copy_carries_functions_views_and_triggers(pg: Target, tmp_path: Path) -> None:
    """Views (one on another), a materialized view, functions, a procedure, a trigger and an
    exclusion constraint: created after the tables in an order that works, dropped in the
    reverse one, and identical under pg_dump -s. They were only named before."""

    async def go(other: Target) -> None:
        async with copying(pg, OBJECTS, other) as made:
            copy, original, diff = made.copy, made.original, made.diff
            assert diff.unmanaged == []
            expected = await oracle_of(pg, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)
            reproduced = await SchemaReader(copy, other.dialect).read_schema()
            again = SchemaComparator(pg.dialect).compare(reproduced, original)
            assert again.operations == [] and again.warnings == []

    with database_target("postgresql", tmp_path / "copy") as other:
        asyncio.run(go(other))


USED_BY_TABLES = [
    "CREATE FUNCTION next_code() RETURNS text LANGUAGE plpgsql AS $$BEGIN RETURN 'c' || "
    "floor(random() * 1000)::int; END$$",
    "CREATE FUNCTION is_upper(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS "
    "'SELECT t = upper(t)'",
    "CREATE FUNCTION folded(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(t)'",
    "CREATE TABLE coded (id integer PRIMARY KEY, code text DEFAULT next_code(), "
    "tag text CHECK (is_upper(tag)), folded_tag text GENERATED ALWAYS AS (folded(tag)) STORED)",
    "CREATE INDEX coded_folded ON coded (folded(code))",
    "CREATE FUNCTION coded_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM coded'",
]


def test_postgresql_copy_creates_functions_before_the_tables_that_call_them(
    pg: Target, tmp_path: Path
) -> None:
    """A column default, a check, a generated column and an index expression that call
    functions: those functions are created before the tables (the copy failed to apply,
    creating every function after the tables); a function that reads a table still comes
    after it."""

    async def go(other: Target) -> None:
        async with copying(pg, USED_BY_TABLES, other) as made:
            copy, diff = made.copy, made.diff
            names = [
                str(op.obj) if isinstance(op, CreateObject) else "tables"
                for op in diff.operations
                if isinstance(op, CreateObject | CreateTable)
            ]
            first_table = names.index("tables")
            assert set(names[:first_table]) == {
                "function next_code", "function is_upper", "function folded"
            }  # fmt: skip
            assert names.index("function coded_count") > first_table
            expected = await oracle_of(pg, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)

    with database_target("postgresql", tmp_path / "copy") as other:
        asyncio.run(go(other))


SQLITE_OBJECTS = [
    "CREATE TABLE booking (id INTEGER PRIMARY KEY, room INT, note TEXT)",
    "CREATE TABLE audit (booking_id INT, at TEXT DEFAULT CURRENT_TIMESTAMP)",
    "CREATE VIEW busy AS SELECT room, count(*) AS n FROM booking GROUP BY room",
    "CREATE VIEW IF NOT EXISTS busiest AS SELECT room FROM busy WHERE n > 1",
    "CREATE TRIGGER booking_audit AFTER INSERT ON booking BEGIN "
    "INSERT INTO audit (booking_id) VALUES (NEW.id); END",
]


def test_sqlite_copy_carries_views_and_triggers(tmp_path: Path) -> None:
    """Views (one on another) and a trigger, as ``sqlite_master`` holds them: created after the
    tables, dropped before them, and identical in ``sqlite_master``. They were only named."""

    async def go(source: Target, other: Target) -> None:
        async with copying(source, SQLITE_OBJECTS, other) as made:
            copy, diff = made.copy, made.diff
            assert diff.unmanaged == []
            created = [str(op.obj) for op in diff.operations if isinstance(op, CreateObject)]
            # SQLite resolves a view's tables when it is used, so views may come in any order.
            assert sorted(created[:2]) == ["view busiest", "view busy"]
            assert created[2:] == ["trigger booking_audit"]
            expected = await oracle_of(source, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)
            await copy.execute("INSERT INTO booking (id, room) VALUES (1, 2)")
            assert await copy.fetch_value("SELECT count(*) FROM audit") == 1  # the trigger works

    with (
        database_target("sqlite", tmp_path / "a") as source,
        database_target("sqlite", tmp_path / "b") as other,
    ):
        asyncio.run(go(source, other))


MYSQL_OBJECTS = [
    "CREATE SEQUENCE tickets",
    "CREATE TABLE booking (id INT PRIMARY KEY, room INT, ticket BIGINT DEFAULT NEXTVAL(tickets), "
    "note VARCHAR(40))",
    "CREATE TABLE audit (booking_id INT, at DATETIME DEFAULT CURRENT_TIMESTAMP)",
    "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
    "CREATE PROCEDURE tidy() BEGIN DELETE FROM audit WHERE booking_id IS NULL; "
    "UPDATE booking SET note = TRIM(note); END",
    "CREATE VIEW busy AS SELECT room, twice(count(*)) AS n FROM booking GROUP BY room",
    "CREATE VIEW busiest AS SELECT room FROM busy WHERE n > 2",
    "CREATE TRIGGER booking_audit AFTER INSERT ON booking FOR EACH ROW "
    "INSERT INTO audit (booking_id) VALUES (NEW.id)",
    "CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' "
    "DISABLE DO CALL tidy()",
]


def test_mysql_copy_carries_views_triggers_routines_events_and_sequences(
    mysql: Target, tmp_path: Path
) -> None:
    """Each as ``SHOW CREATE`` prints it (without its definer), in an order that works: the
    sequence a default calls before the tables, a view after the view it selects from. Equal
    under ``SHOW CREATE`` of every object through up, down and up. They were only named."""

    async def go(other: Target) -> None:
        async with copying(mysql, MYSQL_OBJECTS, other) as made:
            copy, diff = made.copy, made.diff
            assert diff.unmanaged == []
            names = [
                str(op.obj) if isinstance(op, CreateObject) else "tables"
                for op in diff.operations
                if isinstance(op, CreateObject | CreateTable)
            ]
            assert names.index("sequence tickets") < names.index("tables")
            assert names.index("view busy") < names.index("view busiest")
            expected = await oracle_of(mysql, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)
            await copy.execute("INSERT INTO booking (id, room) VALUES (1, 2)")
            assert await copy.fetch_value("SELECT count(*) FROM audit") == 1  # the trigger works

    with database_target("mysql", tmp_path / "copy") as other:
        asyncio.run(go(other))


CHANGED = {
    "postgresql": (
        [
            "CREATE TABLE t (id integer PRIMARY KEY, n integer)",
            "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
            "CREATE VIEW v AS SELECT id FROM t",
            "CREATE VIEW w AS SELECT id FROM v",  # depends on v: v is replaced in place
            "CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
            "CREATE TRIGGER tt BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg()",
        ],
        {
            "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1'": (
                "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 2'"
            ),
            "CREATE VIEW v AS SELECT id FROM t": "CREATE VIEW v AS SELECT id, n FROM t",
            "CREATE TRIGGER tt BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg()": (
                "CREATE TRIGGER tt BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trg()"
            ),
        },
    ),
    "mysql": (
        [
            "CREATE TABLE t (id INT PRIMARY KEY, n INT)",
            "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1",
            "CREATE VIEW v AS SELECT id FROM t",
            "CREATE VIEW w AS SELECT id FROM v",
            "CREATE TRIGGER tt BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 1",
        ],
        {
            "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 1": (
                "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 2"
            ),
            "CREATE VIEW v AS SELECT id FROM t": "CREATE VIEW v AS SELECT id, n FROM t",
            "CREATE TRIGGER tt BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 1": (
                "CREATE TRIGGER tt BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 2"
            ),
        },
    ),
    "sqlite": (
        [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT)",
            "CREATE VIEW v AS SELECT id FROM t",
            "CREATE VIEW w AS SELECT id FROM v",
            "CREATE TRIGGER tt AFTER INSERT ON t BEGIN SELECT 1; END",
        ],
        {
            "CREATE VIEW v AS SELECT id FROM t": "CREATE VIEW v AS SELECT id, n FROM t",
            "CREATE TRIGGER tt AFTER INSERT ON t BEGIN SELECT 1; END": (
                "CREATE TRIGGER tt AFTER INSERT ON t BEGIN SELECT 2; END"
            ),
        },
    ),
}


def test_a_changed_view_function_or_trigger_is_replaced_and_put_back(
    target: Target, tmp_path: Path
) -> None:
    """A database whose view, function and trigger differ from the target's: each is
    replaced (in place on PostgreSQL, where a view another view uses cannot be dropped), the
    migration's down puts the old definitions back, judged by the databases' own tools. It
    was a warning, and nothing was generated."""
    before, changes = CHANGED[target.name]
    after = [changes.get(statement, statement) for statement in before]

    async def go(other: Target) -> None:
        async with differing(target, before, other, after) as made:
            diff, a = made.diff, made.old
            touched = [op.describe() for op in diff.operations]
            assert diff.warnings == [] and touched, touched
            assert all(
                isinstance(op, ReplaceObject | CreateObject | DropObject) for op in diff.operations
            )
            # v changed, and w (which selects from it) is dropped first and made again after.
            assert touched.index("drop view w") < touched.index("drop view v")
            assert touched.index("create view v") < touched.index("create view w")
            original, expected = await oracle_of(target, a), await oracle_of(other, made.new)
            assert original != expected
            await up_down_up(diff, target, a, tmp_path / "m", expected, before=original)

    with database_target(target.name, tmp_path / "b") as other:
        asyncio.run(go(other))


SECURED = [
    'CREATE TYPE money_pair AS (amount numeric(12, 2), currency text COLLATE "C")',
    "CREATE TABLE account (id integer PRIMARY KEY, owner text NOT NULL, balance money_pair)",
    "CREATE TABLE account_log (id integer, note text)",
    "ALTER TABLE account ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY",
    "CREATE POLICY own_rows ON account USING (owner = current_user)",
    "CREATE POLICY no_big ON account AS RESTRICTIVE FOR INSERT TO PUBLIC "
    "WITH CHECK ((balance).amount < 1000)",
    "CREATE RULE keep_log AS ON DELETE TO account_log DO INSTEAD NOTHING",
]


def test_postgresql_copy_carries_row_level_security_policies_rules_and_composite_types(
    pg: Target, tmp_path: Path
) -> None:
    """Row level security (enabled and forced), a permissive and a restrictive policy, a rule
    and a composite type a column uses: created in an order that works and identical under
    pg_dump -s through up, down and up. They were only named."""

    async def go(other: Target) -> None:
        async with copying(pg, SECURED, other) as made:
            copy, diff = made.copy, made.diff
            assert diff.unmanaged == []
            created = [str(op.obj) for op in diff.operations if isinstance(op, CreateObject)]
            assert created[0] == "composite type money_pair"
            assert set(created[1:]) == {
                "row level security account", "policy own_rows on account",
                "policy no_big on account", "rule keep_log on account_log",
            }  # fmt: skip
            expected = await oracle_of(pg, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)

    with database_target("postgresql", tmp_path / "copy") as other:
        asyncio.run(go(other))


PARTITIONED = [
    "CREATE TABLE measurement (id bigint NOT NULL, logdate date NOT NULL, region text NOT NULL, "
    "reading numeric DEFAULT 0, PRIMARY KEY (id, logdate, region)) PARTITION BY RANGE (logdate)",
    "CREATE INDEX measurement_region ON measurement (region)",
    "CREATE TABLE measurement_2024 PARTITION OF measurement "
    "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "CREATE TABLE measurement_2025 PARTITION OF measurement "
    "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (region)",
    "CREATE TABLE measurement_2025_eu PARTITION OF measurement_2025 FOR VALUES IN ('eu')",
    "CREATE TABLE measurement_2025_rest PARTITION OF measurement_2025 DEFAULT",
    "CREATE TABLE measurement_old PARTITION OF measurement DEFAULT",
]


def test_postgresql_copy_keeps_declarative_partitioning(pg: Target, tmp_path: Path) -> None:
    """A range-partitioned table with a list-partitioned partition and default partitions:
    the parent is created with its PARTITION BY, each partition with PARTITION OF and its
    bounds after it (which gives it the parent's key and indexes); identical under pg_dump -s
    through up, down and up. The partitions were only named, and the parent copied plain."""

    async def go(other: Target) -> None:
        async with copying(pg, PARTITIONED, other) as made:
            copy, original, diff = made.copy, made.original, made.diff
            assert diff.unmanaged == []
            created = [str(op.obj) for op in diff.operations if isinstance(op, CreateObject)]
            assert created.index("partition measurement_2025") < created.index(
                "partition measurement_2025_eu"
            )
            expected = await oracle_of(pg, made.source)
            await up_down_up(diff, other, copy, tmp_path / "m", expected)
            reproduced = await SchemaReader(copy, other.dialect).read_schema()
            again = SchemaComparator(pg.dialect).compare(reproduced, original)
            assert again.operations == [] and again.warnings == []

    with database_target("postgresql", tmp_path / "copy") as other:
        asyncio.run(go(other))


def test_what_a_partition_has_of_its_own_is_named_not_lost(pg: Target, tmp_path: Path) -> None:
    """PARTITION OF gives a partition only its parent's indexes, keys and defaults: an index,
    a check, a default or a NOT NULL of the partition's own would be lost by a copy, so each
    is named and the copy refused unless allowed."""
    own = [
        "CREATE TABLE p (id integer NOT NULL, note text) PARTITION BY RANGE (id)",
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10)",
        "CREATE INDEX p1_note ON p1 (note)",
        "ALTER TABLE p1 ADD CONSTRAINT p1_small CHECK (id < 5)",
        "ALTER TABLE p1 ALTER COLUMN note SET DEFAULT 'x'",
    ]

    async def go(other: Target) -> None:
        async with copying(pg, own, other) as made:
            assert sorted(str(o) for o in made.diff.unmanaged) == [
                "column default or NOT NULL of a partition (not its parent's) note on p1",
                "constraint of a partition (not its parent's) p1_small on p1",
                "index of a partition (not its parent's) p1_note on p1",
            ]

    with database_target("postgresql", tmp_path / "copy") as other:
        asyncio.run(go(other))


MYSQL_PARTITIONED = [
    "CREATE TABLE events (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at)) "
    "PARTITION BY RANGE (YEAR(at)) (PARTITION p2024 VALUES LESS THAN (2025), "
    "PARTITION p2025 VALUES LESS THAN (2026), PARTITION pmax VALUES LESS THAN MAXVALUE)",
    "CREATE TABLE hashed (id INT PRIMARY KEY, note VARCHAR(20)) PARTITION BY HASH (id) PARTITIONS 3",
]


def test_mysql_copy_keeps_partitioning(mysql: Target, tmp_path: Path) -> None:
    """RANGE and HASH partitioning, as SHOW CREATE TABLE prints the clause: the same under
    SHOW CREATE through up, down and up. It was only named, and the copy was a plain table."""

    async def go(other: Target) -> None:
        async with copying(mysql, MYSQL_PARTITIONED, other) as made:
            copy, original, diff = made.copy, made.original, made.diff
            assert diff.unmanaged == []
            expected = await oracle_of(mysql, made.source)
            assert "PARTITION BY RANGE" in expected[("TABLE", "events")]
            await up_down_up(diff, other, copy, tmp_path / "m", expected)
            reproduced = await SchemaReader(copy, other.dialect).read_schema()
            again = SchemaComparator(mysql.dialect).compare(reproduced, original)
            assert again.operations == [] and again.warnings == []

    with database_target("mysql", tmp_path / "copy") as other:
        asyncio.run(go(other))


def test_a_changed_sequence_or_domain_is_altered_in_place_and_back(
    pg: Target, tmp_path: Path
) -> None:
    """A standalone sequence and a domain whose definitions differ between the database and
    the target: columns use both, so neither can be dropped and made again; each is altered
    (ALTER SEQUENCE with every option; ALTER DOMAIN default, NOT NULL and each named check),
    and the down alters it back, judged by pg_dump. A domain whose base type changed cannot
    be altered: a warning, and nothing generated for it."""
    before = [
        "CREATE SEQUENCE ticket INCREMENT BY 2 CYCLE",
        "CREATE DOMAIN code AS text DEFAULT 'none' CONSTRAINT not_empty CHECK (VALUE <> '') "
        "CONSTRAINT short CHECK (length(VALUE) < 10)",
        "CREATE DOMAIN amount AS integer",
        "CREATE TABLE t (id bigint DEFAULT nextval('ticket'), c code, a amount)",
    ]
    after = [
        "CREATE SEQUENCE ticket AS integer INCREMENT BY 5 MAXVALUE 9000 START WITH 10 CACHE 3",
        "CREATE DOMAIN code AS text NOT NULL CONSTRAINT not_empty CHECK (length(VALUE) > 1) "
        "CONSTRAINT ascii CHECK (VALUE ~ '^[ -~]*$')",
        "CREATE DOMAIN amount AS bigint",
        "CREATE TABLE t (id bigint DEFAULT nextval('ticket'), c code, a amount)",
    ]

    async def go(other: Target) -> None:
        async with differing(pg, before, other, after) as made:
            diff, a = made.diff, made.old
            assert [op.describe() for op in diff.operations] == [
                "alter sequence ticket",
                "alter domain code",
            ]
            assert [w for w in diff.warnings if "domain amount" in w], diff.warnings
            original, expected = await oracle_of(pg, a), await oracle_of(other, made.new)

            def judged(key: tuple[str, str]) -> bool:
                return "amount" not in key[1]  # differs and stays so (warned)

            assert {k: v for k, v in original.items() if judged(k)} != {
                k: v for k, v in expected.items() if judged(k)
            }
            await up_down_up(diff, pg, a, tmp_path / "m", expected, before=original, judged=judged)

    with database_target("postgresql", tmp_path / "b") as other:
        asyncio.run(go(other))


def test_postgresql_copy_keeps_column_sequence_names_and_serial_options(
    pg: Target, tmp_path: Path
) -> None:
    """A column's sequence named otherwise than SERIAL / IDENTITY would name it (a table
    renamed and made again: authelia's ``..._seq1``), and a serial sequence altered after
    creation: the copy renames and alters its own through the column (never by a name it
    may have chosen differently), judged by pg_dump through up, down, up."""
    statements = [
        "CREATE TABLE ticket (id serial PRIMARY KEY, n integer)",
        "ALTER TABLE ticket RENAME TO ticket_old",
        'CREATE TABLE "Ticket" (id serial PRIMARY KEY, code bigint GENERATED BY DEFAULT AS IDENTITY)',
        'ALTER SEQUENCE "Ticket_code_seq" RENAME TO "code numbers"',
        "CREATE TABLE counted (id bigserial PRIMARY KEY)",
        "ALTER SEQUENCE counted_id_seq INCREMENT BY 5 MINVALUE 10 START WITH 10 RESTART CACHE 2 CYCLE",
    ]

    async def go(other: Target) -> None:
        async with copying(pg, statements, other) as made:
            assert made.diff.unmanaged == [], made.diff.unmanaged
            fixes = [c.kind for c in made.original.carried if "sequence" in c.kind]
            assert sorted(fixes) == ["sequence name", "sequence name", "serial sequence options"]
            expected = await oracle_of(pg, made.source)
            await up_down_up(made.diff, other, made.copy, tmp_path / "m", expected)
            again = await SchemaReader(made.copy, other.dialect).read_schema()
            assert SchemaComparator(pg.dialect).compare(again, made.original).operations == []

    with database_target("postgresql", tmp_path / "b") as other:
        asyncio.run(go(other))


def test_postgresql_sequence_fixes_survive_hostile_names(pg: Target, tmp_path: Path) -> None:
    """The DO blocks that rename and alter a column's sequence hold names in SQL strings and
    format() arguments: quotes, dollars, percent signs and non-ASCII letters must reach the
    server as names, never as SQL (judged by pg_dump)."""
    table, seq = """Tab"le $x% 'q' é""", """se"q $covet% 'é' """
    quoted_table = '"' + table.replace('"', '""') + '"'
    quoted_seq = '"' + seq.replace('"', '""') + '"'
    default_seq = '"' + (table + "_id_seq").replace('"', '""') + '"'
    statements = [
        f"CREATE TABLE {quoted_table} (id serial PRIMARY KEY)",
        f"ALTER SEQUENCE {default_seq} RENAME TO {quoted_seq}",
        f"ALTER SEQUENCE {quoted_seq} INCREMENT BY 3",
    ]

    async def go(other: Target) -> None:
        async with copying(pg, statements, other) as made:
            assert made.diff.unmanaged == [], made.diff.unmanaged
            expected = await oracle_of(pg, made.source)
            await up_down_up(made.diff, other, made.copy, tmp_path / "m", expected)

    with database_target("postgresql", tmp_path / "b") as other:
        asyncio.run(go(other))
