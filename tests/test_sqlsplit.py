"""The SQL statement splitter: edge cases per rule set, then the real corpora in shared/corpus.

Statement counts asserted for the corpora were checked by reading the files, against a naive
one-statement-per-``;``-line count (they differ only where a procedure body holds semicolons),
and by running every statement on PostgreSQL 15 and MariaDB 10.11.
"""

from __future__ import annotations

import base64
import os
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from covet_core.sqlsplit import (
    MYSQL_RULES,
    POSTGRESQL_RULES,
    SQLITE_RULES,
    SplitRules,
    SqlChunk,
    split,
    splitter,
)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
AUTHELIA = "authelia/internal/storage/migrations"
OPENFGA = "openfga/assets/migrations"
CHINOOK = "chinook/ChinookDatabase/DataSources"
ALL_RULES = [POSTGRESQL_RULES, MYSQL_RULES, SQLITE_RULES]
RULES_BY_DIR = {"postgres": POSTGRESQL_RULES, "mysql": MYSQL_RULES, "sqlite": SQLITE_RULES}
any_rules = pytest.mark.parametrize("rules", ALL_RULES, ids=["postgresql", "mysql", "sqlite"])


def texts(sql: str, rules: SplitRules) -> list[str]:
    return [chunk.text for chunk in split(sql, rules)]


def lines(sql: str, rules: SplitRules) -> list[int]:
    return [chunk.line for chunk in split(sql, rules)]


# --- standard SQL: every rule set --------------------------------------------------------


@any_rules
def test_semicolons_in_strings_identifiers_and_comments(rules: SplitRules) -> None:
    sql = (
        "SELECT 'a;b', 'it''s; ok', \"c;d\", \"e\"\"; f\" FROM t; -- tail; comment\n"
        "/* lead; comment */ SELECT 2 /* in; side */ + 1 -- inner;\n  , 3;"
    )
    assert texts(sql, rules) == [
        "SELECT 'a;b', 'it''s; ok', \"c;d\", \"e\"\"; f\" FROM t",
        "SELECT 2 /* in; side */ + 1 -- inner;\n  , 3",
    ]


@any_rules
def test_comment_only_and_empty_input_give_nothing(rules: SplitRules) -> None:
    assert split("", rules) == []
    assert split("  \n\t\n", rules) == []
    assert split("-- only a comment; really\n/* and; a block */\n;\n ;;\n", rules) == []


@any_rules
def test_no_trailing_semicolon_and_trailing_comment(rules: SplitRules) -> None:
    assert texts("SELECT 1;\nSELECT 2\n-- the end; no statement\n", rules) == [
        "SELECT 1",
        "SELECT 2",
    ]
    assert texts("SELECT 1", rules) == ["SELECT 1"]


@any_rules
def test_crlf_line_endings(rules: SplitRules) -> None:
    sql = "SELECT 1;\r\n\r\n-- note; here\r\nSELECT\r\n  'x;y';\r\n"
    assert split(sql, rules) == [SqlChunk("SELECT 1", 1), SqlChunk("SELECT\r\n  'x;y'", 4)]


@any_rules
def test_line_numbers_skip_blank_lines_and_leading_comments(rules: SplitRules) -> None:
    sql = (
        "\n"
        "/* header\n"
        "   spans; lines */\n"
        "CREATE TABLE a (\n"
        "  id INT -- key;\n"
        ");\n"
        "\n"
        "  -- next\n"
        "  INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);\n"
    )
    assert split(sql, rules) == [
        SqlChunk("CREATE TABLE a (\n  id INT -- key;\n)", 4),
        SqlChunk("INSERT INTO a VALUES (1)", 9),
        SqlChunk("INSERT INTO a VALUES (2)", 9),
    ]


@any_rules
def test_unterminated_quote_keeps_the_rest_as_one_statement(rules: SplitRules) -> None:
    # The server reports the error, at the line of the broken statement.
    assert split("SELECT 1;\nSELECT 'oops; SELECT 2;\n", rules) == [
        SqlChunk("SELECT 1", 1),
        SqlChunk("SELECT 'oops; SELECT 2;", 2),
    ]


@any_rules
def test_byte_order_mark_is_not_part_of_the_statement(rules: SplitRules) -> None:
    assert split("\ufeffSELECT 1;", rules) == [SqlChunk("SELECT 1", 1)]


@any_rules
def test_transaction_control_is_not_a_block(rules: SplitRules) -> None:
    sql = "BEGIN;\nUPDATE t SET a = CASE WHEN a THEN 1 END;\nEND;\nCOMMIT;"
    assert texts(sql, rules) == [
        "BEGIN",
        "UPDATE t SET a = CASE WHEN a THEN 1 END",
        "END",
        "COMMIT",
    ]


def test_splitter_is_the_dialect_worker() -> None:
    split_statements = splitter(SQLITE_RULES)
    assert split_statements("SELECT 1; SELECT ';'") == ["SELECT 1", "SELECT ';'"]


# --- PostgreSQL ------------------------------------------------------------------------


def test_postgresql_dollar_quoted_function_body() -> None:
    sql = """
CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();  -- a comment; in the body
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
"""
    chunks = split(sql, POSTGRESQL_RULES)
    assert [c.line for c in chunks] == [2, 8]
    assert chunks[0].text.startswith("CREATE FUNCTION touch()")
    assert chunks[0].text.endswith("END;\n$$ LANGUAGE plpgsql")
    assert chunks[1].text.endswith("EXECUTE FUNCTION touch()")


def test_postgresql_tagged_dollar_quote_holding_double_dollars() -> None:
    sql = (
        "DO $outer$ BEGIN EXECUTE $$SELECT 1; SELECT 2$$; "
        "RAISE NOTICE 'done;'; END $outer$;\nSELECT $tag$a$b;$tag$;"
    )
    assert texts(sql, POSTGRESQL_RULES) == [
        "DO $outer$ BEGIN EXECUTE $$SELECT 1; SELECT 2$$; RAISE NOTICE 'done;'; END $outer$",
        "SELECT $tag$a$b;$tag$",
    ]


def test_postgresql_parameters_and_dollar_in_identifiers_are_not_quotes() -> None:
    sql = "PREPARE q(int) AS SELECT $1; SELECT a$b$ FROM t; SELECT 3"
    assert texts(sql, POSTGRESQL_RULES) == [
        "PREPARE q(int) AS SELECT $1",
        "SELECT a$b$ FROM t",
        "SELECT 3",
    ]


def test_postgresql_escape_strings_and_standard_strings() -> None:
    # E'...' takes backslash escapes; a standard string keeps its backslash literally.
    sql = "SELECT E'it\\'s; fine', e'\\\\'; SELECT 'C:\\'; SELECT 3;"
    assert texts(sql, POSTGRESQL_RULES) == [
        "SELECT E'it\\'s; fine', e'\\\\'",
        "SELECT 'C:\\'",
        "SELECT 3",
    ]
    # A word ending in E before a quote is not an escape-string prefix.
    assert texts("SELECT 1 WHERE x = 'a' OR y IN (SELECT'b\\'); SELECT 2", POSTGRESQL_RULES) == [
        "SELECT 1 WHERE x = 'a' OR y IN (SELECT'b\\')",
        "SELECT 2",
    ]


def test_postgresql_hash_is_an_operator() -> None:
    assert texts("SELECT 5 # 3; SELECT 2", POSTGRESQL_RULES) == ["SELECT 5 # 3", "SELECT 2"]


def test_postgresql_begin_atomic_body_with_case() -> None:
    sql = """CREATE OR REPLACE FUNCTION grade(score int) RETURNS text LANGUAGE SQL
BEGIN ATOMIC
    SELECT CASE WHEN score > 50 THEN 'pass' ELSE 'fail' END;
    SELECT 'twice';
END;
SELECT grade(70);"""
    chunks = split(sql, POSTGRESQL_RULES)
    assert [c.line for c in chunks] == [1, 6]
    assert chunks[0].text.endswith("SELECT 'twice';\nEND")
    assert chunks[1].text == "SELECT grade(70)"


def test_postgresql_copy_from_stdin_keeps_its_data() -> None:
    sql = (
        "BEGIN;\n"
        "COPY public.artist (artist_id, name) FROM stdin;\n"
        "1\tAC/DC\n"
        '2\tIt\'s; "quoted" $$ -- not a comment\n'
        "\\.\n"
        "SELECT setval('artist_id_seq', 2);\n"
        "COPY artist TO stdout;\n"
        "END;\n"
    )
    assert split(sql, POSTGRESQL_RULES) == [
        SqlChunk("BEGIN", 1),
        SqlChunk(
            "COPY public.artist (artist_id, name) FROM stdin;\n"
            "1\tAC/DC\n"
            '2\tIt\'s; "quoted" $$ -- not a comment\n'
            "\\.",
            2,
        ),
        SqlChunk("SELECT setval('artist_id_seq', 2)", 6),
        SqlChunk("COPY artist TO stdout", 7),
        SqlChunk("END", 8),
    ]


def test_postgresql_copy_with_options_and_crlf_and_no_end_marker() -> None:
    sql = "COPY t FROM STDIN WITH (FORMAT csv);\r\na;b\r\n\\.\r\nSELECT 1;"
    assert texts(sql, POSTGRESQL_RULES) == [
        "COPY t FROM STDIN WITH (FORMAT csv);\r\na;b\r\n\\.",
        "SELECT 1",
    ]
    # Without a \. line the data runs to the end of the input, as psql reads it.
    assert texts("COPY t FROM stdin;\n1;x\n", POSTGRESQL_RULES) == ["COPY t FROM stdin;\n1;x"]


# --- MySQL / MariaDB -----------------------------------------------------------------------


def test_mysql_delimiter_procedure_and_trigger() -> None:
    sql = """DELIMITER //
CREATE PROCEDURE add_note(IN body VARCHAR(64))
BEGIN
    INSERT INTO notes (body) VALUES (body);
    SELECT 'done; really';
END //
DELIMITER ;
CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(64), n INT);
DELIMITER $$
CREATE TRIGGER notes_bi BEFORE INSERT ON notes FOR EACH ROW
BEGIN
    IF NEW.n IS NULL THEN SET NEW.n = 0; END IF;
END$$
DELIMITER ;
CALL add_note('it\\'s; fine');
"""
    chunks = split(sql, MYSQL_RULES)
    assert [c.line for c in chunks] == [2, 8, 10, 15]
    assert chunks[0].text.endswith("SELECT 'done; really';\nEND")
    assert chunks[1].text.startswith("CREATE TABLE notes")
    assert chunks[2].text.endswith("END IF;\nEND")
    assert chunks[3].text == "CALL add_note('it\\'s; fine')"
    assert not any("DELIMITER" in c.text for c in chunks)


def test_mysql_delimiter_with_crlf_and_end_of_input() -> None:
    sql = "DELIMITER ;;\r\nCREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END;;\r\nDELIMITER ;"
    assert texts(sql, MYSQL_RULES) == [
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END"
    ]


def test_mysql_procedure_without_delimiter_from_authelia() -> None:
    # authelia mysql/V0007.ConsistencyFixes.up.sql: its runner sends procedures as written.
    sql = """CREATE PROCEDURE PROC_DROP_FOREIGN_KEY(IN tableName VARCHAR(64), IN constraintName VARCHAR(64))
BEGIN
    IF EXISTS(
        SELECT * FROM information_schema.TABLE_CONSTRAINTS
        WHERE
            TABLE_SCHEMA    = DATABASE()     AND
            TABLE_NAME      = tableName      AND
            CONSTRAINT_NAME = constraintName AND
            CONSTRAINT_TYPE = 'FOREIGN KEY')
    THEN
        SET @query = CONCAT('ALTER TABLE ', tableName, ' DROP FOREIGN KEY ', constraintName, ';');
        PREPARE stmt FROM @query;
        EXECUTE stmt;
        DEALLOCATE PREPARE stmt;
    END IF;
END;

CALL PROC_DROP_FOREIGN_KEY('oauth2_consent_session', 'oauth2_consent_session_subject_fkey');
"""
    chunks = split(sql, MYSQL_RULES)
    assert [c.line for c in chunks] == [1, 18]
    assert chunks[0].text.endswith("DEALLOCATE PREPARE stmt;\n    END IF;\nEND")
    assert chunks[1].text.startswith("CALL PROC_DROP_FOREIGN_KEY(")


def test_mysql_compound_statements_nest() -> None:
    sql = """CREATE DEFINER=`root`@`localhost` PROCEDURE p()
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN SET i = -1; END;
  lbl: LOOP
    SET i = i + 1;
    IF i > 3 THEN LEAVE lbl; END IF;
  END LOOP lbl;
  WHILE i < 10 DO SET i = i + 1; END WHILE;
  REPEAT SET i = i - 1; UNTIL i < 5 END REPEAT;
  CASE i WHEN 4 THEN SELECT 'four'; ELSE SELECT CASE WHEN i > 4 THEN 'big' ELSE 'small' END; END CASE;
END;
CALL p();
CREATE DEFINER=root@localhost TRIGGER t_bu BEFORE UPDATE ON t FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END;
CREATE TABLE event (begin DATETIME, end DATETIME);
INSERT INTO event VALUES (NOW(), NOW());"""
    chunks = split(sql, MYSQL_RULES)
    assert [c.line for c in chunks] == [1, 13, 14, 15, 16]
    assert chunks[0].text.endswith("END CASE;\nEND")
    assert chunks[2].text.endswith("SET NEW.b = 2; END")


def test_mysql_backslash_escapes_and_double_quoted_strings() -> None:
    # Chinook_MySql.sql holds strings like N'Cavalleria Rusticana \ Act \ Intermezzo Sinfonico'.
    sql = (
        "INSERT INTO t VALUES ('it\\'s; ok', \"say \\\"hi;\\\"\", 'C:\\\\', "
        "N'Cavalleria Rusticana \\ Act \\ Intermezzo Sinfonico'); SELECT 2"
    )
    assert texts(sql, MYSQL_RULES) == [sql[: sql.index("; SELECT 2")], "SELECT 2"]


def test_mysql_hash_and_dash_comments() -> None:
    sql = (
        "SELECT 1; # it's a comment; with a quote\n"
        "UPDATE t SET a = a--1;\n"
        "SELECT 2 # trailing; comment\n"
        ";\n"
        "SELECT 3; --\tcomment; with a tab\n"
    )
    assert split(sql, MYSQL_RULES) == [
        SqlChunk("SELECT 1", 1),
        SqlChunk("UPDATE t SET a = a--1", 2),
        SqlChunk("SELECT 2", 3),
        SqlChunk("SELECT 3", 5),
    ]


def test_mysql_backtick_identifiers_and_executable_comments() -> None:
    sql = "CREATE TABLE `a;b` (`c``;` INT);\n/*!40101 SET NAMES utf8mb4 */;\n/* plain */;"
    assert texts(sql, MYSQL_RULES) == [
        "CREATE TABLE `a;b` (`c``;` INT)",
        "/*!40101 SET NAMES utf8mb4 */",
    ]


def test_delimiter_is_only_a_command_where_enabled() -> None:
    assert texts("DELIMITER //\nSELECT 1//", SQLITE_RULES) == ["DELIMITER //\nSELECT 1//"]


# --- SQLite ----------------------------------------------------------------------------------

SQLITE_TRIGGER = """CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER, status TEXT);
CREATE TABLE audit (account_id INTEGER, note TEXT);
CREATE TRIGGER account_update AFTER UPDATE OF balance ON account
WHEN NEW.balance <> OLD.balance
BEGIN
    INSERT INTO audit VALUES (NEW.id, 'changed; from ' || OLD.balance);
    UPDATE account SET status = CASE WHEN NEW.balance < 0 THEN 'overdrawn' ELSE 'ok' END
        WHERE id = NEW.id;
    SELECT CASE WHEN NEW.balance < -100 THEN RAISE(ABORT, 'limit; exceeded') END;
END;
CREATE TEMP TRIGGER IF NOT EXISTS [audit; guard] BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
INSERT INTO account VALUES (1, 10, 'ok');
UPDATE account SET balance = -5 WHERE id = 1;
"""


def test_sqlite_trigger_body_with_case_runs() -> None:
    chunks = split(SQLITE_TRIGGER, SQLITE_RULES)
    assert [c.line for c in chunks] == [1, 2, 3, 11, 13, 14]
    assert chunks[2].text.endswith("'limit; exceeded') END;\nEND")
    conn = sqlite3.connect(":memory:")
    for chunk in chunks:
        conn.execute(chunk.text)
    assert conn.execute("SELECT status FROM account").fetchall() == [("overdrawn",)]
    assert conn.execute("SELECT note FROM audit").fetchall() == [("changed; from 10",)]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit")


def test_sqlite_bracket_and_backtick_identifiers() -> None:
    sql = "CREATE TABLE [it's; odd] (`x;y` INT); SELECT [it's; odd].`x;y` FROM [it's; odd]"
    assert texts(sql, SQLITE_RULES) == [
        "CREATE TABLE [it's; odd] (`x;y` INT)",
        "SELECT [it's; odd].`x;y` FROM [it's; odd]",
    ]
    # Without the rule, [ is just a character (PostgreSQL array subscripts).
    assert texts("SELECT a[1]; SELECT 2", POSTGRESQL_RULES) == ["SELECT a[1]", "SELECT 2"]


def test_sqlite_trigger_without_final_semicolon() -> None:
    sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; DELETE FROM c; END"
    assert texts(sql, SQLITE_RULES) == [sql]


# --- the real corpora --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"corpus folder {CORPUS} is missing in CI")
        pytest.skip(f"corpus folder {CORPUS} is absent (it sits beside the project in CI)")
    return CORPUS


def _version(path: Path) -> int:
    found = re.match(r"V?(\d+)", path.name)
    assert found, path
    return int(found.group(1))


def _corpus_files(root: Path) -> list[tuple[Path, SplitRules]]:
    files = [
        (path, rules)
        for project in (AUTHELIA, OPENFGA)
        for folder, rules in RULES_BY_DIR.items()
        for path in sorted((root / project / folder).glob("*.sql"))
    ]
    for path in sorted((root / CHINOOK).glob("Chinook_*.sql")):
        name = path.name.lower()
        rules = (
            POSTGRESQL_RULES
            if "postgres" in name
            else MYSQL_RULES
            if "mysql" in name
            else SQLITE_RULES
        )
        files.append((path, rules))
    return files


def _sqlite_with_authelia_functions() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.create_function(
        "BIN2B64", 1, lambda b: None if b is None else base64.b64encode(b).decode("ascii")
    )
    conn.create_function("B642BIN", 1, lambda s: None if s is None else base64.b64decode(s))
    return conn


def test_authelia_sqlite_up_migrations_run_statement_by_statement(corpus: Path) -> None:
    ups = sorted((corpus / AUTHELIA / "sqlite").glob("V*.up.sql"), key=_version)
    assert len(ups) == 26
    conn = _sqlite_with_authelia_functions()
    executed = 0
    for path in ups:
        for chunk in split(path.read_text(encoding="utf-8"), SQLITE_RULES):
            try:
                conn.execute(chunk.text)
            except sqlite3.Error as exc:  # pragma: no cover - the message is the point
                pytest.fail(f"{path.name}:{chunk.line}: {exc}\n{chunk.text}")
            executed += 1
    assert executed == 427
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"webauthn_credentials", "oauth2_consent_session", "totp_configurations"} <= tables


def test_openfga_sqlite_up_sections_run(corpus: Path) -> None:
    conn = sqlite3.connect(":memory:")
    for path in sorted((corpus / OPENFGA / "sqlite").glob("*.sql"), key=_version):
        up = path.read_text(encoding="utf-8").split("-- +goose Down")[0]
        for chunk in split(up, SQLITE_RULES):
            conn.execute(chunk.text)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'tuple'").fetchone() == (
        1,
    )


def test_chinook_sqlite_loads(corpus: Path) -> None:
    chunks = split(
        (corpus / CHINOOK / "Chinook_Sqlite.sql").read_text(encoding="utf-8"), SQLITE_RULES
    )
    assert len(chunks) == 57
    assert chunks[0] == SqlChunk("DROP TABLE IF EXISTS [Album]", 45)
    conn = sqlite3.connect(":memory:")
    for chunk in chunks:
        conn.execute(chunk.text)
    assert conn.execute("SELECT count(*) FROM Track").fetchone() == (3503,)
    assert conn.execute("SELECT count(*) FROM InvoiceLine").fetchone() == (2240,)


@pytest.mark.parametrize(("folder", "total"), [("postgres", 332), ("mysql", 349), ("sqlite", 764)])
def test_authelia_statement_counts(corpus: Path, folder: str, total: int) -> None:
    sources = {
        path.name: path.read_text(encoding="utf-8")
        for path in (corpus / AUTHELIA / folder).glob("*.sql")
    }
    counts = {name: len(split(sql, RULES_BY_DIR[folder])) for name, sql in sources.items()}
    assert len(counts) == 52
    assert sum(counts.values()) == total
    # The only files without a statement are the empty ones.
    assert {n for n, c in counts.items() if not c} == {
        n for n, s in sources.items() if not s.strip()
    }


def test_authelia_mysql_procedures_stay_whole(corpus: Path) -> None:
    path = corpus / AUTHELIA / "mysql" / "V0007.ConsistencyFixes.up.sql"
    chunks = split(path.read_text(encoding="utf-8"), MYSQL_RULES)
    # 85 lines end in ';', ten of them inside the two procedure bodies.
    assert len(chunks) == 75
    assert [c.line for c in chunks[:5]] == [1, 2, 4, 21, 38]
    procedures = [c for c in chunks if c.text.startswith("CREATE PROCEDURE")]
    assert len(procedures) == 2
    assert all(p.text.count(";") == 6 and p.text.endswith("END IF;\nEND") for p in procedures)
    assert sum(c.text.startswith("CALL PROC_DROP_") for c in chunks) > 20


@pytest.mark.parametrize(
    ("folder", "counts"),
    [
        ("postgres", {"001": 13, "002": 2, "003": 2, "004": 2, "005": 4, "006": 4}),
        (
            "mysql",
            {"001": 11, "002": 2, "003": 2, "004": 2, "005": 4, "006": 2, "007": 6, "008": 6},
        ),
        ("sqlite", {"005": 14, "006": 2}),
    ],
)
def test_openfga_statement_counts(corpus: Path, folder: str, counts: dict[str, int]) -> None:
    found = {
        path.name[:3]: len(split(path.read_text(encoding="utf-8"), RULES_BY_DIR[folder]))
        for path in (corpus / OPENFGA / folder).glob("*.sql")
    }
    assert found == counts


def test_openfga_comments_with_semicolons_and_backticks(corpus: Path) -> None:
    # mysql/008: "-- OpenFGA identities (e.g. `user:Alice` vs `user:alice`) are stored and"
    #            "-- compared as distinct values. Migration 007 covered tuple.object_id; this"
    path = corpus / OPENFGA / "mysql" / "008_collate_identifiers.sql"
    chunks = split(path.read_text(encoding="utf-8"), MYSQL_RULES)
    assert chunks[0].line == 13
    assert chunks[0].text.startswith("ALTER TABLE tuple\n    MODIFY COLUMN object_type")
    assert chunks[0].text.endswith("LOCK = SHARED")


@pytest.mark.parametrize(
    ("name", "rules"), [("PostgreSql", POSTGRESQL_RULES), ("MySql", MYSQL_RULES)]
)
def test_chinook_postgresql_and_mysql_statements(
    corpus: Path, name: str, rules: SplitRules
) -> None:
    chunks = split((corpus / CHINOOK / f"Chinook_{name}.sql").read_text(encoding="utf-8"), rules)
    kinds = Counter(" ".join(c.text.split()[:2]).upper() for c in chunks)
    assert len(chunks) == 60
    assert kinds["INSERT INTO"] == 24
    assert kinds["CREATE TABLE"] == kinds["ALTER TABLE"] == kinds["CREATE INDEX"] == 11
    # Line 28 is psql's "\c chinook;" or MySQL's "USE `Chinook`;": a chunk of its own.
    assert chunks[2].line == 28
    assert chunks[2].text in ("\\c chinook", "USE `Chinook`")
    assert all(c.text.rstrip().endswith(")") for c in chunks if c.text.startswith("INSERT"))


def test_corpus_chunks_are_whole_statements(corpus: Path) -> None:
    files = _corpus_files(corpus)
    assert len(files) > 150
    fragment = re.compile(r"(END|BEGIN|ELSE|THEN|WHEN|IF|\))\b|--|/\*|#", re.I)
    for path, rules in files:
        chunks = split(path.read_text(encoding="utf-8"), rules)
        for chunk in chunks:
            assert chunk.text and chunk.text == chunk.text.strip(), (path.name, chunk.line)
            assert not fragment.match(chunk.text), (path.name, chunk.line, chunk.text[:40])
            assert not chunk.text.endswith(";"), (path.name, chunk.line)
        # Splitting is stable: the statements joined again split into the same statements.
        again = split(";\n".join(c.text for c in chunks), rules)
        assert [c.text for c in again] == [c.text for c in chunks], path.name
