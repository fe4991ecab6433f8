"""Durable Streams: append-only, offset-addressed byte/JSON streams with live tails.

Public API:

* ``StreamEngine`` (``open_engine(database_url)``): ``create``, ``append``,
  ``close_stream``, ``delete``, ``head``, ``read`` (catch-up), ``long_poll`` and ``tail``
  (live), with the semantics of the Durable Streams HTTP protocol that
  ``server/streams.py`` serves.
* Results: ``StreamInfo``, ``CreateResult``, ``AppendResult``, ``ReadResult``,
  ``LongPollResult``; ``ProducerTuple`` for idempotent producers; ``json_values`` and
  ``json_array`` to decode JSON-mode messages.
* Errors (``StreamError`` and subclasses), each with the protocol's HTTP ``status``.
* Authorization: ``StreamAuthorizer`` and ``SessionStreamAuthorizer``.
* Paths: ``validate_stream_path``.
"""

from __future__ import annotations

from .authz import SessionStreamAuthorizer, StreamAccess, StreamAuthorizer
from .engine import LongPollResult, StreamEngine
from .errors import (
    InvalidRequestError,
    ProducerSequenceGapError,
    StaleProducerEpochError,
    StorageUnavailableError,
    StreamClosedError,
    StreamConflictError,
    StreamError,
    StreamGoneError,
    StreamNotFoundError,
)
from .offsets import BEGINNING, NOW, format_offset, parse_offset
from .operations import AppendResult, CreateResult, ReadResult, StreamInfo
from .paths import InvalidStreamPathError, validate_stream_path
from .records import ProducerTuple, StoredMessage, json_array, json_values
from .storage import open_storage

__all__ = [
    "BEGINNING",
    "NOW",
    "AppendResult",
    "CreateResult",
    "InvalidRequestError",
    "InvalidStreamPathError",
    "LongPollResult",
    "ProducerSequenceGapError",
    "ProducerTuple",
    "ReadResult",
    "SessionStreamAuthorizer",
    "StaleProducerEpochError",
    "StorageUnavailableError",
    "StoredMessage",
    "StreamAccess",
    "StreamAuthorizer",
    "StreamClosedError",
    "StreamConflictError",
    "StreamEngine",
    "StreamError",
    "StreamGoneError",
    "StreamInfo",
    "StreamNotFoundError",
    "format_offset",
    "json_array",
    "json_values",
    "open_engine",
    "open_storage",
    "parse_offset",
    "validate_stream_path",
]


def open_engine(
    database_url: str, *, writer: str = "thread", **options: float | int
) -> StreamEngine:
    """An engine on the database of ``database_url`` (``memory://`` for tests); call
    ``await engine.start()`` before use. ``writer``: ``thread``, ``process`` or ``auto``,
    where write transactions run (see ``open_storage``). ``options``:
    ``long_poll_timeout``, ``read_chunk_bytes``."""
    storage = open_storage(database_url, writer=writer)
    return StreamEngine(storage, **options)  # type: ignore[arg-type]
