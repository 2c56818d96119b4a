"""Settings from flags, environment, ``covet.toml`` and ``[tool.covet]``, in that precedence.

Relative paths (the migrations folder, a SQLite file in the URL) are relative to the file that
named them, or to the working directory when they came from a flag or the environment.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from covet_core.errors import ConfigError
from covet_core.locking import DEFAULT_LOCK_TIMEOUT
from covet_core.urls import split_url

CONFIG_FILE = "covet.toml"
ENV_DATABASE = "COVET_DATABASE_URL"
ENV_MIGRATIONS_DIR = "COVET_MIGRATIONS_DIR"

KEYS: dict[str, type | tuple[type, ...]] = {
    "database": str,
    "migrations_dir": str,
    "lock": str,
    "lock_timeout": (int, float),
    "backup": (str, bool),
    "backup_dir": str,
    "backup_keep": int,
    "history_table": str,
    "out_of_order": str,
    "pooler": str,
    "max_replica_lag": (int, float),
    "replicas": list,
    "include_tables": list,
    "exclude_tables": list,
    "ddl_lock_timeout": (int, float, bool),
    "ddl_retries": int,
    "lint": str,
    "lint_large_table_rows": int,
}
OUT_OF_ORDER = ("allow", "warn", "refuse")
LINT_LEVELS = ("error", "warn", "off")
POOLERS = ("none", "session", "transaction")

_SECRET_PARAMS = {"password", "passwd", "pwd", "sslpassword", "secret", "token"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Settings:
    database: str | None = None
    migrations_dir: Path = Path("migrations")
    lock: str | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    backup: str | bool | None = None
    """A strategy name, or ``true`` for the dialect's default; ``false``/absent: no backup."""
    backup_dir: Path = Path("backups")
    backup_keep: int | None = None
    history_table: str | None = None
    out_of_order: str = "warn"
    max_replica_lag: float | None = None
    replicas: tuple[str, ...] = ()
    include_tables: tuple[str, ...] = ()
    """Globs of the tables ``generate`` and ``check --models`` compare (all when empty)."""
    exclude_tables: tuple[str, ...] = ()
    """Globs of tables the models do not own: never proposed for creation, change or drop."""
    """URLs of replicas data steps watch for ``max_replica_lag`` (``${VAR}`` expanded)."""
    ddl_lock_timeout: float | None = 5.0
    """Seconds a migration's statements wait for a table lock before the migration is rolled
    back and retried; ``false`` in covet.toml: as long as the server lets them."""
    ddl_retries: int = 3
    lint: str = "warn"
    """What ``migrate up`` does with lint findings: ``error`` refuses to apply on any error
    finding, ``warn`` prints them and applies, ``off`` skips the lint."""
    lint_large_table_rows: int = 100_000
    """From how many (estimated) rows a blocking statement on a table is an error."""
    """Seconds replicas may fall behind before data steps wait for them."""
    pooler: str | None = None
    """``transaction`` / ``session``: the database is reached through a connection pooler
    (PgBouncer); passed to the dialect as the URL option ``pooler`` (docs/topologies.md)."""
    """A pending migration older than the newest applied one: ``allow``, ``warn``, ``refuse``."""
    database_base_dir: Path | None = None
    """Folder a relative SQLite path in ``database`` is relative to."""
    sources: dict[str, str] = field(default_factory=dict)
    """Where each setting came from: ``flag``, ``env``, or a file path."""
    searched: str | None = None
    """Where settings files were looked for, when none was found."""

    def require_database(self) -> str:
        if not self.database:
            where = (
                f" (no covet.toml or pyproject.toml [tool.covet] in {self.searched})"
                if self.searched
                else ""
            )
            raise ConfigError(
                f"no database configured{where}: pass --database URL, set COVET_DATABASE_URL, "
                'or put database = "sqlite:///app.db" in covet.toml (`covet init` writes one)'
            )
        return self.database

    def require_migrations_dir(self) -> Path:
        """The migrations folder, which must exist: a mistyped ``--dir`` is an error, never an
        empty folder (every applied migration would look as if its file were gone)."""
        path = self.migrations_dir
        try:
            if path.exists():
                return path
        except OSError as exc:  # a name too long for the file system, ...
            raise ConfigError(f"migrations folder {path}: {exc.strerror}") from exc
        origin = self.sources.get("migrations_dir")
        where = {
            None: "the default, beside the config file or in the current directory",
            "flag": "from --dir",
            "env": f"from {ENV_MIGRATIONS_DIR}",
        }.get(origin, f"from migrations_dir in {origin}")
        raise ConfigError(
            f"migrations folder {path} does not exist ({where}); fix the path, or create the "
            f"folder (`covet migrate create` or `covet init` does)"
        )


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe for logs and messages)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a bad port raises here, not later in the middle of a message
    except ValueError:
        return "<an invalid URL>"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if parts.password is None and not any(k.lower() in _SECRET_PARAMS for k, _ in query):
        return url  # untouched: urlunsplit would also drop the // of sqlite:///
    if parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[-1]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    if query:
        masked = [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in query]
        parts = parts._replace(query="&".join(f"{k}={v}" for k, v in masked))
    return urlunsplit(parts)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8, as TOML requires"
        ) from exc
    except RecursionError:
        raise ConfigError(
            f"{path}: arrays or tables nested too deeply to read; covet settings are flat"
        ) from None


def _file_layer(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    section = "[tool.covet] of " if path.name == "pyproject.toml" else ""
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("covet", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: tool.covet must be a table ([tool.covet])")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"{section}{path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(KEYS))}"
        )
    for key, value in data.items():
        bools = ("backup", "ddl_lock_timeout")  # where true/false mean something
        if not isinstance(value, KEYS[key]) or (isinstance(value, bool) and key not in bools):
            raise ConfigError(f"{section}{path}: {key} has the wrong type ({value!r})")
        if isinstance(value, str) and "\x00" in value:
            raise ConfigError(f"{section}{path}: {key} contains a NUL character")
    if data.get("history_table") == "":
        raise ConfigError(f"{section}{path}: history_table must not be empty")
    return data


def _expand(value: str, origin: str, env: Mapping[str, str], key: str = "database") -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"{origin}: {key} refers to ${{{name}}}, which is not set")
        return env[name]

    return _VAR.sub(replace, value)


def _has_settings(path: Path) -> bool:
    if path.exists() and not path.is_file():
        # A folder named covet.toml is a mistake to report, not a reason to use other settings.
        raise ConfigError(f"{path} is not a file; remove it, or make it a TOML file")
    if not path.is_file():
        return False
    if path.name != "pyproject.toml":
        return True
    tool = _read_toml(path).get("tool")
    return isinstance(tool, dict) and "covet" in tool


def _project_layers(cwd: Path) -> tuple[list[tuple[dict[str, Any], Path, str]], str | None]:
    """The settings files of the nearest folder, from ``cwd`` upward, that has any, like git.

    The search stops at a repository's top (a folder with ``.git``) or the filesystem root.
    Returns the layers (lowest first: ``[tool.covet]``, then ``covet.toml`` key by key) and,
    when there are none, where it looked (for the "no database configured" message).
    """
    folder = cwd
    for folder in (cwd, *cwd.parents):
        # Lowest first: pyproject's [tool.covet], then covet.toml overrides it key by key.
        found = [folder / n for n in ("pyproject.toml", CONFIG_FILE) if _has_settings(folder / n)]
        if found:
            return [(_file_layer(path), folder, str(path)) for path in found], None
        if (folder / ".git").exists():
            break
    searched = str(cwd) if folder == cwd else f"{cwd} and its parents up to {folder}"
    return [], searched


def load_settings(
    *,
    database: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    migrations_dir: str | os.PathLike[str] | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers. ``database`` / ``migrations_dir`` / ``config_file`` are the flags."""
    cwd = cwd or Path.cwd()
    env = os.environ if env is None else env
    settings = Settings()
    layers: list[tuple[dict[str, Any], Path, str]] = []
    if config_file is not None:
        path = (cwd / config_file).resolve()
        if path.exists() and not path.is_file():
            raise ConfigError(
                f"config file {config_file} is not a file; give the path of a TOML file"
            )
        if not path.is_file():
            raise ConfigError(f"config file {config_file} does not exist")
        layers.append((_file_layer(path), path.parent, str(path)))
    else:
        layers, settings.searched = _project_layers(cwd)
    for data, base, origin in layers:
        for key, value in data.items():
            if key == "database":
                # Expanded only if no later layer overrides it (see below): a file may name a
                # variable that only exists where the file's value is actually used.
                settings.database = value
                settings.database_base_dir = base
            elif key in ("migrations_dir", "backup_dir"):
                setattr(settings, key, base / value)
            elif key == "backup_keep":
                if value < 1:
                    raise ConfigError(
                        f"{origin}: backup_keep must be at least 1 (the newest n backups are kept)"
                    )
                settings.backup_keep = value
            elif key == "out_of_order":
                if value not in OUT_OF_ORDER:
                    raise ConfigError(
                        f"{origin}: out_of_order must be one of {', '.join(OUT_OF_ORDER)}"
                    )
                settings.out_of_order = value
            elif key == "pooler":
                if value not in POOLERS:
                    raise ConfigError(f"{origin}: pooler must be one of {', '.join(POOLERS)}")
                settings.pooler = value
            elif key == "ddl_lock_timeout":
                if value is True or (value is not False and not 0 < value < math.inf):
                    raise ConfigError(
                        f"{origin}: ddl_lock_timeout must be a number of seconds > 0, or false"
                    )
                settings.ddl_lock_timeout = None if value is False else float(value)
            elif key == "lint":
                if value not in LINT_LEVELS:
                    raise ConfigError(f"{origin}: lint must be one of {', '.join(LINT_LEVELS)}")
                settings.lint = value
            elif key == "lint_large_table_rows":
                if value < 0:
                    raise ConfigError(f"{origin}: lint_large_table_rows must be 0 or more")
                settings.lint_large_table_rows = value
            elif key == "ddl_retries":
                if value < 0:
                    raise ConfigError(f"{origin}: ddl_retries must be 0 or more")
                settings.ddl_retries = value
            elif key == "max_replica_lag":
                if not math.isfinite(value) or value < 0:
                    raise ConfigError(f"{origin}: max_replica_lag must be a finite number >= 0")
                settings.max_replica_lag = float(value)
            elif key == "replicas":
                if not all(isinstance(url, str) and url and "\x00" not in url for url in value):
                    raise ConfigError(f"{origin}: replicas must be a list of database URLs")
                settings.replicas = tuple(_expand(url, origin, env, key) for url in value)
            elif key in ("include_tables", "exclude_tables"):
                if not all(isinstance(v, str) and v.strip() and "\x00" not in v for v in value):
                    raise ConfigError(f"{origin}: {key} must be a list of table names or globs")
                setattr(settings, key, tuple(value))
            elif key == "lock_timeout":
                if not math.isfinite(value) or value < 0:
                    raise ConfigError(f"{origin}: lock_timeout must be a finite number >= 0")
                settings.lock_timeout = float(value)
            else:
                setattr(settings, key, value)
            settings.sources[key] = origin
    if settings.database is not None and settings.sources.get("database") not in (
        None,
        "env",
        "flag",
    ):
        overridden = bool(env.get(ENV_DATABASE)) or database is not None
        if not overridden:
            settings.database = _expand(settings.database, settings.sources["database"], env)
    if env.get(ENV_DATABASE):
        settings.database, settings.database_base_dir = env[ENV_DATABASE], cwd
        settings.sources["database"] = "env"
    for origin, value in (
        ("--dir", migrations_dir),
        (ENV_MIGRATIONS_DIR, env.get(ENV_MIGRATIONS_DIR)),
    ):
        if value is not None and "\x00" in str(value):
            raise ConfigError(f"{origin} contains a NUL character")
    if env.get(ENV_MIGRATIONS_DIR):
        settings.migrations_dir = cwd / env[ENV_MIGRATIONS_DIR]
        settings.sources["migrations_dir"] = "env"
    if database is not None:
        if split_url(database).password:
            raise ConfigError(
                "do not put a password in --database: command lines are visible to every user "
                'of the machine; set COVET_DATABASE_URL, or use database = "${VAR}" in covet.toml'
            )
        settings.database, settings.database_base_dir = database, cwd
        settings.sources["database"] = "flag"
    if migrations_dir is not None:
        settings.migrations_dir = cwd / migrations_dir
        settings.sources["migrations_dir"] = "flag"
    if "migrations_dir" not in settings.sources:
        settings.migrations_dir = (layers[-1][1] if layers else cwd) / "migrations"
    return settings
