"""ThreadedDatabase keeps blocking database work off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
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


async def test_sqlite_work_waits_its_turn_for_a_busy_write_lock(sqlite_url: str):
    """Another connection writing in bursts (as the stream writer does under load) makes a
    transaction try again, polling, instead of SQLite's backing-off busy handler; a
    transaction that fails for another reason is not retried."""
    database = ThreadedDatabase(sqlite_url)
    path = sqlite_url.removeprefix("sqlite:///")
    try:
        await database.transaction(lambda c: c.execute(sa.text("create table t (n integer)")))
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        calls = 0

        def insert(connection: sa.Connection) -> int:
            nonlocal calls
            calls += 1
            connection.execute(sa.text("insert into t values (1)"))
            return calls

        def release_later() -> None:
            time.sleep(0.2)
            other.execute("COMMIT")

        releaser = threading.Thread(target=release_later)
        releaser.start()
        assert await database.transaction(insert) > 1  # found the lock taken, tried again
        releaser.join()
        other.close()
        count = await database.transaction(
            lambda c: c.execute(sa.text("select count(*) from t")).scalar_one()
        )
        assert count == 1  # the failed tries left nothing behind

        def broken(connection: sa.Connection) -> None:
            nonlocal calls
            calls += 1
            connection.execute(sa.text("insert into missing values (1)"))

        calls = 0
        with pytest.raises(sa.exc.OperationalError, match="no such table"):
            await database.transaction(broken)
        assert calls == 1
    finally:
        database.close()
