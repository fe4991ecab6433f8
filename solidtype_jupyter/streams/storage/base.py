"""What a storage backend provides: transactions over stream rows, messages, producers.

The protocol's rules live once, in ``streams.operations``, as plain functions over a
``StorageTx``; a backend only stores and fetches. ``Storage.write`` runs a function in a
write transaction (serialized with every other writer of the database, across processes)
and ``Storage.read`` in a read-only snapshot-free context (readers never block writers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from ..live import LiveTails
from ..records import ProducerState, StoredMessage, StreamRecord

T = TypeVar("T")


class StorageTx(Protocol):
    def now(self) -> float: ...

    def get_stream(self, path: str) -> StreamRecord | None:
        """The row for ``path`` (locked for the rest of the transaction in a writer)."""

    def get_stream_by_id(self, stream_id: int) -> StreamRecord | None: ...

    def insert_stream(self, record: StreamRecord) -> int:
        """Store a new row; returns its id (``record.id`` is ignored)."""

    def update_stream(self, record: StreamRecord) -> None: ...

    def delete_stream(self, stream_id: int) -> None:
        """Remove the row with its messages and producer states."""

    def insert_message(self, stream_id: int, end: int, data: bytes) -> None: ...

    def read_messages(
        self, stream_id: int, after: int, upto: int, limit_bytes: int
    ) -> list[StoredMessage]:
        """Messages with ``after < end <= upto`` in order, stopping once ``limit_bytes``
        are collected (always at least one message when any exists)."""

    def get_producer(self, stream_id: int, producer_id: str) -> ProducerState | None: ...

    def put_producer(self, stream_id: int, producer_id: str, state: ProducerState) -> None: ...

    def announce(self, path: str) -> None:
        """Tell live readers in other processes that ``path`` changed (after commit)."""


class Storage(Protocol):
    name: str

    async def start(self, live: LiveTails) -> None:
        """Open connections. When another process changes a stream, call
        ``live.changed(path)`` on the event loop so waiting readers look again."""

    async def write(self, function: Callable[..., T], *args: Any, path: str | None = None) -> T:
        """Run ``function(tx, *args)`` in a write transaction and commit before returning.

        ``function`` and ``args`` must pickle (a module-level function and plain data): a
        backend may run the transaction in another process. A ``StreamError`` raised by
        the operation rolls back its changes and propagates.
        ``path``: the stream the operation works on, if it is one; a backend may read the
        rows of many waiting operations at once."""

    async def read(self, operation: Callable[[StorageTx], T]) -> T: ...

    async def close(self) -> None: ...
