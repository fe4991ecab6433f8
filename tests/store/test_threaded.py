"""ThreadedDatabase keeps blocking database work off the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from solidtype_jupyter.sqlite_writers import SQLiteWriteGate
from solidtype_jupyter.store import ThreadedDatabase, upgrade_schema
from solidtype_jupyter.streams import open_engine


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


def test_the_write_gate_serves_writers_in_arrival_order():
    """A writer that retakes the gate at once (the stream writer under load) cannot keep a
    waiting one out: turns go first come, first served."""
    gate = SQLiteWriteGate()
    order: list[str] = []
    waiting = threading.Event()

    def waiter() -> None:
        waiting.set()
        with gate:
            order.append("waiter")

    with gate:
        thread = threading.Thread(target=waiter)
        thread.start()
        waiting.wait()
        time.sleep(0.05)  # the waiter is queued for the gate now
    for _ in range(50):  # a writer retaking the gate again and again
        with gate:
            order.append("busy")
    thread.join()
    assert order[0] == "waiter"


async def test_sqlite_row_writes_take_turns_with_a_busy_stream_writer(tmp_path):
    """The stream engine appending without a pause on the same file, in this process: a
    session-row write waits for the gate, asleep, and gets its turn within a few commits."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    upgrade_schema(url)
    database = ThreadedDatabase(url)
    engine = open_engine(url)
    await engine.start()
    stop = asyncio.Event()
    try:
        await database.transaction(lambda c: c.execute(sa.text("create table t (n integer)")))
        await engine.create("busy", content_type="application/json")

        async def append_forever(n: int) -> None:
            while not stop.is_set():
                await engine.append("busy", b'{"n": %d}' % n, content_type="application/json")

        writers = [asyncio.ensure_future(append_forever(n)) for n in range(20)]
        await asyncio.sleep(0.3)  # the writer thread now commits back to back
        attempts = 0

        def insert(connection: sa.Connection) -> None:
            nonlocal attempts
            attempts += 1
            connection.execute(sa.text("insert into t values (1)"))

        started = time.monotonic()
        for _ in range(20):
            await database.transaction(insert)
        elapsed = time.monotonic() - started
        stop.set()
        await asyncio.gather(*writers)
        count = await database.transaction(
            lambda c: c.execute(sa.text("select count(*) from t")).scalar_one()
        )
        assert count == 20
        # In line, each write retries at most once (after the gate), not every 0.5 ms.
        assert attempts <= 40
        assert elapsed < 10
    finally:
        stop.set()
        await engine.close()
        database.close()
