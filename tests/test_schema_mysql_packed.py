"""MariaDB's columns and index keys read packed, one JSON text per table: the same rows as the
plain queries, names and texts that JSON must escape included; no row lost unnoticed; the
session's GROUP_CONCAT limit put back."""

from __future__ import annotations

from typing import Any

import pytest
from covet_dialect_mysql.schema_reader import MySQLSchemaReader, _unpacked

from covet_core.errors import DatabaseError

NASTY = [
    # Names and texts with what JSON escapes (quotes, backslashes, control characters),
    # what GROUP_CONCAT separates with (commas, brackets) and more than ASCII.
    'CREATE TABLE `we,ird]"[name` (`id` INT PRIMARY KEY, `a\\\\b "q"` VARCHAR(20)'
    " DEFAULT 'it''s \\\\ \"x\"' COMMENT 'line\\none\\ttab',"
    ' `ünï` TEXT, `[x]` INT, KEY `k,1` (`[x]`), UNIQUE KEY `u"2` (`a\\\\b "q"`(5)))',
    "CREATE TABLE `Case` (`n` INT, `m` INT GENERATED ALWAYS AS (`n` * 2) VIRTUAL,"
    " KEY `k` (`m` DESC, `n`))",
    # Names equal but for case: one group under information_schema's collation.
    "CREATE TABLE `case` (`z` INT, `y` INT, KEY `k` (`y`))",
    "CREATE TABLE `case2` (`id` INT AUTO_INCREMENT PRIMARY KEY,"
    " `t` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
    " `e` ENUM('G','PG','NC-17') DEFAULT 'PG', `body` TEXT, FULLTEXT KEY `ft` (`body`))",
]


def _by_table(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault((row["s"], row["t"]), []).append(row)
    return out


async def test_packed_rows_are_the_plain_rows(mysql: Any) -> None:
    adapter = mysql.new_adapter()
    await adapter.connect()
    try:
        for sql in NASTY:
            await adapter.execute(sql)
        packed = MySQLSchemaReader._queries("= DATABASE()", (), True, packed=True)
        plain = MySQLSchemaReader._queries("= DATABASE()", (), True, packed=False)
        await adapter.execute("SET SESSION group_concat_max_len = 1073741824")
        compared = 0
        for (key, p_sql, params, fields), (_, q_sql, _, none) in zip(packed, plain, strict=True):
            if fields is None:
                assert p_sql == q_sql and none is None
                continue
            unpacked = _unpacked(await adapter.fetch_all(p_sql, params), fields)
            rows = await adapter.fetch_all(q_sql, params)
            assert _by_table(unpacked) == _by_table(rows), key
            compared += len(rows)
        assert compared >= 19  # every column and key part of the four tables
    finally:
        await adapter.disconnect()


async def test_the_read_puts_the_group_concat_limit_back(mysql: Any) -> None:
    adapter = mysql.new_adapter()
    await adapter.connect()
    try:
        await adapter.execute(NASTY[0])
        await adapter.execute("SET SESSION group_concat_max_len = 2048")
        schema = await MySQLSchemaReader(adapter).read()
        assert [c.name for c in schema.tables[next(iter(schema.tables))].columns] == [
            "id",
            'a\\\\b "q"',
            "ünï",
            "[x]",
        ]
        assert await adapter.fetch_value("SELECT @@SESSION.group_concat_max_len") == 2048
    finally:
        await adapter.disconnect()


def test_a_packed_value_missing_rows_is_an_error_not_fewer_rows() -> None:
    fields = ("s", "t", "name")
    whole = {"packed": '[["d", "t", "a"], ["d", "t", "b"]]', "n": 2}
    assert [r["name"] for r in _unpacked([whole], fields)] == ["a", "b"]
    for cut in ({"packed": '[["d", "t", "a"]]', "n": 2}, {"packed": None, "n": 2}):
        with pytest.raises(DatabaseError, match="max_allowed_packet"):
            _unpacked([cut], fields)
    with pytest.raises(DatabaseError):
        _unpacked([{"packed": '[["d", "t", "a"], ["d", "t"', "n": 2}], fields)


async def test_a_failed_read_raises_its_own_error_and_puts_the_limit_back(mysql: Any) -> None:
    adapter = mysql.new_adapter()
    await adapter.connect()
    try:
        await adapter.execute(NASTY[0])
        await adapter.execute("SET SESSION group_concat_max_len = 2048")
        await adapter.execute("SET SESSION max_statement_time = 0.000001")  # seconds
        with pytest.raises(DatabaseError, match="max_statement_time"):
            await MySQLSchemaReader(adapter).read()
        await adapter.execute("SET SESSION max_statement_time = 0")
        assert await adapter.fetch_value("SELECT @@SESSION.group_concat_max_len") == 2048
    finally:
        await adapter.disconnect()
