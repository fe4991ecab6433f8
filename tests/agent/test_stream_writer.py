"""``StreamWriter``: a session's events appended in order, in batches, with back pressure."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from solidtype_jupyter.agent.event_log import StreamWriter, decode
from solidtype_jupyter.protocol import agui
from solidtype_jupyter.store.database import upgrade_schema
from solidtype_jupyter.streams import StreamEngine, StreamNotFoundError, open_engine


def delta(n: int) -> agui.TextMessageContent:
    return agui.TextMessageContent(message_id="m", delta=str(n))


@contextlib.asynccontextmanager
async def started(sqlite_url: str) -> AsyncIterator[StreamEngine]:
    upgrade_schema(sqlite_url)
    engine = open_engine(sqlite_url)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


def hold_appends(engine: StreamEngine, held: int) -> list[tuple[int, asyncio.Event]]:
    """Make the engine's first ``held`` appends wait for their release (the real append
    runs after it); returns (events in the append, its release), one per append."""
    appends: list[tuple[int, asyncio.Event]] = []
    stored = engine.append_json_values

    async def held_append(path: str, values: Any) -> Any:
        release = asyncio.Event()
        if len(appends) >= held:
            release.set()
        appends.append((len(values), release))
        await release.wait()
        return await stored(path, values)

    engine.append_json_values = held_append  # type: ignore[method-assign]
    return appends


def deltas_of(result: Any) -> list[str]:
    return [event.data["delta"] for event in decode(result.messages, 0)]


async def test_a_full_writer_waits_for_its_batch_to_be_taken_not_stored(sqlite_url):
    """With ``max_pending`` events waiting, ``put`` waits until they go into an append,
    and the next events are made while that append commits (waiting for the whole flush
    left the event loop idle during every commit)."""
    async with started(sqlite_url) as engine:
        await engine.create("ai-chat/w", content_type="application/json")
        appends = hold_appends(engine, held=2)
        writer = StreamWriter(engine, "ai-chat/w", max_pending=3)
        await writer.put(delta(0))  # starts the flusher: event 0 is being appended
        await asyncio.sleep(0)
        for n in range(1, 3):
            await writer.put(delta(n))
        full = asyncio.ensure_future(writer.put(delta(3)))  # 3 waiting: full
        await asyncio.sleep(0.05)
        assert not full.done()
        appends[0][1].set()  # the first append commits; the flusher takes events 1-3
        await asyncio.wait_for(full, 5)  # while their append is still held
        assert [count for count, _ in appends] == [1, 3]
        assert not appends[1][1].is_set()
        for n in range(4, 6):  # made while the second append is committing
            await writer.put(delta(n))
        appends[1][1].set()
        await writer.drain()
        assert [count for count, _ in appends] == [1, 3, 2]
        result = await engine.read("ai-chat/w")
        assert deltas_of(result) == [str(n) for n in range(6)]
        assert writer.last_position == result.info.tail


async def test_a_failed_append_reaches_the_waiting_producer(sqlite_url):
    async with started(sqlite_url) as engine:
        writer = StreamWriter(engine, "ai-chat/missing", max_pending=2)  # no such stream
        with pytest.raises(StreamNotFoundError):  # the append's own error, not a hang
            for n in range(10):
                await writer.put(delta(n))
            await writer.drain()


async def test_a_cancelled_wait_does_not_cancel_the_next_one(sqlite_url):
    async with started(sqlite_url) as engine:
        await engine.create("ai-chat/c", content_type="application/json")
        appends = hold_appends(engine, held=1)
        writer = StreamWriter(engine, "ai-chat/c", max_pending=2)
        await writer.put(delta(0))
        await asyncio.sleep(0)  # the flusher takes event 0 and is held
        await writer.put(delta(1))
        first = asyncio.ensure_future(writer.put(delta(2)))  # full: waits
        await asyncio.sleep(0.05)
        first.cancel()  # e.g. the run was stopped
        second = asyncio.ensure_future(writer.put(delta(3)))
        await asyncio.sleep(0.05)
        assert not second.done()  # waits for its own turn, not cancelled
        appends[0][1].set()
        await asyncio.wait_for(second, 5)
        await writer.drain()
        assert deltas_of(await engine.read("ai-chat/c")) == ["0", "1", "2", "3"]
