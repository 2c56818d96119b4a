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
}

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
    database_base_dir: Path | None = None
    """Folder a relative SQLite path in ``database`` is relative to."""
    sources: dict[str, str] = field(default_factory=dict)
    """Where each setting came from: ``flag``, ``env``, or a file path."""

    def require_database(self) -> str:
        if not self.database:
            raise ConfigError(
                "no database configured: pass --database URL, set COVET_DATABASE_URL, or put "
                'database = "sqlite:///app.db" in covet.toml (`covet init` writes one)'
            )
        return self.database


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe for logs and messages)."""
    parts = urlsplit(url)
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
        if not isinstance(value, KEYS[key]) or (isinstance(value, bool) and key != "backup"):
            raise ConfigError(f"{section}{path}: {key} has the wrong type ({value!r})")
    return data


def _expand(value: str, origin: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ConfigError(f"{origin}: database refers to ${{{name}}}, which is not set")
        return env[name]

    return _VAR.sub(replace, value)


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
        if not path.is_file():
            raise ConfigError(f"config file {config_file} does not exist")
        layers.append((_file_layer(path), path.parent, str(path)))
    else:
        # Lowest first: pyproject's [tool.covet], then covet.toml overrides it key by key.
        for name in ("pyproject.toml", CONFIG_FILE):
            path = cwd / name
            if path.is_file():
                layers.append((_file_layer(path), cwd, str(path)))
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
    if env.get(ENV_MIGRATIONS_DIR):
        settings.migrations_dir = cwd / env[ENV_MIGRATIONS_DIR]
        settings.sources["migrations_dir"] = "env"
    if database is not None:
        if urlsplit(database).password:
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
