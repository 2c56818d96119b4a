"""``covet migrate check``: the CI gate fails on pending, changed or partial migrations and on
models the database does not match, and passes (exit 0) only when all is in order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from conftest import Target, write_migration

MODEL = (
    "from covet_core.models import *\n\n\nclass Item(Model):\n    __tablename__ = 'items'\n"
    "    id = Column(Integer, primary_key=True)\n    name = Column(String(40))\n{extra}"
)


def test_check_passes_only_when_nothing_is_pending_changed_or_missing_from_the_models(
    target: Target, run: Callable[..., Result], tmp_path: Path
) -> None:
    env = {**target.env, "COVET_MIGRATIONS_DIR": str(tmp_path / "m")}
    (tmp_path / "m").mkdir()
    (tmp_path / "models_same.py").write_text(MODEL.format(extra=""))
    (tmp_path / "models_more.py").write_text(
        MODEL.format(extra="    qty = Column(Integer, nullable=True)\n")
    )
    assert run("migrate", "generate", "items", "--models", "models_same.py", env=env).exit_code == 0

    pending = run("migrate", "check", "--models", "models_same.py", env=env)
    assert pending.exit_code == 1
    assert "pending: " in pending.output and "models not compared" in pending.output

    assert run("migrate", "up", env=env).exit_code == 0
    clean = run("migrate", "check", "--models", "models_same.py", env=env)
    assert clean.exit_code == 0, clean.output
    assert "OK: 1 applied, none pending, files unchanged, models match the database" in clean.output

    differ = run("migrate", "check", "--models", "models_more.py", env=env)
    assert differ.exit_code == 1
    assert "models differ: " in differ.output and "qty" in differ.output
    assert "covet migrate generate NAME --models models_more.py" in differ.output


def test_check_without_models_on_an_empty_history(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    env = {"COVET_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    (tmp_path / "migrations").mkdir()
    assert run("migrate", "check", env=env).exit_code == 0
    write_migration(tmp_path / "migrations", "2024_01_01_000000_a", ["CREATE TABLE a (id INT)"])
    result = run("migrate", "check", env=env)
    assert result.exit_code == 1 and "pending: 2024_01_01_000000_a" in result.output
    assert not (tmp_path / "a.db").exists()  # checking creates nothing
    assert run("migrate", "up", env=env).exit_code == 0
    assert run("migrate", "check", env=env).exit_code == 0
    write_migration(tmp_path / "migrations", "2024_01_01_000000_a", ["CREATE TABLE a (id BIGINT)"])
    changed = run("migrate", "check", env=env)
    assert changed.exit_code == 1 and "was changed after it was applied" in changed.output
