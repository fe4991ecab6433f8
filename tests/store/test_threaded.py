"""ThreadedDatabase keeps blocking database work off the event loop."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa

from solidtype_jupyter.store import ThreadedDatabase


async def test_slow_work_does_not_stall_the_loop(database: ThreadedDatabase):
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    def slow(connection: sa.Connection) -> int:
        value = connection.execute(sa.text("select 41 + 1")).scalar_one()
        time.sleep(0.3)  # a slow query, as far as the loop can tell
        return int(value)

    task = asyncio.ensure_future(ticker())
    try:
        assert await database.transaction(slow) == 42
    finally:
        task.cancel()
    # On the loop, the sleep would have allowed no tick at all.
    assert ticks >= 10


async def test_a_failing_transaction_rolls_back(database: ThreadedDatabase):
    def create(connection: sa.Connection) -> None:
        connection.execute(sa.text("create table scratch (n integer)"))

    def insert_then_fail(connection: sa.Connection) -> None:
        connection.execute(sa.text("insert into scratch values (1)"))
        raise RuntimeError("boom")

    def count(connection: sa.Connection) -> int:
        return int(connection.execute(sa.text("select count(*) from scratch")).scalar_one())

    await database.transaction(create)
    with pytest.raises(RuntimeError, match="boom"):
        await database.transaction(insert_then_fail)
    assert await database.transaction(count) == 0
