"""The project tests users run on their own migrations (``covet_core.testing.project``), run as
a user runs them: a generated project (covet.toml + one test module) and ``pytest`` in a
subprocess. They must pass on good projects and fail, naming the culprit, on broken ones; on
the shared corpora they report what they find (the real findings are pinned below)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SERVERS
from test_corpora import CORPUS, FOLDER, corpus

ROOT = Path(__file__).resolve().parents[1]
APPLY = "test_covet_migrations_apply_in_order_on_an_empty_database"
DOWN = "test_covet_down_restores_the_schema_before_each_up"
MODELS = "test_covet_models_match_the_database_after_all_migrations"
LINT = "test_covet_migrations_pass_the_linter"
STAR = "from covet_core.testing.project import *  # noqa: F403\n"

QUICKSTART_MODELS = """
from covet_core.models import Column, Index, Integer, Model, String


class User(Model):
    __tablename__ = "users"
    __indexes__ = (Index("email", name="idx_user_email"),)
    id = Column(Integer, primary_key=True)
    username = Column(String(50), nullable=False, unique=True)
    email = Column(String(255))
    is_admin = Column(Integer, nullable=False, default=0)
"""

# authelia's own runner registers these on every SQLite connection; a user does it this way.
AUTHELIA_SQLITE_CONFTEST = """
import base64

import pytest


@pytest.fixture
def covet_prepare():
    async def prepare(adapter):
        conn = adapter.connection
        await conn.create_function("BIN2B64", 1, lambda b: b and base64.b64encode(b).decode())
        await conn.create_function("B642BIN", 1, lambda s: s and base64.b64decode(s))

    return prepare
"""


def project(path: Path, migrations: Path, *, database: str | None = None, **files: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    toml = f'migrations_dir = "{migrations}"\n'
    if database:
        toml += f'database = "{database}"\n'
    (path / "covet.toml").write_text(toml)
    (path / "test_migrations.py").write_text(STAR)
    for name, text in files.items():
        (path / name.replace("__", ".")).write_text(textwrap.dedent(text))
    return path


def start_pytest(path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``pytest`` started in ``path`` as a user would run it, with no covet variables set."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COVET_")}
    environ.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={path / 'report.xml'}", "test_migrations.py", *args],
        cwd=path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ,
    )  # fmt: skip


def outcomes(path: Path, process: subprocess.Popen) -> dict[str, tuple[str, str]]:
    """``{test name: (outcome, message)}`` once the ``pytest`` in ``path`` has finished."""
    output, _ = process.communicate(timeout=300)
    report = path / "report.xml"
    assert report.exists(), output
    found = {}
    # The report is the one our own pytest run just wrote, not outside input.
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
        child = next(iter(case), None)
        outcome = "passed" if child is None or child.tag == "system-out" else child.tag
        message = "" if child is None else (child.get("message") or "") + (child.text or "")
        found[case.get("name", "")] = (outcome, message)
    return found


def pytest_in(
    path: Path, *args: str, env: dict[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    return outcomes(path, start_pytest(path, *args, env=env))


def quickstart(tmp_path: Path) -> Path:
    work = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", work, ignore=shutil.ignore_patterns("*.db*"))
    (work / "test_migrations.py").write_text(STAR)
    return work


def test_quickstart_passes_and_never_touches_its_configured_database(tmp_path: Path) -> None:
    work = quickstart(tmp_path)
    (work / "models.py").write_text(QUICKSTART_MODELS)
    (work / "test_data.py").write_text(
        textwrap.dedent("""
        from covet_core.testing import asynctest


        @asynctest
        async def test_admin_is_seeded(covet_migrated_to):
            adapter = await covet_migrated_to("2024_10_11_153000_add_user_email_index")
            await adapter.execute("INSERT INTO users (username) VALUES (?)", ("ann",))
            adapter = await covet_migrated_to("2024_10_12_090000_seed_admin_user")
            rows = await adapter.fetch_all("SELECT username, is_admin FROM users ORDER BY id")
            assert [tuple(r.values()) for r in rows] == [("ann", 0), ("admin", 1)]
            # Back down again: the seed's backward removes its admin, not ann.
            adapter = await covet_migrated_to("2024_10_11_150000_create_users")
            rows = await adapter.fetch_all("SELECT username FROM users")
            assert [tuple(r.values()) for r in rows] == [("ann",)]
        """)
    )
    found = pytest_in(work, "test_data.py", "--covet-models", "models")
    assert found[APPLY][0] == found[DOWN][0] == found[MODELS][0] == "passed", found
    assert found["test_admin_is_seeded"][0] == "passed", found
    if importlib.util.find_spec("covet_core.lint") is None:
        assert found[LINT][0] == "skipped" and "no linter" in found[LINT][1], found
    else:  # once covet has its linter, the quickstart must pass it
        assert found[LINT][0] == "passed", found
    # The base URL was the configured sqlite:///quickstart.db; it was never opened.
    assert not list(work.glob("quickstart.db*"))


def test_a_down_that_forgets_an_index_and_drifted_models_fail_naming_them(tmp_path: Path) -> None:
    work = quickstart(tmp_path)
    index = work / "migrations" / "2024_10_11_153000_add_user_email_index.py"
    # A down that does something, but not the drop: not merely irreversible (that is skipped).
    index.write_text(index.read_text().replace("DROP INDEX idx_user_email", "SELECT 1"))
    (work / "models.py").write_text(QUICKSTART_MODELS.replace("String(255)", "String(320)"))
    found = pytest_in(work, "--covet-models", "models.py")
    assert found[APPLY][0] == "passed", found
    outcome, message = found[DOWN]
    assert outcome == "failure", found
    assert "the down of 2024_10_11_153000_add_user_email_index does not restore" in message
    assert "idx_user_email" in message
    outcome, message = found[MODELS]
    assert outcome == "failure" and "users.email" in message and "320" in message, found


def test_a_migration_that_does_not_apply_is_named(tmp_path: Path) -> None:
    work = quickstart(tmp_path)
    seed = work / "migrations" / "2024_10_12_090000_seed_admin_user.py"
    seed.write_text(seed.read_text().replace("ADD COLUMN is_admin", "ADD COLUMN username"))
    found = pytest_in(work)
    outcome, message = found[APPLY]
    assert outcome == "failure" and "2024_10_12_090000_seed_admin_user does not apply" in message
    assert "(after 2 that did)" in message


def test_an_unstable_up_down_up_is_named(tmp_path: Path) -> None:
    # The down restores the schema, but each up makes a table with a new name.
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "2024_01_01_000000_a.py").write_text(
        textwrap.dedent("""
        import uuid

        from covet_core.migration import Migration


        class M(Migration):
            async def forward(self, adapter):
                await adapter.execute(f"CREATE TABLE t_{uuid.uuid4().hex[:8]} (id INTEGER)")

            async def backward(self, adapter):
                rows = await adapter.fetch_all(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 't!_%' "
                    "ESCAPE '!'"
                )
                for row in rows:
                    await adapter.execute(f"DROP TABLE {row['name']}")
        """)
    )
    work = project(tmp_path / "p", migrations)
    found = pytest_in(work, "--covet-url", "sqlite:///base.db")
    outcome, message = found[DOWN]
    assert outcome == "failure", found
    assert "up → down → up of 2024_01_01_000000_a is not stable" in message, message
    assert "create table t_" in message and "drop table t_" in message, message


def test_without_a_database_it_skips_and_fails_under_ci(tmp_path: Path) -> None:
    work = project(tmp_path / "p", tmp_path)
    (work / ".git").mkdir()  # the settings search stops here, as in a user's repository
    (work / "covet.toml").unlink()
    found = pytest_in(work, env={"CI": "false"})
    assert {o for o, _ in found.values()} == {"skipped"}
    assert "pass --covet-url URL, set COVET_TEST_URL" in found[APPLY][1]
    found = pytest_in(work, env={"CI": "true"})
    assert found[APPLY][0] == "error" and "CI=true requires it" in found[APPLY][1]


def test_the_lint_test_fails_on_findings_at_error_level(tmp_path: Path) -> None:
    # A stand-in for covet_core.lint with the interface the lint test calls: lint(migrations,
    # dialect) -> a report whose at_or_above("error") lists findings. The database is real.
    work = quickstart(tmp_path)
    (work / "conftest.py").write_text(
        textwrap.dedent("""
        import importlib.machinery
        import sys
        import types
        from dataclasses import dataclass

        linter = types.ModuleType("covet_core.lint")
        linter.__spec__ = importlib.machinery.ModuleSpec("covet_core.lint", None)


        @dataclass
        class Finding:
            migration: str
            line: int
            rule: str
            message: str


        class Report:
            def __init__(self, migrations):
                self.migrations = migrations

            def at_or_above(self, level):
                assert level == "error"
                return [Finding(m.name, 1, "blocking-index", "locks writes") for m in
                        self.migrations if "index" in m.name]


        async def lint(migrations, dialect):
            return Report(migrations)


        linter.lint = lint
        sys.modules["covet_core.lint"] = linter
        """)
    )
    found = pytest_in(work)
    outcome, message = found[LINT]
    assert outcome == "failure", found
    assert "1 lint finding(s) at error level" in message
    assert "2024_10_11_153000_add_user_email_index:1 [blocking-index] locks writes" in message


def test_ini_options_name_the_config_and_the_test_url(tmp_path: Path) -> None:
    work = quickstart(tmp_path)
    (work / "config").mkdir()
    (work / "covet.toml").rename(work / "config" / "covet.toml")
    # A variable only production sets: unused, and not expanded, when a test URL is given.
    (work / "config" / "covet.toml").write_text(
        'migrations_dir = "../migrations"\ndatabase = "${PRODUCTION_ONLY_URL}"\n'
    )
    (work / "pytest.ini").write_text(
        "[pytest]\ncovet_config = config/covet.toml\ncovet_test_url = sqlite:///base.db\n"
        "covet_models = models\n"
    )
    (work / "models.py").write_text(QUICKSTART_MODELS)
    found = pytest_in(work)
    assert found[APPLY][0] == found[DOWN][0] == found[MODELS][0] == "passed", found


def test_an_unusable_server_is_named_without_its_password(tmp_path: Path) -> None:
    work = project(tmp_path / "p", tmp_path)
    url = "postgresql://covet:s3cret-pw@127.0.0.1:9/test"  # port 9: nothing listens there
    found = pytest_in(work, env={"COVET_TEST_URL": url, "CI": "false"})
    outcome, message = found[APPLY]
    assert outcome == "skipped", found
    assert (
        "cannot make a scratch database next to postgresql://covet:***@127.0.0.1:9/test" in message
    )
    assert "(COVET_TEST_URL)" in message
    assert all("s3cret-pw" not in m for _, m in found.values())


# What the project tests find on the shared corpora. Each expected failure is a real property
# of the project's files on this machine's servers (reported in CHANGELOG), not a covet bug.
CORPORA = {
    ("authelia", "postgresql"): {
        # V0002's down renames totp_configurations aside and creates its unique index again,
        # but the old index went with the renamed table: it works only after V0007's down.
        DOWN: ("V0002.WebAuthn", 'relation "totp_configurations_username_key" already exists')
    },
    ("authelia", "sqlite"): {
        # V0007 fixes a foreign key's name (subjct -> subject); its down keeps the fixed name.
        DOWN: ("V0007.ConsistencyFixes", "oauth2_consent_preconfiguration_subjct_fkey")
    },
    ("authelia", "mysql"): {
        # V0002's up leaves _bkp_UP_V0002_* tables behind on MySQL; V0007 drops them and its
        # down does not bring them back.
        DOWN: ("V0007.ConsistencyFixes", "_bkp_UP_V0002_totp_configurations")
    },
    ("openfga", "postgresql"): {},
    ("openfga", "sqlite"): {},
    ("openfga", "mysql"): {
        # 007 uses MySQL 8's DROP INDEX ... LOCK = NONE, which MariaDB rejects.
        APPLY: ("007_collate_object_id", "LOCK = NONE"),
        DOWN: ("007_collate_object_id", "LOCK = NONE"),
    },
}
CORPUS_DIRS = {
    "authelia": ("authelia", "internal", "storage", "migrations"),
    "openfga": ("openfga", "assets", "migrations"),
}


Run = tuple[Path, subprocess.Popen]


@pytest.fixture(scope="module", autouse=True)
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], Run]]:
    """Every corpus case's pytest, started when this module's first test starts: they wait on
    the servers more than on the CPU, so they run while the other tests do, and together take
    about as long as the slowest one."""
    started = {}
    for name, dialect in CORPORA:
        path = CORPUS.joinpath(*CORPUS_DIRS[name], FOLDER[dialect])
        if not path.is_dir():
            continue  # test_the_corpora skips or fails it through corpus()
        files = {"conftest__py": AUTHELIA_SQLITE_CONFTEST} if dialect == "sqlite" else {}
        url = SERVERS[dialect] if dialect != "sqlite" else "sqlite:///base.db"
        work = project(tmp_path_factory.mktemp(f"{name}-{dialect}"), path, **files)
        started[(name, dialect)] = (work, start_pytest(work, "--covet-url", url))
    yield started
    for _, process in started.values():
        # Waited for, not killed, when a test did not collect it (-k, -x): a killed run would
        # leave its scratch database on the server.
        process.communicate(timeout=300)


@pytest.mark.parametrize("name, dialect", list(CORPORA), ids=lambda v: str(v))
def test_the_corpora(name: str, dialect: str, corpus_runs: dict[tuple[str, str], Run]) -> None:
    corpus(*CORPUS_DIRS[name], FOLDER[dialect])  # skips, or fails under CI, when absent
    found = outcomes(*corpus_runs[(name, dialect)])
    if any("cannot make a scratch database" in m for _, m in found.values()):
        pytest.skip(f"{dialect} server unreachable: {found}")
    expected = CORPORA[(name, dialect)]
    if importlib.util.find_spec("covet_core.lint") is not None:
        # Linted statically as one run from an empty database: nothing at error level.
        assert found[LINT][0] == "passed", found[LINT]
    for test in (APPLY, DOWN):
        outcome, message = found[test]
        if test in expected:
            culprit, detail = expected[test]
            assert outcome == "failure", (test, found[test])
            assert culprit in message and detail in message, message
        else:
            assert outcome == "passed", (test, message)


async def test_differences_name_views_left_behind_missing_and_redefined(adapter, target):
    # Views are not in the schema model: a down that forgets one must still be named.
    from covet_core.config import Settings
    from covet_core.plugins import Plugins
    from covet_core.testing.project_setup import Project, differences, read_schema

    project = Project(Settings(), target.url, "test", target.dialect, Plugins.load())
    q = target.dialect.quote
    await adapter.execute(
        f"CREATE TABLE {q('t')} ({q('id')} INTEGER PRIMARY KEY, {q('n')} INTEGER)"
    )
    before = await read_schema(adapter, project)
    await adapter.execute(f"CREATE VIEW {q('v')} AS SELECT {q('id')} FROM {q('t')}")
    with_view = await read_schema(adapter, project)
    assert differences(before, before, project) == []
    assert differences(with_view, before, project) == ["drop view v (left behind)"]
    missing = differences(before, with_view, project)
    assert len(missing) == 1 and missing[0].startswith("create view v"), missing
    await adapter.execute(f"DROP VIEW {q('v')}")
    await adapter.execute(f"CREATE VIEW {q('v')} AS SELECT {q('id')}, {q('n')} FROM {q('t')}")
    redefined = differences(await read_schema(adapter, project), with_view, project)
    if any(c.name == "v" for c in with_view.carried):  # the reader keeps its definition
        assert len(redefined) == 1 and redefined[0].startswith("view v: defined as"), redefined
    else:  # only its name: a view changed in place is not seen (docs/testing.md says so)
        assert redefined == []
