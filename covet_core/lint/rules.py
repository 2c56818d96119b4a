"""The rule table: one entry per rule, the single source for output, SARIF and docs/lint.md."""

from __future__ import annotations

from covet_core.lint.model import ERROR, WARNING, Rule

ALL = ("postgres", "mysql", "sqlite")
PG = ("postgres",)

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        Rule(
            "blocking-index",
            ERROR,
            "index built while writes are blocked",
            "A plain CREATE INDEX holds a lock that blocks every INSERT, UPDATE and DELETE on "
            "the table while the whole table is read and sorted: minutes on a large table. "
            "MySQL/MariaDB build most indexes online, but silently fall back to a blocking copy "
            "(FULLTEXT, SPATIAL, ALGORITHM=COPY) unless told not to; SQLite locks the database.",
            "PostgreSQL: CREATE INDEX CONCURRENTLY ... in a migration with atomic = False (a .sql "
            "file: `-- covet:no-transaction`). MySQL/MariaDB: add `ALGORITHM=INPLACE, LOCK=NONE` "
            "so the server refuses instead of blocking. SQLite: build it at a quiet time.",
            ALL,
            size_matters=True,
        ),
        Rule(
            "blocking-index-drop",
            WARNING,
            "index dropped under an exclusive lock",
            "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table: it "
            "waits for every running query on it, and every query queues behind it.",
            "DROP INDEX CONCURRENTLY ... in a migration with atomic = False.",
            PG,
        ),
        Rule(
            "constraint-not-valid",
            ERROR,
            "constraint validated while writes are blocked",
            "Adding a FOREIGN KEY or CHECK checks every existing row while holding a lock that "
            "blocks writes (PostgreSQL: on both tables of a foreign key; MySQL/MariaDB copy "
            "the table when foreign_key_checks is on).",
            "PostgreSQL: ADD CONSTRAINT ... NOT VALID in one migration, then ALTER TABLE ... "
            "VALIDATE CONSTRAINT ... in the next (it only blocks DDL). MySQL/MariaDB: add it "
            "while the table is small, or with an online schema change tool (gh-ost, pt-osc).",
            ("postgres", "mysql"),
            size_matters=True,
        ),
        Rule(
            "set-not-null",
            ERROR,
            "SET NOT NULL scans the table under an exclusive lock",
            "ALTER COLUMN ... SET NOT NULL reads every row under ACCESS EXCLUSIVE, blocking "
            "reads and writes, unless a validated CHECK (col IS NOT NULL) already proves it.",
            "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; then VALIDATE CONSTRAINT c; "
            "then SET NOT NULL (PostgreSQL 12+ skips the scan) and DROP CONSTRAINT c.",
            PG,
            size_matters=True,
        ),
        Rule(
            "add-column-not-null",
            ERROR,
            "NOT NULL column added without a default",
            "Existing rows have no value for the new column: PostgreSQL and SQLite refuse the "
            "statement on a non-empty table, failing the deploy half-way; MySQL/MariaDB fill "
            "in an implicit 0 or '' that the application never wrote.",
            "ADD COLUMN ... NOT NULL DEFAULT <value>, or add it nullable, backfill in batches "
            "(a data step), then set NOT NULL.",
            ALL,
        ),
        Rule(
            "volatile-default",
            ERROR,
            "ADD COLUMN with a volatile default rewrites the table",
            "A default evaluated per row (random(), gen_random_uuid(), clock_timestamp(), "
            "UUID()) forces a full table rewrite under an exclusive lock; SQLite refuses it.",
            "Add the column without a default, set the default in a second statement (it "
            "applies to new rows only), and backfill existing rows in batches (a data step).",
            ALL,
            size_matters=True,
        ),
        Rule(
            "add-column-default",
            ERROR,
            "ADD COLUMN with a default rewrites the table on this server version",
            "Before PostgreSQL 11, MariaDB 10.3 and MySQL 8.0.12 any default on a new column "
            "rewrites the whole table while writes wait. On newer servers it is instant.",
            "Upgrade, or add the column without a default, then SET DEFAULT and backfill in "
            "batches.",
            ("postgres", "mysql"),
            size_matters=True,
        ),
        Rule(
            "column-type-change",
            ERROR,
            "column type change rewrites the table",
            "Changing a column's type rewrites the table and its indexes (PostgreSQL: under "
            "ACCESS EXCLUSIVE, blocking reads; MySQL/MariaDB: ALGORITHM=COPY, blocking writes). "
            "Exceptions: varchar(n) to a longer varchar or to text on PostgreSQL.",
            "Add a new column of the new type, write both from the application, backfill in "
            "batches, switch reads, then drop the old column.",
            ("postgres", "mysql"),
            size_matters=True,
        ),
        Rule(
            "rename-column",
            ERROR,
            "column renamed while the application uses it",
            "The running application still reads and writes the old name; every query naming "
            "it fails from the moment the migration commits until the new code is deployed.",
            "Add the new column, write both, backfill, switch reads, drop the old one later; or "
            "deploy code that uses neither name first. Silence it when no code uses the column.",
            ALL,
        ),
        Rule(
            "rename-table",
            ERROR,
            "table renamed while the application uses it",
            "Queries of the running application naming the old table fail until new code is "
            "deployed.",
            "Create the new table (or a view with the old name over it), move code over, then "
            "drop the old name in a later migration.",
            ALL,
        ),
        Rule(
            "drop-column",
            ERROR,
            "column dropped while the application may still use it",
            "Code still deployed that names the column fails; ORMs that select every column "
            "break at once. The data is gone: the down migration cannot bring it back.",
            "Stop using the column in code first (ignore it in the ORM), deploy, then drop it "
            "in a later migration.",
            ALL,
        ),
        Rule(
            "drop-table",
            WARNING,
            "table dropped",
            "Code still deployed that names the table fails, and the data is gone.",
            "Remove every use from code and deploy first; keep a backup; then drop it.",
            ALL,
        ),
        Rule(
            "add-unique-constraint",
            ERROR,
            "unique constraint builds its index under an exclusive lock",
            "ADD CONSTRAINT ... UNIQUE / PRIMARY KEY builds the index while holding ACCESS "
            "EXCLUSIVE on the table: reads and writes wait for the whole build.",
            "CREATE UNIQUE INDEX CONCURRENTLY ix ON t (col) (atomic = False), then ALTER TABLE "
            "t ADD CONSTRAINT c UNIQUE USING INDEX ix.",
            PG,
            size_matters=True,
        ),
        Rule(
            "non-transactional-in-atomic",
            ERROR,
            "statement PostgreSQL refuses inside a transaction",
            "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM, CREATE DATABASE, "
            "ALTER SYSTEM (and ALTER TYPE ... ADD VALUE before PostgreSQL 12) fail inside a "
            "transaction block, and this migration declares atomic = True.",
            "Put the statement in its own migration with atomic = False (a .sql file: "
            "`-- covet:no-transaction`), or drop the explicit atomic = True and let covet "
            "detect it.",
            PG,
        ),
        Rule(
            "backfill-in-transaction",
            ERROR,
            "whole-table backfill inside a schema migration",
            "An UPDATE or DELETE of every row in the same transaction as DDL holds the DDL's "
            "exclusive lock, and locks every row, until the backfill ends; on a large table "
            "that is an outage, and a failure rolls the schema change back too.",
            "Move it to a data step (a DataMigration in the migration's data_steps, batched "
            "and resumable) or a separate migration with atomic = False, batched by key range.",
            ALL,
            size_matters=True,
        ),
        Rule(
            "prefer-bigint",
            WARNING,
            "integer primary key",
            "A 32-bit key runs out at 2,147,483,647 rows, and widening it later rewrites the "
            "table and every referencing foreign key.",
            "Use bigint (PostgreSQL: bigint GENERATED ALWAYS AS IDENTITY or bigserial; MySQL: "
            "BIGINT AUTO_INCREMENT).",
            ("postgres", "mysql"),
        ),
        Rule(
            "prefer-timestamptz",
            WARNING,
            "timestamp without time zone",
            "timestamp stores wall-clock time with no zone: values depend on the writer's "
            "TimeZone and compare wrongly across zones and DST changes.",
            "Use timestamptz (timestamp with time zone).",
            PG,
        ),
        Rule(
            "prefer-text",
            WARNING,
            "varchar(n) on PostgreSQL",
            "varchar(n) is no faster than text on PostgreSQL, and raising n later is a schema "
            "change (shrinking it rewrites the table).",
            "Use text, with CHECK (char_length(col) <= n) if the limit matters.",
            PG,
        ),
        Rule(
            "parse-error",
            WARNING,
            "statement not understood by the parser",
            "The linter could not parse this statement, so it checked nothing in it.",
            "Check the statement by hand; silence with `-- covet:allow parse-error <reason>`.",
            ALL,
        ),
        Rule(
            "allow-without-reason",
            WARNING,
            "covet:allow without a reason",
            "A silenced finding needs a reason a reviewer can judge; this one was not silenced.",
            "Write `-- covet:allow <rule> <why it is safe here>`.",
            ALL,
        ),
    ]
}
