"""The writer process (``open_engine(..., writer="process")``, the server's on PostgreSQL): the
same protocol through a child process, errors that cross the pipe intact, and a child that
dies being replaced without losing what was acknowledged."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from solidtype_jupyter.streams import (
    ProducerSequenceGapError,
    ProducerTuple,
    StaleProducerEpochError,
    StreamClosedError,
    json_values,
    open_engine,
)
from solidtype_jupyter.streams.errors import StorageUnavailableError
from solidtype_jupyter.streams.storage.writer_process import WriterProcess

JSON = "application/json"


async def started(url: str):
    engine = open_engine(url, writer="process", long_poll_timeout=2.0)
    await engine.start()
    return engine


def values(result) -> list:
    return [v for m in result.messages for v in json_values(m.data)]


async def test_writes_run_in_a_child_with_the_same_semantics(durable_url: str) -> None:
    engine = await started(durable_url)
    try:
        runner = engine.storage.runner
        assert isinstance(runner, WriterProcess)
        assert runner.pid is not None and runner.pid != os.getpid()
        await engine.create("ai-chat/child", content_type=JSON)
        first = ProducerTuple("p1", 1, 0)
        await engine.append("ai-chat/child", b'{"n":1}', content_type=JSON, producer=first)
        retry = await engine.append("ai-chat/child", b'{"n":1}', content_type=JSON, producer=first)
        assert retry.duplicate
        await engine.append_json_values("ai-chat/child", ['{"n":2}', '{"n":3}'])
        # Rejections are raised here with their details, as without the child.
        with pytest.raises(StaleProducerEpochError) as stale:
            await engine.append("ai-chat/child", b"{}", content_type=JSON,
                                producer=ProducerTuple("p1", 0, 1))  # fmt: skip
        assert stale.value.current_epoch == 1 and stale.value.status == 403
        with pytest.raises(ProducerSequenceGapError) as gap:
            await engine.append("ai-chat/child", b"{}", content_type=JSON,
                                producer=ProducerTuple("p1", 1, 5))  # fmt: skip
        assert (gap.value.expected, gap.value.received) == (1, 5)
        closed = await engine.close_stream("ai-chat/child")
        with pytest.raises(StreamClosedError) as after_close:
            await engine.append("ai-chat/child", b"{}", content_type=JSON)
        assert after_close.value.next_offset == closed.info.next_offset
        read = await engine.read("ai-chat/child")
        assert values(read) == [{"n": 1}, {"n": 2}, {"n": 3}] and read.closed
    finally:
        await engine.close()
    assert runner.pid is None  # closed with the engine


async def test_a_killed_child_is_replaced_and_nothing_acknowledged_is_lost(
    sqlite_url: str,
) -> None:
    from solidtype_jupyter.store.database import upgrade_schema

    upgrade_schema(sqlite_url)
    engine = await started(sqlite_url)
    try:
        await engine.create("ai-chat/kill", content_type=JSON)
        acknowledged = [await engine.append("ai-chat/kill", f'{{"n":{n}}}'.encode(),
                                            content_type=JSON) for n in range(5)]  # fmt: skip
        runner = engine.storage.runner
        old_pid = runner.pid
        os.kill(old_pid, signal.SIGKILL)
        await asyncio.to_thread(runner._child.wait, 10)
        # The next write finds the child gone and starts a new one.
        after = await engine.append("ai-chat/kill", b'{"n":5}', content_type=JSON)
        assert runner.pid not in (None, old_pid)
        assert after.start == acknowledged[-1].info.tail  # offsets continue, no gap
        read = await engine.read("ai-chat/kill")
        assert values(read) == [{"n": n} for n in range(6)]
    finally:
        await engine.close()


async def test_a_child_that_cannot_connect_fails_the_start_clearly() -> None:
    engine = open_engine("postgresql://postgres@127.0.0.1:1/nothing", writer="process")
    with pytest.raises(StorageUnavailableError, match="writer process did not start"):
        await engine.start()
    await engine.close()


async def test_postgres_skips_its_own_notifications_by_the_childs_backend_pid(
    postgres_url: str,
) -> None:
    from solidtype_jupyter.store.database import upgrade_schema

    upgrade_schema(postgres_url)
    engine = await started(postgres_url)
    try:
        await engine.create("ai-chat/pid", content_type=JSON)
        pid = engine.storage._writer_pid
        assert isinstance(pid, int) and pid != os.getpid()
        import psycopg

        with psycopg.connect(engine.storage.url, autocommit=True) as check:
            backends = check.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchall()
        assert (pid,) in backends
    finally:
        await engine.close()


def test_auto_puts_postgres_writes_in_a_process_and_sqlite_writes_in_a_thread(tmp_path):
    from solidtype_jupyter.streams import open_storage

    postgres = "postgresql://postgres@127.0.0.1:5432/anything"  # nothing connects yet
    sqlite = f"sqlite:///{tmp_path / 'streams.db'}"
    assert open_storage(postgres, writer="auto").writer_process
    assert not open_storage(sqlite, writer="auto").writer_process
    assert open_storage(sqlite, writer="process").writer_process
    assert not open_storage(postgres).writer_process  # library default: a thread
    with pytest.raises(ValueError, match="writer must be one of"):
        open_storage(sqlite, writer="fork")
