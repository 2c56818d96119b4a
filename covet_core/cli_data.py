"""``covet data status``: data migrations that have not finished (checkpoints and chunk plans)."""

from __future__ import annotations

from typing import Any

import click

from covet_core.cli import State
from covet_core.cli_migrate import open_manager, run
from covet_core.cli_output import emit


@click.group()
def data() -> None:
    """Inspect data migrations (DataMigration, BulkDataMigration, ParallelDataMigration)."""


@data.command()
@click.pass_obj
def status(state: State) -> None:
    """Unfinished data migrations: where each stopped, and parallel chunks by state."""
    from covet_core.data.checkpoints import Checkpoints
    from covet_core.data.parallel import CHUNK_TABLE

    async def read(manager: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if manager.database_missing() is not None:
            return [], []
        adapter, dialect = manager.adapter, manager.dialect
        unfinished = await Checkpoints(adapter, dialect, manager.plugins).unfinished()
        stmt = dialect.table_exists_sql(CHUNK_TABLE)
        if await adapter.fetch_one(stmt.text, stmt.params) is None:
            return unfinished, []
        q = dialect.quote
        chunks = await adapter.fetch_all(
            f"SELECT {q('name')}, {q('state')}, COUNT(*) AS chunks, SUM({q('processed')}) AS processed "
            f"FROM {q(CHUNK_TABLE)} GROUP BY {q('name')}, {q('state')} ORDER BY 1, 2"
        )
        return unfinished, chunks

    async def go() -> None:
        async with open_manager(state, migrations=False, read_only=True) as manager:
            unfinished, chunks = await read(manager)
        for row in unfinished:
            emit(state, "data.checkpoint", **{k: str(v) for k, v in row.items()})
            state.say(
                f"{row['name']} on {row['table_name']}: {row['processed']} rows done "
                f"({row['failed']} failed), last key {row['last_key']}, at {row['updated_at']}"
            )
        for row in chunks:
            emit(state, "data.chunks", **{k: str(v) for k, v in row.items()})
            state.say(
                f"{row['name']}: {row['chunks']} chunk(s) {row['state']}, {row['processed']} rows done"
            )
        if not unfinished and not chunks:
            state.say("No unfinished data migrations.")

    run(go())
