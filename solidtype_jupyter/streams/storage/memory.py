"""In-process storage for tests and the standalone server's ``--memory`` mode.

Operations run on the event loop itself (they are pure dictionary work). A failed
operation must not leave partial changes: rows are copied on read and written back only
by the operation's explicit updates, and operations validate before they mutate.
"""

from __future__ import annotations

import bisect
import copy
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..live import LiveTails
from ..records import ProducerState, StoredMessage, StreamRecord

T = TypeVar("T")


class _MemoryTx:
    def __init__(self, storage: MemoryStorage) -> None:
        self._s = storage
        self._undo: list[Callable[[], None]] = []

    def now(self) -> float:
        return time.time()

    def get_stream(self, path: str) -> StreamRecord | None:
        stream_id = self._s.paths.get(path)
        return None if stream_id is None else self.get_stream_by_id(stream_id)

    def get_stream_by_id(self, stream_id: int) -> StreamRecord | None:
        record = self._s.rows.get(stream_id)
        return None if record is None else record.clone()

    def insert_stream(self, record: StreamRecord) -> int:
        self._s.next_id += 1
        stored = record.clone()
        stored.id = self._s.next_id
        self._s.rows[stored.id] = stored
        self._s.paths[stored.path] = stored.id
        self._s.messages[stored.id] = ([], [])
        self._undo.append(lambda: self._forget(stored.id, stored.path))
        return stored.id

    def _forget(self, stream_id: int, path: str) -> None:
        self._s.rows.pop(stream_id, None)
        self._s.messages.pop(stream_id, None)
        if self._s.paths.get(path) == stream_id:
            del self._s.paths[path]

    def update_stream(self, record: StreamRecord) -> None:
        previous = self._s.rows[record.id]
        self._s.rows[record.id] = record.clone()
        self._undo.append(lambda: self._s.rows.__setitem__(record.id, previous))

    def delete_stream(self, stream_id: int) -> None:
        record = self._s.rows.pop(stream_id, None)
        self._s.messages.pop(stream_id, None)
        self._s.producers = {k: v for k, v in self._s.producers.items() if k[0] != stream_id}
        if record is not None and self._s.paths.get(record.path) == stream_id:
            del self._s.paths[record.path]

    def insert_message(self, stream_id: int, end: int, data: bytes) -> None:
        ends, datas = self._s.messages[stream_id]
        ends.append(end)
        datas.append(data)

        def undo() -> None:
            ends.pop()
            datas.pop()

        self._undo.append(undo)

    def read_messages(
        self, stream_id: int, after: int, upto: int, limit_bytes: int
    ) -> list[StoredMessage]:
        ends, datas = self._s.messages.get(stream_id, ([], []))
        out: list[StoredMessage] = []
        size = 0
        index = bisect.bisect_right(ends, after)
        while index < len(ends) and ends[index] <= upto:
            out.append(StoredMessage(ends[index], datas[index]))
            size += len(datas[index])
            index += 1
            if size >= limit_bytes:
                break
        return out

    def get_producer(self, stream_id: int, producer_id: str) -> ProducerState | None:
        state = self._s.producers.get((stream_id, producer_id))
        return None if state is None else copy.copy(state)

    def put_producer(self, stream_id: int, producer_id: str, state: ProducerState) -> None:
        self._s.producers[(stream_id, producer_id)] = copy.copy(state)

    def announce(self, path: str) -> None:
        """One process: live readers are woken by the engine directly."""

    def rollback(self) -> None:
        for undo in reversed(self._undo):
            undo()


class MemoryStorage:
    name = "memory"

    def __init__(self) -> None:
        self.rows: dict[int, StreamRecord] = {}
        self.paths: dict[str, int] = {}
        self.messages: dict[int, tuple[list[int], list[bytes]]] = {}
        self.producers: dict[tuple[int, str], ProducerState] = {}
        self.next_id = 0

    async def start(self, live: LiveTails) -> None:
        """Nothing to open."""

    async def write(self, function: Callable[..., T], *args: Any, path: str | None = None) -> T:
        tx = _MemoryTx(self)
        try:
            return function(tx, *args)
        except BaseException:
            tx.rollback()
            raise

    async def read(self, operation: Callable[[_MemoryTx], T]) -> T:
        return operation(_MemoryTx(self))

    async def close(self) -> None:
        """Nothing to close."""
