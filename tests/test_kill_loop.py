"""SIGKILL `covet migrate up` / `down` at random moments, recover as the error says, repeat.

After every round the history must equal the schema, read from the database's own catalog.
Each round: start a run, wait until it holds the lock (its log line), kill it after a seeded
random delay within the measured length of a run, wait until the server has finished what
the dead client left running, then follow the command that ``covet migrate validate`` (the
same text as the refusal of the next ``up`` / ``down``) prints (``covet migrate resolve ... --run``, choosing ``--in-doubt`` by looking at
the catalog) until the history is clean.

``COVET_KILL_ROUNDS`` (default 12) and ``COVET_KILL_SEED`` make a longer soak run.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import Target, write_migration

ROUNDS = int(os.environ.get("COVET_KILL_ROUNDS", "12"))
SEED = int(os.environ.get("COVET_KILL_SEED", "12"))
ROWS = 300

M1, M2, M3 = "2024_01_01_000000_tables", "2024_01_02_000000_columns", "2024_01_03_000000_backfill"
VALUES = ", ".join(f"({i})" for i in range(1, ROWS + 1))
FORWARD = {
    M1: [
        "CREATE TABLE k1 (id INTEGER PRIMARY KEY)",
        "CREATE TABLE rows_t (id INTEGER PRIMARY KEY, counter INTEGER NOT NULL DEFAULT 0)",
        f"INSERT INTO rows_t (id) VALUES {VALUES}",
    ],
    M2: ["ALTER TABLE k1 ADD COLUMN c2 INTEGER", "ALTER TABLE k1 ADD COLUMN c3 INTEGER"],
    M3: [],
}
BACKWARD = {
    M1: ["DELETE FROM rows_t", "DROP TABLE rows_t", "DROP TABLE k1"],
    M2: ["ALTER TABLE k1 DROP COLUMN c3", "ALTER TABLE k1 DROP COLUMN c2"],
    M3: ["UPDATE rows_t SET counter = 0"],
}
BACKFILL = """
from covet.database.migrations.data_migrations import DataMigration


class Bump(DataMigration):
    table_name = "rows_t"
    batch_size = 10

    async def transform_batch(self, rows, adapter):
        for row in rows:
            row["counter"] += 1
        return rows
"""


@dataclass
class Snapshot:
    """The schema and data as the database's catalog shows them, and the raw history rows."""

    tables: set[str] = field(default_factory=set)
    k1_columns: set[str] = field(default_factory=set)
    rows: int = 0
    counters: set[int] = field(default_factory=set)
    history: dict[str, str] = field(default_factory=dict)


# Whether each statement took effect, judged from the catalog (for in-doubt answers).
EFFECTS: dict[str, Callable[[Snapshot], bool]] = {
    FORWARD[M1][0]: lambda s: "k1" in s.tables,
    FORWARD[M1][1]: lambda s: "rows_t" in s.tables,
    FORWARD[M1][2]: lambda s: s.rows == ROWS,
    BACKWARD[M1][0]: lambda s: s.rows == 0,
    BACKWARD[M1][1]: lambda s: "rows_t" not in s.tables,
    BACKWARD[M1][2]: lambda s: "k1" not in s.tables,
    FORWARD[M2][0]: lambda s: "c2" in s.k1_columns,
    FORWARD[M2][1]: lambda s: "c3" in s.k1_columns,
    BACKWARD[M2][0]: lambda s: "c3" not in s.k1_columns,
    BACKWARD[M2][1]: lambda s: "c2" not in s.k1_columns,
    BACKWARD[M3][0]: lambda s: s.counters <= {0},
}


async def snapshot(target: Target, adapter: Any) -> Snapshot:
    database = target.url.rsplit("/", 1)[1]
    if target.name == "sqlite":
        tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
        columns = "SELECT name FROM pragma_table_info('k1')"
    elif target.name == "postgresql":
        tables = (
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        columns = "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'k1'"
    else:
        tables = f"SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{database}'"
        columns = f"SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{database}' AND TABLE_NAME = 'k1'"
    snap = Snapshot(tables={r["name"] for r in await adapter.fetch_all(tables)})
    if "k1" in snap.tables:
        snap.k1_columns = {r["name"] for r in await adapter.fetch_all(columns)}
    if "rows_t" in snap.tables:
        snap.rows = int(await adapter.fetch_value("SELECT COUNT(*) FROM rows_t"))
        found = await adapter.fetch_all("SELECT DISTINCT counter FROM rows_t")
        snap.counters = {int(r["counter"]) for r in found}
    if "_covet_migrations" in snap.tables:
        found = await adapter.fetch_all("SELECT name, state FROM _covet_migrations")
        snap.history = {r["name"]: r["state"] for r in found}
    return snap


def history_equals_schema(s: Snapshot) -> list[str]:
    """What disagrees between the history rows and the catalog (empty: they agree)."""
    wrong = [f"{name} is {state}" for name, state in s.history.items() if state != "applied"]
    m1, m2, m3 = (name in s.history for name in (M1, M2, M3))
    if m1 != ("k1" in s.tables) or m1 != ("rows_t" in s.tables) or m1 != (s.rows == ROWS):
        wrong.append(f"{M1} applied={m1} but tables={sorted(s.tables)} rows={s.rows}")
    if m1 and (m2 != ("c2" in s.k1_columns) or m2 != ("c3" in s.k1_columns)):
        wrong.append(f"{M2} applied={m2} but k1 has {sorted(s.k1_columns)}")
    if m1 and s.counters != ({1} if m3 else {0}):  # every row transformed exactly once, or none
        wrong.append(f"{M3} applied={m3} but counters are {sorted(s.counters)}")
    return wrong


class Loop:
    def __init__(self, target: Target, migrations: Path, cwd: Path) -> None:
        self.target, self.cwd = target, cwd
        self.env = {**os.environ, **target.env, "COVET_MIGRATIONS_DIR": str(migrations)}
        self.log: list[str] = []

    def start(self, args: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "covet_core", "-vv", "migrate", *args, "--lock-timeout", "20"],
            cwd=self.cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "covet_core", "migrate", *args],
            cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        self.log.append(f"$ covet migrate {' '.join(args)} -> {done.returncode} {done.stderr}")
        return done

    def timed(self, args: list[str]) -> float:
        """One uninterrupted run: seconds from holding the lock to exiting."""
        proc = self.start(args)
        assert proc.stderr is not None
        wait_for_line(proc, "lock.acquired")
        start = time.monotonic()
        proc.communicate(timeout=120)
        assert proc.returncode == 0
        return time.monotonic() - start

    def kill_during(self, args: list[str], delay: float) -> None:
        proc = self.start(args)
        wait_for_line(proc, "lock.acquired")
        time.sleep(delay)  # the random moment (synchronised on the log line above)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        self.log.append(f"killed covet migrate {' '.join(args)} after {delay:.3f}s")


def wait_for_line(proc: subprocess.Popen[str], marker: str) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:  # ends when the process exits
        if marker in line:
            return


async def server_idle(target: Target, adapter: Any) -> None:
    """Wait (bounded) until no other session is working in this database: a statement whose
    client was killed may still run on the server, and must end before we judge the schema."""
    if target.name == "sqlite":
        return  # the process is gone, and SQLite runs inside it
    database = target.url.rsplit("/", 1)[1]
    if target.name == "postgresql":
        sql = ("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 "
               "AND pid <> pg_backend_pid()")  # fmt: skip
    else:
        sql = ("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s "
               "AND ID <> CONNECTION_ID()")  # fmt: skip
    deadline, delay = time.monotonic() + 30, 0.01
    while await adapter.fetch_value(sql, (database,)):
        assert time.monotonic() < deadline, "the killed client's session never ended"
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)
        if target.name == "postgresql":
            await adapter.execute("SELECT pg_stat_clear_snapshot()")


COMMAND = re.compile(r"`(covet migrate [^`]+)`")


async def recover(loop: Loop, adapter: Any, rng: random.Random) -> None:
    """While ``covet migrate validate`` reports a problem, run the command it prints."""
    for _ in range(6):
        again = loop.run(["validate"])
        if again.returncode == 0:
            return
        commands = COMMAND.findall(again.stderr)
        assert commands, f"no command to follow in: {again.stderr}"
        if any(c == "covet migrate unlock" for c in commands):
            chosen = "covet migrate unlock"
        else:
            runs = [c for c in commands if c.endswith(("--run", "-run")) or "--run " in c]
            assert runs, f"no --run command in: {again.stderr}"
            if any("--in-doubt=" in c for c in runs):
                statement = re.search(
                    r"while statement \d+ ran \((.*?)\) and the server", again.stderr
                )
                assert statement, again.stderr
                snap = await snapshot(loop.target, adapter)
                took = EFFECTS[statement.group(1)](snap)
                answer = "--in-doubt=completed" if took else "--in-doubt=not-run"
                runs = [c for c in runs if c.endswith(answer)]
            chosen = rng.choice(runs)
        followed = loop.run(chosen.split()[2:])
        assert followed.returncode == 0, f"{chosen}: {followed.stderr}"
    raise AssertionError("recovery did not converge:\n" + "\n".join(loop.log[-12:]))


async def test_random_sigkill_then_recovery_keeps_history_equal_to_schema(
    adapter, target, migrations_dir, tmp_path
):
    for name in (M1, M2, M3):
        write_migration(
            migrations_dir, name, FORWARD[name], BACKWARD[name],
            atomic=name != M2,  # a non-transactional migration on every database
            body="data_steps = [Bump]" if name == M3 else "",
        )  # fmt: skip
    path = migrations_dir / f"{M3}.py"
    path.write_text(BACKFILL + path.read_text())
    loop = Loop(target, migrations_dir, tmp_path)
    span = max(loop.timed(["up"]), loop.timed(["down", "--steps", "3"]))
    assert history_equals_schema(await snapshot(target, adapter)) == []
    rng = random.Random(f"{SEED}-{target.name}")
    for _ in range(ROUNDS):
        applied = len((await snapshot(target, adapter)).history)
        if applied and (applied == 3 or rng.random() < 0.5):
            args = ["down", "--steps", str(rng.randint(1, applied))]
        else:
            args = ["up"]
        loop.kill_during(args, rng.uniform(0, span))
        await server_idle(target, adapter)
        await recover(loop, adapter, rng)
        wrong = history_equals_schema(await snapshot(target, adapter))
        assert wrong == [], "\n".join([*wrong, *loop.log[-10:]])
    assert loop.run(["up"]).returncode == 0
    assert history_equals_schema(await snapshot(target, adapter)) == []
