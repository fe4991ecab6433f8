"""``LiveTails``: the in-memory cache that serves caught-up live readers."""

from __future__ import annotations

import asyncio
import time

from solidtype_jupyter.streams import StoredMessage
from solidtype_jupyter.streams.live import LiveTails, PushedMessages


def test_cache_serves_only_what_it_holds_contiguously():
    live = LiveTails(cache_bytes=100)
    position = 0
    for _ in range(3000):  # 10-byte messages: the cache keeps about the newest 10
        message = StoredMessage(position + 10, b"x" * 10)
        live.published("s", 7, position, [message], message.end, False, cacheable=True)
        position = message.end
    newest = live.cached_after("s", position - 30)
    assert newest is not None and [m.end for m in newest.messages] == [
        position - 20,
        position - 10,
        position,
    ]
    assert live.cached_after("s", position).messages == []  # caught up: nothing new
    assert live.cached_after("s", 0) is None  # trimmed away: read the database
    assert live.cached_after("s", position + 10) is None  # beyond what this process knows

    # An append made elsewhere leaves a gap: the cache restarts instead of lying.
    live.published(
        "s",
        7,
        position + 50,
        [StoredMessage(position + 60, b"y")],
        position + 60,
        False,
        cacheable=True,
    )
    assert live.cached_after("s", position) is None
    live.changed("s")
    assert live.cached_after("s", position + 50) is None


async def test_waiters_wake_on_change_and_time_out():
    live = LiveTails()
    seen = live.version("s")
    assert not await live.wait("s", seen, 0.01)
    live.changed("other")
    assert not await live.wait("s", seen, 0.01)
    live.changed("s")
    assert await live.wait("s", seen, 5)  # changed since `seen`: no wait at all
    live2 = LiveTails()
    seen = live2.version("s")
    waiter = asyncio.ensure_future(live2.wait("s", seen, 5))
    await asyncio.sleep(0.01)
    live2.changed("s")  # wakes a reader that is already waiting
    assert await asyncio.wait_for(waiter, 1)
    assert live2.readers("s") == 0  # a woken waiter is forgotten


def _append(live: LiveTails, start: int, data: bytes) -> int:
    message = StoredMessage(start + len(data), data)
    live.published("s", 7, start, [message], message.end, False, cacheable=True)
    return message.end


async def test_pushed_messages_hand_over_appends_in_order():
    live = LiveTails()
    pushed = PushedMessages(live, "s", 0, keep_alive=5)
    try:
        end = _append(live, 0, b"a,")
        end = _append(live, end, b"b,")  # two appends before the reader runs: one batch
        assert [m.data for m in await pushed.next()] == [b"a,", b"b,"]
        later = asyncio.ensure_future(pushed.next())
        await asyncio.sleep(0.01)
        assert not later.done()  # nothing pushed: it waits
        _append(live, end, b"c,")
        assert [m.data for m in await asyncio.wait_for(later, 1)] == [b"c,"]
    finally:
        pushed.close()
    assert live.readers("s") == 0


async def test_pushed_messages_keep_alive_gap_and_stop():
    live = LiveTails()
    pushed = PushedMessages(live, "s", 0, keep_alive=0.05)
    try:
        started = time.monotonic()
        assert await asyncio.wait_for(pushed.next(), 1) == []  # quiet: a keep-alive
        assert time.monotonic() - started >= 0.04
        _append(live, 10, b"x,")  # starts past the reader's position: a gap
        assert await asyncio.wait_for(pushed.next(), 1) is None  # read for yourself
    finally:
        pushed.close()

    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    pushed = PushedMessages(live, "s", 12, keep_alive=5, stop=stop)
    try:
        waiting = asyncio.ensure_future(pushed.next())
        await asyncio.sleep(0.01)
        stop.set_result(None)  # the run ended
        assert await asyncio.wait_for(waiting, 1) is None
    finally:
        pushed.close()
