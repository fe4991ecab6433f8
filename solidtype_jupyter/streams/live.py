"""Waking live readers, and serving them the newest messages from memory.

Every committed change to a stream bumps its version and wakes the readers waiting on it.
Appends made by this process also leave their messages in a small per-stream cache, so a
live reader that is caught up gets the next batch without a database round trip (the
common case: 100 SSE readers on one chat stream cost one write, not 100 reads). Changes
from other processes (PostgreSQL NOTIFY, another SQLite writer) wake readers and drop
the cache entry, so they read from the database.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .records import StoredMessage

CACHE_BYTES_PER_STREAM = 1 << 20


@dataclass
class _Recent:
    """The newest messages of one stream, as ``ends[i]`` and ``datas[i]`` (``[head:]`` are
    live: the prefix is dropped in bulk, so trimming stays amortized O(1) and lookups can
    bisect ``ends``).

    Two lists of ints and bytes rather than one of ``StoredMessage``: the garbage collector
    does not track ints and bytes, while it walks every tuple-like message in each full
    collection. With 200 chats streaming the cache held 100,000 of them, and each full
    collection stopped the server for 20-60 ms (BENCHMARKS.md, Chat).
    """

    stream_id: int
    first_start: int
    tail: int
    closed: bool
    ends: list[int] = field(default_factory=list)
    datas: list[bytes] = field(default_factory=list)
    head: int = 0
    size: int = 0

    def add(self, messages: list[StoredMessage]) -> None:
        for end, data in messages:
            self.ends.append(end)
            self.datas.append(data)
            self.size += len(data)

    def trim(self, limit: int) -> None:
        while self.size > limit and len(self.ends) - self.head > 1:
            self.size -= len(self.datas[self.head])
            self.first_start = self.ends[self.head]
            self.head += 1
        if self.head > 1024 and self.head * 2 > len(self.ends):
            del self.ends[: self.head]
            del self.datas[: self.head]
            self.head = 0

    def after(self, index: int) -> list[StoredMessage]:
        return list(map(StoredMessage, self.ends[index:], self.datas[index:]))


Push = Callable[[int, list[StoredMessage], int, bool], bool]


class ParkedReader:
    """A caught-up live reader that takes new batches by direct push (see ``LiveTails.park``).

    ``position`` advances with every push; ``released`` completes when the reader must go
    back to reading for itself (a gap, a remote change, a non-cacheable stream, or its own
    ``push`` returned False).
    """

    def __init__(self, path: str, position: int, push: Push) -> None:
        self.path = path
        self.position = position
        self.push = push
        self.released: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def release(self) -> None:
        if not self.released.done():
            self.released.set_result(None)


class PushedMessages:
    """A caught-up reader that is a task rather than a callback: this process's appends at
    ``position`` are pushed to it (``LiveTails.park``) and ``next()`` hands them over.

    Cheaper per append than waiting for a version change and reading the cache (no read
    result, no timer and no wait object per append): the chat's followers take every
    delta of every answer this way. The keep-alive timer is one per idle period, moved
    on lazily, not one per wait.
    """

    def __init__(
        self,
        live: LiveTails,
        path: str,
        position: int,
        keep_alive: float,
        stop: asyncio.Future[Any] | None = None,
    ) -> None:
        self._live = live
        self._loop = asyncio.get_running_loop()
        self._messages: list[StoredMessage] = []
        self._waiter: asyncio.Future[None] | None = None
        self._keep_alive = keep_alive
        self._last = self._loop.time()
        self._idle = False
        self._stop = stop
        self.parked = live.park(path, position, self._push)
        self.parked.released.add_done_callback(self._wake)
        if stop is not None:
            stop.add_done_callback(self._wake)
        self._timer = self._loop.call_at(self._last + keep_alive, self._on_timer)

    def _push(self, start: int, messages: list[StoredMessage], tail: int, closed: bool) -> bool:
        self._messages.extend(messages)
        self._last = self._loop.time()
        self._wake()
        return not closed

    def _wake(self, _: object = None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _on_timer(self) -> None:
        now = self._loop.time()
        due = self._last + self._keep_alive
        if now >= due:  # nothing pushed for a whole period
            self._idle = True
            self._last = now
            due = now + self._keep_alive
            self._wake()
        self._timer = self._loop.call_at(due, self._on_timer)

    async def next(self) -> list[StoredMessage] | None:
        """The messages pushed since the last call (waiting for some); ``[]`` after
        ``keep_alive`` seconds without any; ``None`` when the reader must read for itself
        again (a gap, a change from elsewhere, the stream closed) or ``stop`` is done."""
        while not self._messages:
            if self.parked.released.done() or (self._stop is not None and self._stop.done()):
                return None
            if self._idle:
                self._idle = False
                return []
            self._waiter = self._loop.create_future()
            await self._waiter
        out, self._messages = self._messages, []
        return out

    def close(self) -> None:
        self._timer.cancel()
        self._live.unpark(self.parked)
        self.parked.released.remove_done_callback(self._wake)
        if self._stop is not None:  # a long run is followed by many requests
            self._stop.remove_done_callback(self._wake)


@dataclass(frozen=True)
class CachedRange:
    stream_id: int
    messages: list[StoredMessage]
    tail: int
    closed: bool


def _time_out(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)


class LiveTails:
    def __init__(self, cache_bytes: int = CACHE_BYTES_PER_STREAM) -> None:
        self._cache_bytes = cache_bytes
        self._versions: dict[str, int] = {}
        self._global_version = 0
        self._waiters: dict[str, set[asyncio.Future[bool]]] = {}
        self._recent: dict[str, _Recent] = {}
        self._parked: dict[str, set[ParkedReader]] = {}

    def version(self, path: str) -> tuple[int, int]:
        return self._versions.get(path, 0), self._global_version

    def published(
        self,
        path: str,
        stream_id: int,
        start: int,
        messages: list[StoredMessage],
        tail: int,
        closed: bool,
        cacheable: bool,
    ) -> None:
        """This process committed ``messages`` (positions ``start``..``tail``)."""
        recent = self._recent.get(path)
        if not cacheable:
            self._recent.pop(path, None)
        elif recent is None or recent.stream_id != stream_id or recent.tail != start:
            recent = _Recent(stream_id=stream_id, first_start=start, tail=start, closed=False)
            self._recent[path] = recent
        if cacheable and recent is not None:
            recent.add(messages)
            recent.tail = tail
            recent.closed = closed
            recent.trim(self._cache_bytes)
        parked = self._parked.get(path)
        if parked:
            for reader in list(parked):
                if cacheable and messages and reader.position == start:
                    reader.position = tail
                    if reader.push(start, messages, tail, closed):
                        continue
                reader.release()
                parked.discard(reader)
        self._bump(path)

    def changed(self, path: str | None) -> None:
        """Something else changed ``path`` (``None``: any stream): forget, and wake."""
        if path is None:
            self._recent.clear()
            for readers in self._parked.values():
                for reader in readers:
                    reader.release()
            self._parked.clear()
            self._global_version += 1
            for waiting in list(self._waiters):
                self._wake(waiting)
            return
        self._recent.pop(path, None)
        for reader in self._parked.pop(path, ()):
            reader.release()
        self._bump(path)

    def _bump(self, path: str) -> None:
        self._versions[path] = self._versions.get(path, 0) + 1
        self._wake(path)

    def _wake(self, path: str) -> None:
        for future in self._waiters.pop(path, ()):
            if not future.done():
                future.set_result(True)

    def cached_after(self, path: str, position: int) -> CachedRange | None:
        """Messages after ``position`` if this process's cache covers it, else ``None``."""
        recent = self._recent.get(path)
        if recent is None or not recent.first_start <= position <= recent.tail:
            return None
        index = max(recent.head, bisect.bisect_right(recent.ends, position))
        return CachedRange(recent.stream_id, recent.after(index), recent.tail, recent.closed)

    async def wait(self, path: str, seen: tuple[int, int], seconds: float) -> bool:
        """Wait up to ``seconds`` until ``path`` changes after version ``seen``; False
        when nothing changed in time."""
        if self.version(path) != seen:
            return True
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiters.setdefault(path, set()).add(future)
        # A timer on the future itself: ``asyncio.wait_for`` wraps every wait in more
        # futures and callbacks, and long-poll and SSE readers wait here once per append.
        timer = loop.call_later(seconds, _time_out, future)
        try:
            return await future
        finally:
            timer.cancel()
            waiting = self._waiters.get(path)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self._waiters[path]

    def park(self, path: str, position: int, push: Push) -> ParkedReader:
        """Hand this process's next appends at ``position`` straight to ``push``.

        Delivery to many caught-up readers is then one loop in the appender (each reader
        gets the batch written out, sharing one encoding) instead of one task wake-up and
        cache lookup per reader. ``push(start, messages, tail, closed)`` runs inside the
        append; it returns False to stop being parked. Call ``unpark`` when done.
        """
        reader = ParkedReader(path, position, push)
        self._parked.setdefault(path, set()).add(reader)
        return reader

    def unpark(self, reader: ParkedReader) -> None:
        reader.release()
        readers = self._parked.get(reader.path)
        if readers is not None:
            readers.discard(reader)
            if not readers:
                del self._parked[reader.path]

    def readers(self, path: str) -> int:
        """How many live readers of ``path`` this process is holding (parked or waiting)."""
        return len(self._parked.get(path, ())) + len(self._waiters.get(path, ()))

    def watched(self) -> dict[str, tuple[int, bool] | None]:
        """Paths live readers wait on, with the (tail, closed) this process knows of."""
        out: dict[str, tuple[int, bool] | None] = {}
        for path in {*self._waiters, *self._parked}:
            recent = self._recent.get(path)
            out[path] = None if recent is None else (recent.tail, recent.closed)
        return out

    def forget(self, path: str) -> None:
        self._recent.pop(path, None)
        if path not in self._waiters:
            self._versions.pop(path, None)
