"""The writer process (``open_engine(..., writer="process")``, the server's on PostgreSQL): the
same protocol through a child process, errors that cross the pipe intact, and a child that
dies being replaced without losing what was acknowledged."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from solidtype_jupyter.store.database import upgrade_schema
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


async def started(url: str, *, migrate: bool = False):
    if migrate:  # ``durable_url`` comes migrated; ``sqlite_url`` and ``postgres_url`` do not
        upgrade_schema(url)
    engine = open_engine(url, writer="process", long_poll_timeout=2.0)
    await engine.start()
    return engine


def values(result) -> list:
    return [v for m in result.messages for v in json_values(m.data)]


async def test_writes_run_in_a_child_with_the_same_semantics(durable_url: str) -> None:
    engine = await started(durable_url)
    try:
        child = engine.storage.process
        assert isinstance(child, WriterProcess)
        assert child.pid is not None and child.pid != os.getpid()
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
    assert child.pid is None  # closed with the engine


async def test_a_killed_child_is_replaced_and_nothing_acknowledged_is_lost(
    sqlite_url: str,
) -> None:
    engine = await started(sqlite_url, migrate=True)
    try:
        await engine.create("ai-chat/kill", content_type=JSON)
        acknowledged = [await engine.append("ai-chat/kill", f'{{"n":{n}}}'.encode(),
                                            content_type=JSON) for n in range(5)]  # fmt: skip
        child = engine.storage.process
        old_pid = child.pid
        os.kill(old_pid, signal.SIGKILL)
        while child.pid is not None:  # noqa: ASYNC110 (until the loop has seen it exit)
            await asyncio.sleep(0.01)
        # The next write finds the child gone and starts a new one.
        after = await engine.append("ai-chat/kill", b'{"n":5}', content_type=JSON)
        assert child.pid not in (None, old_pid)
        assert after.start == acknowledged[-1].info.tail  # offsets continue, no gap
        read = await engine.read("ai-chat/kill")
        assert values(read) == [{"n": n} for n in range(6)]
    finally:
        await engine.close()


async def test_concurrent_writes_share_the_childs_transactions_in_order(durable_url: str) -> None:
    """Writes go to the child as they come and it commits whatever has arrived together;
    each outcome still reaches its own writer, also when a writer before it gave up."""
    engine = await started(durable_url)
    paths = [f"ai-chat/many{n}" for n in range(40)]
    try:
        for path in paths:
            await engine.create(path, content_type=JSON)

        async def appends(path: str) -> list[int]:
            ends = []
            for n in range(5):
                result = await engine.append_json_values(path, [f'{{"n":{n}}}'])
                ends.append(result.info.tail)
            return ends

        # A write cancelled while the child works on it: its outcome is dropped and the
        # one sent with it (same frame, same reply) still reaches its writer.
        abandoned = asyncio.ensure_future(engine.append_json_values(paths[0], ['{"gone":1}']))
        kept = asyncio.ensure_future(engine.append_json_values(paths[1], ['{"kept":1}']))
        await asyncio.sleep(0)
        abandoned.cancel()
        assert (await asyncio.wait_for(kept, 10)).info.tail > 0
        tails = await asyncio.gather(*(appends(path) for path in paths))
        for path, ends in zip(paths, tails, strict=True):
            assert ends == sorted(ends) and len(set(ends)) == 5  # each its own, in order
            numbers = [v["n"] for v in values(await engine.read(path)) if "n" in v]
            assert numbers == list(range(5))
    finally:
        await engine.close()


async def test_close_answers_what_was_sent_and_refuses_what_comes_after(sqlite_url: str) -> None:
    engine = await started(sqlite_url, migrate=True)
    await engine.create("ai-chat/closing", content_type=JSON)
    pending = [
        asyncio.ensure_future(engine.append_json_values("ai-chat/closing", [f'{{"n":{n}}}']))
        for n in range(20)
    ]
    await asyncio.sleep(0)  # they are written, not yet answered
    await engine.storage.process.close()
    assert [p.result().info.tail for p in pending] == sorted(p.result().info.tail for p in pending)
    with pytest.raises(StorageUnavailableError, match="closed"):
        await engine.append_json_values("ai-chat/closing", ['{"late":1}'])
    await engine.close()
    reopened = await started(sqlite_url)
    try:
        stored = values(await reopened.read("ai-chat/closing"))
        assert stored == [{"n": n} for n in range(20)]
    finally:
        await reopened.close()


async def test_a_write_from_another_threads_loop_goes_through_the_servers_loop(
    sqlite_url: str,
) -> None:
    engine = await started(sqlite_url, migrate=True)
    try:
        await engine.create("ai-chat/thread", content_type=JSON)

        def elsewhere() -> int:
            append = engine.append_json_values("ai-chat/thread", ['{"from":"thread"}'])
            return asyncio.run(append).info.tail

        tail = await asyncio.to_thread(elsewhere)
        read = await engine.read("ai-chat/thread")
        assert values(read) == [{"from": "thread"}] and read.info.tail == tail
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
    engine = await started(postgres_url, migrate=True)
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
