"""Settings: flags > environment > covet.toml > [tool.covet], key by key (never the real env)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from covet_core.config import KEYS, Settings, load_settings, redact_url
from covet_core.errors import ConfigError

PYPROJECT = """\
[project]
name = "app"

[tool.covet]
database = "sqlite:///py.db"
migrations_dir = "py_migrations"
lock_timeout = 7
history_table = "py_history"
"""

COVET_TOML = """\
database = "sqlite:///toml.db"
migrations_dir = "toml_migrations"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(cwd: Path, env: dict[str, str] | None = None, **flags: Any) -> Settings:
    return load_settings(cwd=cwd, env=env or {}, **flags)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "pyproject.toml", PYPROJECT)
    write(tmp_path / "covet.toml", COVET_TOML)
    return tmp_path


# -- precedence -------------------------------------------------------------------------------


def test_files_merge_key_by_key(project: Path) -> None:
    settings = load(project)
    assert settings.database == "sqlite:///toml.db"
    assert settings.migrations_dir == project / "toml_migrations"
    assert settings.lock_timeout == 7.0
    assert settings.history_table == "py_history"
    toml, pyproject = str(project / "covet.toml"), str(project / "pyproject.toml")
    assert settings.sources == {
        "database": toml,
        "migrations_dir": toml,
        "lock_timeout": pyproject,
        "history_table": pyproject,
    }


def test_pyproject_alone(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", PYPROJECT)
    settings = load(tmp_path)
    assert settings.database == "sqlite:///py.db"
    assert settings.migrations_dir == tmp_path / "py_migrations"
    assert settings.sources["database"] == str(tmp_path / "pyproject.toml")


def test_pyproject_without_tool_covet_is_ignored(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "app"\n[tool.other]\nx = 1\n')
    settings = load(tmp_path)
    assert settings.database is None
    assert settings.sources == {}


@pytest.mark.parametrize(
    ("env", "flags", "database", "db_source", "migrations", "migrations_source"),
    [
        pytest.param(
            {"COVET_DATABASE_URL": "sqlite:///env.db"},
            {},
            "sqlite:///env.db",
            "env",
            "toml_migrations",
            "covet.toml",
            id="env-database",
        ),
        pytest.param(
            {"COVET_MIGRATIONS_DIR": "env_migrations"},
            {},
            "sqlite:///toml.db",
            "covet.toml",
            "env_migrations",
            "env",
            id="env-migrations-dir",
        ),
        pytest.param(
            {"COVET_DATABASE_URL": "sqlite:///env.db", "COVET_MIGRATIONS_DIR": "env_migrations"},
            {"database": "sqlite:///flag.db", "migrations_dir": "flag_migrations"},
            "sqlite:///flag.db",
            "flag",
            "flag_migrations",
            "flag",
            id="flags-beat-env",
        ),
        pytest.param(
            {"COVET_DATABASE_URL": "sqlite:///env.db"},
            {"migrations_dir": "flag_migrations"},
            "sqlite:///env.db",
            "env",
            "flag_migrations",
            "flag",
            id="mixed",
        ),
    ],
)
def test_precedence(
    project: Path,
    env: dict[str, str],
    flags: dict[str, str],
    database: str,
    db_source: str,
    migrations: str,
    migrations_source: str,
) -> None:
    settings = load(project, env, **flags)

    def where(source: str) -> str:
        return str(project / source) if source.endswith(".toml") else source

    assert settings.database == database
    assert settings.sources["database"] == where(db_source)
    assert settings.migrations_dir == project / migrations
    assert settings.sources["migrations_dir"] == where(migrations_source)
    # Keys nobody overrode still come from the lowest layer.
    assert settings.lock_timeout == 7.0
    assert settings.sources["lock_timeout"] == str(project / "pyproject.toml")


def test_empty_env_value_is_ignored(project: Path) -> None:
    settings = load(project, {"COVET_DATABASE_URL": "", "COVET_MIGRATIONS_DIR": ""})
    assert settings.database == "sqlite:///toml.db"
    assert settings.migrations_dir == project / "toml_migrations"


# -- relative paths ---------------------------------------------------------------------------


def test_paths_from_config_file_are_relative_to_its_folder(tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    write(cwd / "covet.toml", 'database = "sqlite:///ignored.db"\n')
    config = write(
        tmp_path / "conf" / "settings.toml",
        'database = "sqlite:///app.db"\nmigrations_dir = "migs"\nbackup_dir = "bk"\n',
    )
    settings = load(cwd, config_file="../conf/settings.toml")
    assert settings.database == "sqlite:///app.db"
    assert settings.database_base_dir == config.parent
    assert settings.migrations_dir == config.parent / "migs"
    assert settings.backup_dir == config.parent / "bk"
    assert settings.sources["migrations_dir"] == str(config)


def test_default_migrations_dir_follows_the_config_file(tmp_path: Path) -> None:
    config = write(tmp_path / "conf" / "covet.toml", 'database = "sqlite:///app.db"\n')
    settings = load(tmp_path / "work", config_file=config)
    assert settings.migrations_dir == config.parent / "migrations"
    assert "migrations_dir" not in settings.sources


@pytest.mark.parametrize(
    ("env", "flags"),
    [
        ({"COVET_MIGRATIONS_DIR": "here"}, {}),
        ({}, {"migrations_dir": "here"}),
    ],
)
def test_flag_and_env_paths_are_relative_to_cwd(
    tmp_path: Path, env: dict[str, str], flags: dict[str, str]
) -> None:
    config = write(tmp_path / "conf" / "covet.toml", 'migrations_dir = "migs"\n')
    cwd = tmp_path / "work"
    settings = load(
        cwd, {**env, "COVET_DATABASE_URL": "sqlite:///x.db"}, config_file=config, **flags
    )
    assert settings.migrations_dir == cwd / "here"
    assert settings.database_base_dir == cwd


@pytest.mark.parametrize("content", [None, 'history_table = "h"\n'])
def test_default_migrations_dir(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        write(tmp_path / "covet.toml", content)
    settings = load(tmp_path)
    assert settings.migrations_dir == tmp_path / "migrations"
    assert settings.database is None
    assert "migrations_dir" not in settings.sources


# -- ${VAR} in database -----------------------------------------------------------------------


def test_database_expands_variables_from_the_given_env(tmp_path: Path) -> None:
    write(tmp_path / "covet.toml", 'database = "postgresql://app:${DB_PASS}@${DB_HOST}/app"\n')
    settings = load(tmp_path, {"DB_PASS": "pw", "DB_HOST": "db.internal"})
    assert settings.database == "postgresql://app:pw@db.internal/app"


def test_missing_variable_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVET_TEST_DB_HOST", "from-the-real-environment")
    path = write(tmp_path / "covet.toml", 'database = "postgresql://u@${COVET_TEST_DB_HOST}/app"\n')
    with pytest.raises(ConfigError) as info:
        load(tmp_path, {})
    assert "${COVET_TEST_DB_HOST}" in str(info.value)
    assert "not set" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("env", "flags"),
    [({"COVET_DATABASE_URL": "sqlite:///env.db"}, {}), ({}, {"database": "sqlite:///flag.db"})],
)
def test_overridden_database_does_not_need_its_variables(
    tmp_path: Path, env: dict[str, str], flags: dict[str, str]
) -> None:
    write(tmp_path / "covet.toml", 'database = "${DEV_DATABASE_URL}"\n')
    settings = load(tmp_path, env, **flags)
    assert settings.database in ("sqlite:///env.db", "sqlite:///flag.db")


# -- invalid files ----------------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["covet.toml", "pyproject.toml"])
def test_unknown_key_lists_the_known_ones(tmp_path: Path, filename: str) -> None:
    body = 'databse = "sqlite:///x.db"\n'
    if filename == "pyproject.toml":
        body = "[tool.covet]\n" + body
    path = write(tmp_path / filename, body)
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "databse" in message and str(path) in message
    for key in KEYS:
        assert key in message


@pytest.mark.parametrize(
    "line",
    [
        "database = 5",
        'migrations_dir = ["a", "b"]',
        'lock_timeout = "10"',
        "lock_timeout = true",
        "history_table = 1",
        "backup = {}",
    ],
)
def test_wrong_type(tmp_path: Path, line: str) -> None:
    path = write(tmp_path / "covet.toml", line + "\n")
    with pytest.raises(ConfigError, match="wrong type") as info:
        load(tmp_path)
    assert line.split(" ")[0] in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("filename", ["covet.toml", "pyproject.toml"])
def test_invalid_toml_names_the_file(tmp_path: Path, filename: str) -> None:
    path = write(tmp_path / filename, "database = \n[[[\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        load(tmp_path)
    assert str(path) in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as info:
        load(tmp_path, config_file="conf/nope.toml")
    assert "conf/nope.toml" in str(info.value)


def test_tool_covet_that_is_not_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool]\ncovet = 3\n")
    with pytest.raises(ConfigError):
        load(tmp_path)


# -- lock_timeout -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("0", 0.0), ("2.5", 2.5), ("30", 30.0)])
def test_lock_timeout_values(tmp_path: Path, value: str, expected: float) -> None:
    write(tmp_path / "covet.toml", f"lock_timeout = {value}\n")
    assert load(tmp_path).lock_timeout == expected


@pytest.mark.parametrize("value", ["-1", "-0.5"])
def test_negative_lock_timeout(tmp_path: Path, value: str) -> None:
    path = write(tmp_path / "covet.toml", f"lock_timeout = {value}\n")
    with pytest.raises(ConfigError, match="lock_timeout") as info:
        load(tmp_path)
    assert str(path) in str(info.value)


def test_nan_lock_timeout(tmp_path: Path) -> None:
    write(tmp_path / "covet.toml", "lock_timeout = nan\n")
    with pytest.raises(ConfigError, match="lock_timeout"):
        load(tmp_path)


# -- database URL and secrets -----------------------------------------------------------------


def test_require_database_without_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path).require_database()
    assert "COVET_DATABASE_URL" in str(info.value)
    assert "covet init" in str(info.value)


def test_require_database_returns_the_url(tmp_path: Path) -> None:
    settings = load(tmp_path, {"COVET_DATABASE_URL": "sqlite:///app.db"})
    assert settings.require_database() == "sqlite:///app.db"


def test_password_in_database_flag_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COVET_DATABASE_URL") as info:
        load(tmp_path, database="postgresql://app:hunter2@db/app")
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value.args)


def test_database_flag_without_password_is_accepted(tmp_path: Path) -> None:
    settings = load(tmp_path, database="postgresql://app@db/app")
    assert settings.database == "postgresql://app@db/app"
    assert settings.sources["database"] == "flag"
    assert settings.database_base_dir == tmp_path


def test_password_in_env_is_allowed(tmp_path: Path) -> None:
    settings = load(tmp_path, {"COVET_DATABASE_URL": "postgresql://app:hunter2@db/app"})
    assert settings.database == "postgresql://app:hunter2@db/app"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:s3cret@h/db", "postgresql://u:***@h/db"),
        (
            "postgresql://u:s3cret@h:5432/db?sslmode=require",
            "postgresql://u:***@h:5432/db?sslmode=require",
        ),
        ("mysql://u:p@ss@h/db", "mysql://u:***@h/db"),
    ],
)
def test_redact_url_hides_the_password(url: str, expected: str) -> None:
    redacted = redact_url(url)
    assert redacted == expected
    assert "s3cret" not in redacted and "p@ss" not in redacted


@pytest.mark.parametrize(
    "url", ["sqlite:///app.db", "sqlite:///:memory:", "postgresql://u@h/db", "postgresql://h/db"]
)
def test_redact_url_leaves_urls_without_password(url: str) -> None:
    assert redact_url(url) == url
