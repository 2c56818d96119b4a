"""The plugin manager: a fresh one per test, built-ins through entry points, clear errors."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from covet_core import hookimpl
from covet_core.dialect import Dialect
from covet_core.errors import DuplicateNameError, PluginError, UnknownNameError
from covet_core.plugins import AUTOLOAD_ENV, Plugins, build_plugin_manager
from covet_core.schema import Column, ColumnType, CreateTable, DropTable, Table
from covet_core.schema.renames import RenameCandidate


def test_builtins_load_through_entry_points() -> None:
    plugins = Plugins.load()
    infos = {info.name: info for info in plugins.describe()}
    assert infos["sqlite"].distribution == "covet"
    assert infos["sqlite"].version not in ("", "-")
    assert "covet_register_dialects" in infos["sqlite"].hooks
    assert "covet_register_lock_strategies" in infos["table-lock"].hooks
    assert "sqlite" in plugins.dialects.names()
    assert {"table", "sqlite_file"} <= set(plugins.lock_strategies.names())
    assert plugins.dialects.owner("sqlite") == "sqlite"


def test_each_manager_is_independent() -> None:
    class Extra:
        @hookimpl
        def covet_register_lock_strategies(self, register: Any) -> None:
            register("extra", lambda **kw: None)

    with_extra = Plugins.load([Extra()])
    without = Plugins.load()
    assert "extra" in with_extra.lock_strategies
    assert "extra" not in without.lock_strategies
    assert with_extra.pm is not without.pm
    info = next(
        i
        for i in with_extra.describe()
        if "covet_register_lock_strategies" in i.hooks and i.distribution.startswith("(")
    )
    assert info.version == "-"


def test_duplicate_dialect_names_both_plugins() -> None:
    sqlite = Plugins.load().dialect("sqlite")

    class Impostor:
        @hookimpl
        def covet_register_dialects(self, register: Any) -> None:
            register(replace(sqlite, description="impostor"))

    plugins = Plugins.load([Impostor()])
    with pytest.raises(
        DuplicateNameError, match=r"'sqlite' is registered twice, by plugin 'sqlite' and by"
    ):
        _ = plugins.dialects


def test_registering_a_non_dialect_is_an_error() -> None:
    class Wrong:
        @hookimpl
        def covet_register_dialects(self, register: Any) -> None:
            register("postgresql")

    with pytest.raises(PluginError, match="not a Dialect"):
        _ = Plugins.load([Wrong()]).dialects


def test_unknown_names_list_what_is_installed() -> None:
    plugins = Plugins.load()
    with pytest.raises(UnknownNameError, match=r"unknown dialect 'oracle'; installed: .*sqlite"):
        plugins.dialect("oracle")
    with pytest.raises(UnknownNameError, match=r"unknown backup strategy 'tape'; installed: "):
        plugins.backup_strategies.get("tape")
    with pytest.raises(UnknownNameError, match=r"oracle://.*installed schemes: .*sqlite"):
        plugins.dialect_for_url("oracle://h/db")


def test_misspelt_hookimpl_fails_at_start_up() -> None:
    class Typo:
        @hookimpl
        def covet_register_dialect(self, register: Any) -> None:  # missing "s"
            pass

    with pytest.raises(PluginError, match="unknown hook"):
        build_plugin_manager([Typo()])


def test_disabling_autoload_keeps_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    plugins = Plugins.load()
    assert "sqlite" in plugins.dialects
    assert {i.distribution for i in plugins.describe()} == {"covet"}


def test_render_operation_first_result_and_override() -> None:
    sqlite = Plugins.load().dialect("sqlite")
    table = Table("t", (Column("id", ColumnType("integer"), nullable=False),), primary_key=("id",))
    sql = Plugins.load().render_operation(CreateTable(table, if_not_exists=True), sqlite)
    assert sql == [
        'CREATE TABLE IF NOT EXISTS "t" (\n    "id" INTEGER NOT NULL,\n    PRIMARY KEY ("id")\n)'
    ]

    class Override:
        @hookimpl(tryfirst=True)
        def covet_render_operation(self, operation: Any, dialect: Dialect) -> list[str] | None:
            if isinstance(operation, DropTable) and dialect.name == "sqlite":
                return [f"-- dropping {operation.name} carefully"]
            return None

    plugins = Plugins.load([Override()])
    assert plugins.render_operation(DropTable("t"), sqlite) == ["-- dropping t carefully"]
    assert plugins.render_operation(CreateTable(table), sqlite)[0].startswith('CREATE TABLE "t"')


def test_render_operation_with_no_renderer_is_an_error() -> None:
    other = replace(Plugins.load().dialect("sqlite"), name="nodb", renderer=None)
    with pytest.raises(PluginError, match="no plugin renders CreateTable for dialect 'nodb'"):
        Plugins.load().render_operation(CreateTable(Table("t", ())), other)


def test_identifiers_are_quoted_with_embedded_quotes_doubled() -> None:
    sqlite = Plugins.load().dialect("sqlite")
    table = Table('we"ird', (Column('co"l', ColumnType("text")),))
    sql = Plugins.load().render_operation(CreateTable(table), sqlite)[0]
    assert '"we""ird"' in sql and '"co""l" TEXT' in sql


def test_detect_renames_merges_every_plugins_candidates() -> None:
    class First:
        @hookimpl
        def covet_detect_renames(
            self, table: str, removed: list[Any], added: list[Any], dialect: Any
        ) -> list[Any]:
            return [RenameCandidate(table, removed[0][1].name, added[0][1].name, 0.99, "column")]

    class Second:
        @hookimpl
        def covet_detect_renames(
            self, table: str, removed: list[Any], added: list[Any]
        ) -> list[Any]:
            return [RenameCandidate(table, removed[0][1].name, added[0][1].name, 0.5, "column")]

    sqlite = Plugins.load().dialect("sqlite")
    text = ColumnType("string", length=50)
    found = Plugins.load([First(), Second()]).detect_renames(
        "users", [(1, Column("username", text))], [(1, Column("user_name", text))], sqlite
    )
    # the two plugins' proposals and the built-in heuristic's (same type, same letters)
    assert sorted((c.old, c.new, c.score) for c in found) == [
        ("username", "user_name", 0.5),
        ("username", "user_name", 0.99),
        ("username", "user_name", 1.0),
    ]


def test_backup_strategies_and_backup_created_event() -> None:
    seen: list[Any] = []

    class TeamBackup:
        @hookimpl
        def covet_register_backup_strategies(self, register: Any) -> None:
            register("team", lambda **kw: "strategy")

        @hookimpl
        def covet_backup_created(self, backup: Any) -> None:
            seen.append(backup)

    plugins = Plugins.load([TeamBackup()])
    assert plugins.backup_strategies.get("team")() == "strategy"
    plugins.backup_created("backup-info")
    assert seen == ["backup-info"]


def test_register_commands_adds_click_commands() -> None:
    import click
    from click.testing import CliRunner

    class Commands:
        @hookimpl
        def covet_register_commands(self, cli: click.Group) -> None:
            @cli.command("hello")
            def hello() -> None:
                click.echo("hello from a plugin")

    group = click.Group("covet")
    Plugins.load([Commands()]).register_commands(group)
    result = CliRunner().invoke(group, ["hello"])
    assert result.exit_code == 0 and result.output == "hello from a plugin\n"
