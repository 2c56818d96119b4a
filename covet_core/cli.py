"""The ``covet`` command line: global options, error handling, ``init`` and ``plugins``.

Migration commands live in ``cli_migrate``. Exit codes: 0 ok, 1 a migration failed (or
``validate`` found problems), 2 usage or configuration error.
"""

from __future__ import annotations

import logging
import math
import sys
import traceback
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from covet_core.config import CONFIG_FILE, Settings, load_settings
from covet_core.errors import ConfigError, CovetError
from covet_core.escaping import one_line
from covet_core.plugins import Plugins


@dataclass
class State:
    database: str | None = None
    config_file: str | None = None
    migrations_dir: str | None = None
    verbose: int = 0
    log_format: str = "console"
    preloaded: Plugins | None = field(default=None, repr=False)
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def json(self) -> bool:
        return self.log_format == "json"

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(
                database=self.database,
                config_file=self.config_file,
                migrations_dir=self.migrations_dir,
            )
        return self._settings

    def plugins(self, *extra: object) -> Plugins:
        """The process's plugins (loaded once by ``main``), with ``extra`` registered on top."""
        from covet_core.plugins import Plugins

        if self.preloaded is None:
            return Plugins.load(extra)
        plugins, self.preloaded = self.preloaded, None
        for plugin in extra:
            plugins.pm.register(plugin)
        return plugins

    def say(self, message: str = "", **style: Any) -> None:
        """Human output: stdout in console mode, nothing in JSON mode (events carry it).

        Names from a database or a file may hold terminal controls; each line is shown with
        those escaped (callers escape newlines inside a name with ``one_line`` themselves).
        """
        if not self.json:
            click.secho("\n".join(map(one_line, message.split("\n"))), **style)


def say_error(error: object) -> None:
    """``error: <message>`` on stderr, as one line whatever the message holds."""
    click.secho(f"error: {one_line(str(error))}", fg="red", err=True)


def configure_logging(log_format: str, verbose: int) -> None:
    """The CLI, not the library, configures structlog (console on stderr, or JSON on stdout).

    Deferred to the first event, so commands that log nothing never import structlog.
    """
    from covet_core.log import set_setup

    set_setup(lambda: _apply_logging(log_format, verbose), _level(log_format, verbose))


def _level(log_format: str, verbose: int) -> int:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    return min(level, logging.INFO) if log_format == "json" else level


_REPORTED_BY_CLI = {"migration.failed", "command.failed", "migration.out_of_order"}


def _apply_logging(log_format: str, verbose: int) -> None:
    import structlog

    level = _level(log_format, verbose)
    if log_format == "json":
        renderer: Any = structlog.processors.JSONRenderer()
        stream = sys.stdout
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        stream = sys.stderr

    def drop_reported(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        # The console already shows these as the command's own "error:" / "✗" lines.
        if log_format == "console" and event.get("event") in _REPORTED_BY_CLI:
            raise structlog.DropEvent
        return event

    def escape_text(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        # Values may be names read from a database: no terminal controls reach stderr.
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = one_line(value)
        return event

    structlog.configure(
        processors=[
            drop_reported,
            *([escape_text] if log_format == "console" else []),
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )


class FiniteSeconds(click.ParamType):
    """A number of seconds >= 0; ``nan`` and ``inf`` would wait forever, so they are refused."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds < 0:
            self.fail(f"{value!r} is not a finite number of seconds >= 0", param, ctx)
        return seconds


class CovetGroup(click.Group):
    """Turns a ``CovetError`` into its one-line message and exit code (traceback with ``-v``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # The shell convention for "stopped by SIGINT" is 128 + 2. What was interrupted
            # reports its own state (a migration in a transaction was rolled back by it).
            click.secho("error: interrupted (Ctrl-C)", fg="red", err=True)
            ctx.exit(130)
        except CovetError as error:
            state = ctx.find_object(State)
            if state is not None and state.verbose:
                traceback.print_exc()
            if state is not None and state.json:
                from covet_core.log import get_logger

                get_logger().error("command.failed", error=str(error), kind=type(error).__name__)
            say_error(error)
            ctx.exit(error.exit_code)


@click.group(cls=CovetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database", metavar="URL", help="Database URL (no password here: use COVET_DATABASE_URL)."
)
@click.option(
    "--config", "config_file", metavar="FILE", help="Config file instead of ./covet.toml."
)
@click.option("--dir", "migrations_dir", metavar="DIR", help="Migrations folder.")
@click.option("-v", "--verbose", count=True, help="More log events; tracebacks on errors.")
@click.option(
    "--log-format",
    type=click.Choice(["console", "json"]),
    default="console",
    show_default=True,
    help="json: structlog JSON events on stdout, for pipelines.",
)
@click.version_option(package_name="covet", prog_name="covet")
@click.pass_context
def cli(
    ctx: click.Context,
    database: str | None,
    config_file: str | None,
    migrations_dir: str | None,
    verbose: int,
    log_format: str,
) -> None:
    """covet: async, plugin-based database migrations."""
    preloaded = ctx.obj if isinstance(ctx.obj, Plugins) else None
    ctx.obj = State(database, config_file, migrations_dir, verbose, log_format, preloaded)
    configure_logging(log_format, verbose)


@cli.command()
@click.pass_obj
def init(state: State) -> None:
    """Write a covet.toml for SQLite and create the migrations folder."""
    target = Path(state.config_file or CONFIG_FILE)
    if target.exists():
        raise ConfigError(f"{target} already exists; edit it instead")
    relative = Path(state.migrations_dir or "migrations")
    # Paths in a config file are relative to the file's folder, so create them there too.
    migrations = relative if relative.is_absolute() else target.parent / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# covet settings (docs/cli.md#configuration). Flags and COVET_DATABASE_URL override them.\n"
        'database = "sqlite:///covet.db"\n'
        f'migrations_dir = "{relative.as_posix()}"\n'
    )
    migrations.mkdir(parents=True, exist_ok=True)
    database = target.parent / "covet.db"
    state.say(f"Wrote {target} (SQLite database {database}) and {migrations}/")
    state.say("Next: covet migrate create create_users --forward '...' --backward '...'")


@cli.command("plugins")
@click.pass_obj
def plugins_command(state: State) -> None:
    """List discovered plugins with their distribution, version and hooks."""
    from covet_core.cli_output import print_plugins

    print_plugins(state, state.plugins())


def _set_global(attr: str) -> Any:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        state = ctx.find_object(State)
        if state is None or value is None or (attr == "verbose" and not value):
            return
        if attr == "verbose":
            state.verbose += value
        else:
            setattr(state, attr, value)
        if attr in ("verbose", "log_format"):
            configure_logging(state.log_format, state.verbose)

    return callback


def _global_options() -> list[click.Option]:
    """The global options again, for use after a command (``covet migrate up -v``)."""
    common: dict[str, Any] = {"expose_value": False, "hidden": True}
    return [
        click.Option(["--database"], callback=_set_global("database"), **common),
        click.Option(["--config"], callback=_set_global("config_file"), **common),
        click.Option(["--dir"], callback=_set_global("migrations_dir"), **common),
        click.Option(["-v", "--verbose"], count=True, callback=_set_global("verbose"), **common),
        click.Option(
            ["--log-format"],
            type=click.Choice(["console", "json"]),
            callback=_set_global("log_format"),
            **common,
        ),
    ]


def share_global_options(group: click.Group) -> None:
    """Let every command under ``group`` (plugins' too) take the global options as well."""
    for command in group.commands.values():
        taken = {opt for param in command.params for opt in param.opts}
        command.params.extend(o for o in _global_options() if not taken.intersection(o.opts))
        if isinstance(command, click.Group):
            share_global_options(command)


def _register_subcommands() -> None:
    import covet_core.cli_history  # noqa: F401  (adds repair, baseline, import to migrate)
    from covet_core.cli_backup import backup
    from covet_core.cli_check import check
    from covet_core.cli_data import data
    from covet_core.cli_generate import generate
    from covet_core.cli_lint import lint
    from covet_core.cli_migrate import migrate

    migrate.add_command(generate)
    migrate.add_command(check)
    migrate.add_command(lint)
    cli.add_command(migrate)
    cli.add_command(backup)
    cli.add_command(data)
    share_global_options(cli)


_register_subcommands()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: adds plugin commands, then runs the CLI."""
    from covet_core.plugins import Plugins

    try:
        plugins = Plugins.load()
        plugins.register_commands(cli)
        share_global_options(cli)
    except CovetError as error:
        say_error(error)
        sys.exit(error.exit_code)
    cli.main(args=argv, prog_name="covet", obj=plugins)
