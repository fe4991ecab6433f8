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

from .records import StoredMessage

CACHE_BYTES_PER_STREAM = 1 << 20


@dataclass
class _Recent:
    """The newest messages of one stream; ``messages[head:]`` are live (the prefix is
    dropped in bulk, so trimming stays amortized O(1) and lookups can bisect ``ends``)."""

    stream_id: int
    first_start: int
    tail: int
    closed: bool
    messages: list[StoredMessage] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    head: int = 0
    size: int = 0

    def trim(self, limit: int) -> None:
        while self.size > limit and len(self.messages) - self.head > 1:
            dropped = self.messages[self.head]
            self.head += 1
            self.size -= len(dropped.data)
            self.first_start = dropped.end
        if self.head > 1024 and self.head * 2 > len(self.messages):
            del self.messages[: self.head]
            del self.ends[: self.head]
            self.head = 0


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


@dataclass(frozen=True)
class CachedRange:
    stream_id: int
    messages: list[StoredMessage]
    tail: int
    closed: bool


class LiveTails:
    def __init__(self, cache_bytes: int = CACHE_BYTES_PER_STREAM) -> None:
        self._cache_bytes = cache_bytes
        self._versions: dict[str, int] = {}
        self._global_version = 0
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
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
            for message in messages:
                recent.messages.append(message)
                recent.ends.append(message.end)
                recent.size += len(message.data)
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
                future.set_result(None)

    def cached_after(self, path: str, position: int) -> CachedRange | None:
        """Messages after ``position`` if this process's cache covers it, else ``None``."""
        recent = self._recent.get(path)
        if recent is None or not recent.first_start <= position <= recent.tail:
            return None
        index = max(recent.head, bisect.bisect_right(recent.ends, position))
        return CachedRange(recent.stream_id, recent.messages[index:], recent.tail, recent.closed)

    async def wait(self, path: str, seen: tuple[int, int], seconds: float) -> bool:
        """Wait up to ``seconds`` until ``path`` changes after version ``seen``; False
        when nothing changed in time."""
        if self.version(path) != seen:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(path, set()).add(future)
        try:
            await asyncio.wait_for(future, seconds)
            return True
        except TimeoutError:
            return False
        finally:
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
