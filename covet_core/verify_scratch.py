"""``up --dry-run --verify=scratch``: the pending migrations run on a scratch copy.

Where DDL commits implicitly (MySQL/MariaDB) a migration run to check it cannot be rolled
back, so it runs elsewhere: a scratch database on the same server gets the live schema (read
and recreated by covet's own schema pipeline, so the carried views, triggers and routines
come too), the plan runs there in order, each migration seeing the ones before it, and the
scratch database is dropped again, whatever happened. The live database is only read.
What the copy could not recreate is said with the report, since a migration that uses it
fails on the copy and would not on the database.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from covet_core.errors import ConfigError, CovetError
from covet_core.migration import Migration
from covet_core.verify import Verified, attempt, run_one


async def verify_on_scratch(
    adapter: Any, dialect: Any, plugins: Any, plan: list[Migration]
) -> tuple[list[Verified], list[str]]:
    """The report per migration, and what the scratch copy lacks."""
    from covet_core.schema.comparator import SchemaComparator
    from covet_core.schema.reader import SchemaReader

    name = f"covet_verify_{uuid.uuid4().hex[:12]}"
    make = getattr(adapter, "for_database", None)
    scratch = make(name) if callable(make) else None
    if scratch is None:
        why = (
            f"{dialect.name} has no server to make a scratch database on; --verify rolls back"
            if getattr(adapter, "mode", "own") == "own"
            else "covet cannot open a connection to a scratch database from a connection or "
            "pool passed in; connect covet with a URL"
        )
        raise ConfigError(f"cannot verify on a scratch copy: {why}")
    try:
        await adapter.execute(f"CREATE DATABASE {dialect.quote(name)}")
    except CovetError as exc:
        raise ConfigError(
            f"cannot create the scratch database {name} ({exc}); --verify=scratch needs "
            f"CREATE and DROP on the server"
        ) from None
    try:
        await scratch.connect()
        live = await SchemaReader(adapter, dialect, plugins=plugins).read_schema()
        empty = await SchemaReader(scratch, dialect, plugins=plugins).read_schema()
        copy = SchemaComparator(dialect, detect_renames=False, plugins=plugins).compare(empty, live)
        for operation in copy.operations:
            for sql in plugins.render_operation(operation, dialect):
                await scratch.execute(sql)
        return await _run_plan(scratch, dialect, plugins, plan), [str(o) for o in copy.unmanaged]
    finally:
        with contextlib.suppress(CovetError):
            await scratch.disconnect()
        await adapter.execute(f"DROP DATABASE IF EXISTS {dialect.quote(name)}")


async def _run_plan(
    scratch: Any, dialect: Any, plugins: Any, plan: list[Migration]
) -> list[Verified]:
    report = [Verified(m.name, None) for m in plan]
    for line, migration in zip(report, plan, strict=True):
        if not await attempt(line, run_one(scratch, dialect, plugins, migration)):
            break
    return report
