"""The next batch transformed while the previous one is written (PostgreSQL and MariaDB, where
the next page is read on a second connection; SQLite runs batches in turn), and what must not
change because of it: write order, what a transform that uses the database sees, failures."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Target

from covet.database.migrations.data_migrations import (
    BulkDataMigration,
    DataMigration,
    DataMigrationError,
)


async def numbered(adapter: Any, target: Target, ids: list[int]) -> None:
    p = target.dialect.params(2)
    await adapter.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, code VARCHAR(20) NOT NULL, "
        "counter INTEGER NOT NULL DEFAULT 0)"
    )
    await adapter.executemany(
        f"INSERT INTO items (id, code) VALUES ({p[0]}, {p[1]})", [(i, f"C{i}") for i in ids]
    )


def overlaps(target: Target) -> bool:
    return target.name != "sqlite"  # no second connection reads the next page there


async def counters(adapter: Any) -> dict[int, int]:
    rows = await adapter.fetch_all("SELECT id, counter FROM items ORDER BY id")
    return {r["id"]: r["counter"] for r in rows}


@pytest.mark.parametrize("base", [DataMigration, BulkDataMigration])
async def test_the_next_batch_is_transformed_while_the_previous_is_written(adapter, target, base):
    await numbered(adapter, target, list(range(1, 501)))
    events: list[str] = []

    class Count(base):  # type: ignore[misc,valid-type]
        async def transform_batch(self, rows, adapter):
            events.append(f"t{rows[0]['id'] // 100 + 1}")
            for r in rows:
                r["counter"] += 1
            return rows

    progress = await Count(
        adapter=adapter, table_name="items", batch_size=100,
        progress_callback=lambda p: events.append(f"p{p.processed_rows // 100}"),
    ).execute()  # fmt: skip
    if overlaps(target):  # batch n+1 transformed before batch n's commit is reported
        assert events == ["t1", "t2", "p1", "t3", "p2", "t4", "p3", "t5", "p4", "p5"]
    else:
        assert events == ["t1", "p1", "t2", "p2", "t3", "p3", "t4", "p4", "t5", "p5"]
    assert progress.processed_rows == 500 and progress.batches == 5
    assert set((await counters(adapter)).values()) == {1}


@pytest.mark.parametrize("via", ["argument", "self.adapter"])
async def test_a_transform_that_uses_the_database_runs_after_each_commit(adapter, target, via):
    """Whether it queries from the first batch or only from the third (while a write would be
    in flight), each transform sees every earlier batch committed, and none runs twice."""
    await numbered(adapter, target, list(range(1, 501)))
    seen: list[int] = []
    busy_met: list[str] = []

    class Looks(DataMigration):
        async def transform_batch(self, rows, adapter):
            db = adapter if via == "argument" else self.adapter
            if rows[0]["id"] == 1 or rows[0]["id"] > 200:
                try:
                    seen.append(
                        await db.fetch_value("SELECT COUNT(*) FROM items WHERE counter = 1")
                    )
                except DataMigrationError as exc:  # swallowed: its work is thrown away anyway
                    busy_met.append(str(exc))
                    return rows
            for r in rows:
                r["counter"] += 1
            return rows

    progress = await Looks(adapter=adapter, table_name="items", batch_size=100).execute()
    assert progress.processed_rows == 500 and progress.failed_rows == 0
    assert seen == [0, 200, 300, 400]
    assert busy_met == [], "the first batch's query turned overlapping off"
    assert set((await counters(adapter)).values()) == {1}

    # Queries only from the third batch: met while the second is being written.
    await adapter.execute("UPDATE items SET counter = 0")
    seen.clear()

    class LooksLater(Looks):
        async def transform_batch(self, rows, adapter):
            if rows[0]["id"] == 1:
                for r in rows:
                    r["counter"] += 1
                return rows
            return await super().transform_batch(rows, adapter)

    await LooksLater(adapter=adapter, table_name="items", batch_size=100, name="later").execute()
    assert seen == [200, 300, 400]
    assert len(busy_met) == (1 if overlaps(target) else 0)
    assert set((await counters(adapter)).values()) == {1}, "the thrown-away batch ran again, once"


async def test_a_write_that_fails_while_the_next_batch_is_transformed(adapter, target):
    await numbered(adapter, target, list(range(1, 501)))
    attempts: list[int] = []
    broken = {201}

    class Strict(BulkDataMigration):
        async def transform_batch(self, rows, adapter):
            attempts.append(rows[0]["id"])
            for r in rows:
                r["counter"] += 1
                if rows[0]["id"] in broken:
                    r["code"] = None  # NOT NULL: the write fails, not the transform
            return rows

    skipped = await Strict(
        adapter=adapter, table_name="items", batch_size=100, retries=1, on_failure="skip"
    ).execute()
    assert (skipped.processed_rows, skipped.failed_rows) == (500, 100)
    if overlaps(target):  # 301 was transformed during 201's write, thrown away, run again
        assert attempts == [1, 101, 201, 301, 201, 301, 401]
    else:
        assert attempts == [1, 101, 201, 201, 301, 401]
    final = await counters(adapter)
    assert {i for i, c in final.items() if c == 0} == set(range(201, 301))
    assert {c for i, c in final.items() if not 201 <= i <= 300} == {1}

    await adapter.execute("UPDATE items SET counter = 0")
    with pytest.raises(DataMigrationError, match=r"batch starting at key \(201,\) failed"):
        await Strict(adapter=adapter, table_name="items", batch_size=100, name="s").execute()
    assert await adapter.fetch_value("SELECT COUNT(*) FROM items WHERE counter = 1") == 200
    broken.clear()
    resumed = await Strict(adapter=adapter, table_name="items", batch_size=100, name="s").execute(
        resume=True
    )
    assert resumed.processed_rows == 500
    assert set((await counters(adapter)).values()) == {1}, "every row once across the two runs"


async def test_a_retried_batch_reads_the_same_rows_though_rows_came_and_went(adapter, target):
    """The retry reads (previous last key, this batch's last key], not the next n rows: rows
    inserted into the batch's range are taken, and no row past it is left behind."""
    await numbered(adapter, target, list(range(10, 1001, 10)))
    other = target.new_adapter()
    await other.connect()
    p = target.dialect.params(2)
    first_try = True

    class Flaky(DataMigration):
        async def transform_batch(self, rows, adapter):
            nonlocal first_try
            if rows[0]["id"] == 110 and first_try:
                first_try = False
                await other.executemany(
                    f"INSERT INTO items (id, code) VALUES ({p[0]}, {p[1]})",
                    [(115, "new"), (125, "new")],
                )
                await other.execute("DELETE FROM items WHERE id = 130")
                raise ConnectionError("transient")
            for r in rows:
                r["counter"] += 1
            return rows

    try:
        progress = await Flaky(
            adapter=adapter, table_name="items", batch_size=10, retries=1
        ).execute()
    finally:
        await other.disconnect()
    assert progress.failed_rows == 0
    final = await counters(adapter)
    assert final[115] == final[125] == 1, "inserted into the batch's range: taken by its retry"
    assert set(final.values()) == {1}, "no row transformed twice or left behind"


async def test_postgresql_planner_settings_stay_with_covet(pg):
    """Page reads walk the key index and each batch's write hashes its rows, through planner
    settings that never reach the caller's session, nor a caller's transaction."""
    from covet_dialect_postgresql.bulk import UnnestWriter

    adapter = pg.new_adapter()
    await adapter.connect()
    try:
        # Rows stored out of key order, as after many updates: the index walk looks costly.
        await numbered(adapter, pg, [i * 7919 % 300 + 1 for i in range(300)])
        await adapter.execute("ANALYZE items")
        page = "SELECT * FROM items WHERE id > 10 ORDER BY id LIMIT 280"
        plan = "\n".join(r["QUERY PLAN"] for r in await adapter.fetch_all(f"EXPLAIN {page}"))
        assert "Seq Scan" in plan, "most of a small table: whole-table scan and sort"
        reader = await adapter.open_sibling()
        await reader.connect()
        try:
            own = UnnestWriter(reader, "items")
            await own.prepare_reader()
            walked = "\n".join(r["QUERY PLAN"] for r in await reader.fetch_all(f"EXPLAIN {page}"))
            assert "Index Scan using items_pkey" in walked and "Sort" not in walked
            await own.release_reader()  # as it came, for a connection going back to a pool
            assert await reader.fetch_value("SELECT current_setting('enable_seqscan')") == "on"
        finally:
            await reader.disconnect()

        settings = "SELECT current_setting('enable_nestloop') || current_setting('enable_seqscan')"

        class Count(BulkDataMigration):
            async def transform_batch(self, rows, adapter):
                for r in rows:
                    r["counter"] += 1
                return rows

        await Count(adapter=adapter, table_name="items", batch_size=50).execute()
        assert await adapter.fetch_value(settings) == "onon"
        async with adapter.transaction():  # the caller's own: batches become savepoints
            await Count(adapter=adapter, table_name="items", batch_size=50, name="t").execute()
            assert await adapter.fetch_value(settings) == "onon"
        assert set((await counters(adapter)).values()) == {2}
    finally:
        await adapter.disconnect()


async def test_mysql_pages_read_as_json_hold_the_same_values(mysql):
    """covet's own reading connection reads pages as one JSON array where every column reads
    back the same that way; the values must equal the driver's own, and a page the JSON read
    cannot carry whole is read plainly."""
    from covet_dialect_mysql.bulk import JoinWriter

    adapter = mysql.new_adapter()
    await adapter.connect()
    reader = await adapter.open_sibling()
    await reader.connect()
    try:
        await adapter.execute(
            "CREATE TABLE kinds (id BIGINT UNSIGNED PRIMARY KEY, small TINYINT(1), n INT, "
            "code CHAR(4), name VARCHAR(50) CHARACTER SET latin1, body TEXT, note MEDIUMTEXT)"
        )
        values = [
            (1, 1, -2147483648, "ab", "Ærø", 'quote " back\\slash', "tab\tnew\nline"),
            (2, None, None, None, None, None, None),
            (18446744073709551615, 0, 0, "", "", "", "😀 emoji ✓"),
            (5, 127, 42, "abcd", "é", "x" * 2000, "\x01control"),
        ]
        await adapter.executemany(f"INSERT INTO kinds VALUES ({', '.join(['%s'] * 7)})", values)
        page = "SELECT * FROM `kinds` WHERE `id` > %s ORDER BY `id` LIMIT 10"
        plain = await JoinWriter(adapter, "kinds").fetch(page, (0,))
        session_limit = await reader.fetch_value("SELECT @@SESSION.group_concat_max_len")
        as_json = JoinWriter(reader, "kinds")
        await as_json.prepare_reader()
        assert as_json._json_page is not None, "every column qualifies"
        read = await as_json.fetch(page, (0,))
        assert read[0] == plain[0] and read[1] == plain[1]
        assert [tuple(r) for r in read[2]] == [tuple(r) for r in plain[2]]
        assert read[1][3]["id"] == 18446744073709551615 and read[1][2]["body"] == "x" * 2000

        # A session limit too small for the page: cut short, so read plainly from then on.
        await reader.execute("SET SESSION group_concat_max_len = 100")
        again = await as_json.fetch(page, (0,))
        assert again[1] == plain[1] and as_json._json_page is None
        await as_json.release_reader()
        limit = await reader.fetch_value("SELECT @@SESSION.group_concat_max_len")
        assert limit == session_limit, "a pooled connection goes back as it came"

        await adapter.execute("CREATE TABLE dated (id INT PRIMARY KEY, day DATE)")
        dated = JoinWriter(reader, "dated")
        await dated.prepare_reader()
        assert dated._json_page is None, "a DATE reads back differently through JSON"
    finally:
        await reader.disconnect()
        await adapter.disconnect()
