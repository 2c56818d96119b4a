"""Reading a live schema and comparing it with the models: covet against the raw catalog
queries, SQLAlchemy's reflection and Alembic's autogenerate comparison, in one run.

Each table has 8 columns, a primary key, 2 indexes, a foreign key (to the previous table), a
unique and a check constraint. The database is built from covet models; every variant then
reads the same database over an already open connection. Variants are interleaved; medians.

    .venv/bin/pip install -q alembic psycopg2-binary     # SQLAlchemy comes with Alembic
    .venv/bin/python bench/schema.py --tables 100 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dialects import Scratch

from covet_core.models import (
    BigInteger,
    Boolean,
    Check,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Model,
    ModelSchemaReader,
    Numeric,
    String,
    Text,
)
from covet_core.plugins import Plugins
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.reader import SchemaReader

PLUGINS = Plugins.load()
OWN = "covet's catalog queries, raw"

RAW_QUERIES = {
    "postgresql": [
        """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attidentity
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
           WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped""",
        """SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
           FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'""",
        """SELECT c.relname, i.relname, x.indisunique, pg_get_indexdef(x.indexrelid)
           FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'""",
    ],
    "mysql": [
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SEQ_IN_INDEX"
        " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()",
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,"
        " k.REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k"
        " WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL",
        "SELECT CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE"
        " FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = DATABASE()",
    ],
    "sqlite": [
        "SELECT m.name, p.* FROM sqlite_master m JOIN pragma_table_xinfo(m.name) p"
        " WHERE m.type = 'table'",
        "SELECT m.name, l.*, i.* FROM sqlite_master m JOIN pragma_index_list(m.name) l"
        " JOIN pragma_index_info(l.name) i WHERE m.type = 'table'",
        "SELECT m.name, f.* FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f"
        " WHERE m.type = 'table'",
        "SELECT name, sql FROM sqlite_master",
    ],
}


def build_models(n: int) -> list[type[Model]]:
    models: list[type[Model]] = []
    for i in range(n):
        parent = f"t{i - 1}.id" if i else "t0.id"  # t0 refers to itself
        attrs: dict[str, Any] = {
            "__tablename__": f"t{i}",
            "id": Column(BigInteger, primary_key=True, autoincrement=True),
            "code": Column(String(40), nullable=False, unique=True),
            "name": Column(String(100)),
            "amount": Column(Numeric(12, 2), nullable=False, default=0),
            "active": Column(Boolean, nullable=False, default=True),
            "created_at": Column(DateTime),
            "parent_id": Column(BigInteger, ForeignKey(parent, on_delete="SET NULL")),
            "note": Column(Text),
            "__indexes__": [Index("name"), Index("active", "created_at")],
            "__checks__": [Check("amount >= 0", name="amount_positive")],
        }
        models.append(type(f"T{i}", (Model,), attrs))
    return models


def sqlalchemy_url(url: str) -> str:
    if url.startswith("sqlite"):
        return url
    if url.startswith("mysql"):
        return url.replace("mysql://", "mysql+pymysql://", 1)
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def sqlalchemy_metadata(n: int) -> Any:
    """The same tables as SQLAlchemy metadata, for Alembic's comparison."""
    import sqlalchemy as sa

    md = sa.MetaData()
    for i in range(n):
        parent = f"t{i - 1}.id" if i else "t0.id"  # t0 refers to itself
        sa.Table(
            f"t{i}",
            md,
            sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
            sa.Column("code", sa.String(40), nullable=False),
            sa.Column("name", sa.String(100)),
            sa.Column("amount", sa.Numeric(12, 2), nullable=False, server_default="0"),
            sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
            sa.Column("created_at", sa.DateTime),
            sa.Column("parent_id", sa.BigInteger, sa.ForeignKey(parent, ondelete="SET NULL")),
            sa.Column("note", sa.Text),
            sa.UniqueConstraint("code", name=f"uq_t{i}_code"),
            sa.CheckConstraint("amount >= 0", name=f"ck_t{i}_amount_positive"),
            sa.Index(f"ix_t{i}_name", "name"),
            sa.Index(f"ix_t{i}_active_created_at", "active", "created_at"),
        )
    return md


async def create(adapter: Any, dialect: Any, models: list[type[Model]]) -> None:
    schema = ModelSchemaReader(models).read_schema()
    diff = SchemaComparator(dialect).compare(
        await SchemaReader(adapter, dialect).read_schema(), schema
    )
    for op in diff.operations:
        for sql in PLUGINS.render_operation(op, dialect):
            await adapter.execute(sql)


async def record_queries(adapter: Any, read: Callable[[], Any]) -> list[tuple[str, str, Any]]:
    """The catalog queries one covet read issues (method, SQL, parameters), to replay through
    the driver with no mapping: the floor for the facts covet reads, which are more than the
    raw queries above fetch (index methods, operator classes, collations, carried objects)."""
    issued: list[tuple[str, str, Any]] = []
    methods = ("execute", "fetch_all", "fetch_rows", "fetch_one", "fetch_value")
    originals = {m: getattr(adapter, m) for m in methods if hasattr(adapter, m)}

    def recorder(method: str) -> Any:
        async def call(sql: str, params: Any = None) -> Any:
            issued.append((method, sql, params))
            return await originals[method](sql, params)

        return call

    for method in originals:
        setattr(adapter, method, recorder(method))
    try:
        await read()
    finally:
        for method, original in originals.items():
            setattr(adapter, method, original)
    return issued


def cold(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run as a command's first read is: covet's memoised parses and normal forms
    (functools caches, warm from the previous repeat otherwise) emptied first."""

    def run() -> Any:
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in ("covet", "covet_core") or name.startswith("covet_dialect"):
                for value in list(vars(module).values()):
                    if callable(getattr(value, "cache_clear", None)):
                        value.cache_clear()
        return fn()

    return run


def median_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """As timeit does: the cyclic garbage collector is off while a variant runs, so one
    variant's garbage (SQLAlchemy's thousands of objects) is not collected on another's time."""
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times), result


def run(dialect_name: str, n: int, repeat: int, root: Path) -> dict[str, tuple[float, str]]:
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    dialect = PLUGINS.dialect(dialect_name)
    models = build_models(n)
    target = ModelSchemaReader(models).read_schema()
    results: dict[str, tuple[float, str]] = {}
    with Scratch(dialect_name, root) as url:
        loop = asyncio.new_event_loop()
        adapter = dialect.adapter_from_url(url, root)
        loop.run_until_complete(adapter.connect())
        loop.run_until_complete(create(adapter, dialect, models))
        if dialect_name == "postgresql":
            # Statistics on the catalogs, as autovacuum gives any database in use: a fresh
            # database has none, and the planner then picks other plans for every variant.
            loop.run_until_complete(adapter.execute("ANALYZE"))

        async def raw(conn: Any = adapter) -> int:
            rows = 0
            for sql in RAW_QUERIES[dialect_name]:
                rows += len(await conn.fetch_all(sql))
            return rows

        async def read() -> Any:
            return await SchemaReader(adapter, dialect).read_schema()

        issued = loop.run_until_complete(record_queries(adapter, read))

        async def replay() -> int:
            # In a transaction, as covet's PostgreSQL reader runs them (its settings, such as
            # JIT off, hold for that transaction only).
            rows = 0
            async with adapter.transaction():
                for method, sql, params in issued:
                    if sql != "BEGIN":
                        result = await getattr(adapter, method)(sql, params)
                        rows += len(result) if isinstance(result, list) else 1
            return rows

        async def read_compare(conn: Any = adapter) -> int:
            current = await SchemaReader(conn, dialect).read_schema()
            return len(SchemaComparator(dialect).compare(current, target).operations)

        engine = sa.create_engine(sqlalchemy_url(url))
        conn = engine.connect()
        md = sqlalchemy_metadata(n)

        def reflect() -> int:
            m = sa.MetaData()
            m.reflect(conn)
            return len(m.tables)

        def alembic() -> int:
            context = MigrationContext.configure(conn)
            return len(compare_metadata(context, md))

        variants: dict[str, Callable[[], Any]] = {
            "raw catalog queries": lambda: loop.run_until_complete(raw()),
            OWN: lambda: loop.run_until_complete(replay()),
            "covet read": cold(lambda: loop.run_until_complete(read())),
            "covet read + compare": cold(lambda: loop.run_until_complete(read_compare())),
            "covet read + compare, warm": lambda: loop.run_until_complete(read_compare()),
            "SQLAlchemy reflect": reflect,
            "Alembic compare_metadata": alembic,
        }
        samples: dict[str, list[float]] = {k: [] for k in variants}
        outcome: dict[str, Any] = {}
        for _ in range(repeat):
            for key, fn in variants.items():
                seconds, outcome[key] = median_of(fn, 1)
                samples[key].append(seconds)
        assert outcome["covet read + compare"] == 0, "covet found changes in an unchanged schema"
        # A command reads once, on a connection of its own: the server's catalog caches are
        # cold and each query is prepared once. The same for the raw queries, the connecting
        # itself left out.
        for key, work in (("raw catalog queries", raw), ("covet read + compare", read_compare)):
            firsts = []
            for _ in range(repeat):
                fresh = dialect.adapter_from_url(url, root)
                loop.run_until_complete(fresh.connect())
                first = cold(lambda w=work, c=fresh: loop.run_until_complete(w(c)))
                seconds, _ = median_of(first, 1)
                firsts.append(seconds)
                loop.run_until_complete(fresh.disconnect())
            samples[f"{key}, first on a new connection"] = firsts
        notes = {
            "raw catalog queries": f"{outcome['raw catalog queries']} rows",
            OWN: f"{len(issued)} queries, {outcome[OWN]} rows",
            "covet read + compare": "0 changes; covet's caches emptied before each run",
            "covet read + compare, warm": "caches warm from the previous run",
            "SQLAlchemy reflect": f"{outcome['SQLAlchemy reflect']} tables",
            "Alembic compare_metadata": f"{outcome['Alembic compare_metadata']} differences",
        }
        for key in samples:
            results[key] = (statistics.median(samples[key]), notes.get(key, ""))
        conn.close()
        engine.dispose()
        loop.run_until_complete(adapter.disconnect())
        loop.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--dialects", nargs="+", default=["postgresql", "mysql", "sqlite"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for dialect in args.dialects:
            for n in args.tables:
                results = run(dialect, n, args.repeat, Path(tmp))
                base = results["raw catalog queries"][0]
                covet = results["covet read + compare"][0]
                own = results[OWN][0]
                print(f"\n{dialect}, {n} tables (median of {args.repeat})")
                print(
                    "| variant | seconds | vs raw queries | vs covet's queries | vs covet read+compare | |"
                )
                print("|---|---:|---:|---:|---:|---|")
                for key, (seconds, note) in results.items():
                    print(
                        f"| {key} | {seconds:.3f} | {seconds / base:.2f}x | {seconds / own:.2f}x | "
                        f"{seconds / covet:.2f}x | {note} |"
                    )


if __name__ == "__main__":
    main()
