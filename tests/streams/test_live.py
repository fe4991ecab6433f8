"""``LiveTails``: the in-memory cache that serves caught-up live readers."""

from __future__ import annotations

from solidtype_jupyter.streams import StoredMessage
from solidtype_jupyter.streams.live import LiveTails


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
