"""The protocol's rules for every stream operation, written once over a ``StorageTx``.

Each write function runs inside one write transaction of a backend (so validation and
mutation are atomic and serialized per stream, across processes). Functions validate
everything before they mutate anything: a rejected request changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import (
    InvalidRequestError,
    ProducerSequenceGapError,
    StaleProducerEpochError,
    StreamClosedError,
    StreamConflictError,
    StreamGoneError,
    StreamNotFoundError,
    fork_source_not_found,
)
from .offsets import format_offset
from .records import (
    DEFAULT_CONTENT_TYPE,
    ProducerState,
    ProducerTuple,
    StoredMessage,
    StreamRecord,
    encode_json_append,
    is_json,
    json_values,
    media_type,
)
from .storage.base import StorageTx

# Producer states unused for this long are forgotten (as Kafka and the reference do).
PRODUCER_STATE_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class StreamInfo:
    """A stream's metadata as clients see it (HEAD, and the result of create)."""

    path: str
    content_type: str
    closed: bool
    ttl_seconds: int | None
    expires_at: str | None
    stream_id: int
    tail: int

    @property
    def next_offset(self) -> str:
        return format_offset(self.tail)

    @classmethod
    def of(cls, record: StreamRecord) -> StreamInfo:
        # Filled in directly rather than through the frozen ``__init__`` (one
        # ``object.__setattr__`` per field, half the cost): the writer makes one per append.
        info = object.__new__(cls)
        info.__dict__.update(
            path=record.path,
            content_type=record.content_type,
            closed=record.closed,
            ttl_seconds=record.ttl_seconds,
            expires_at=record.expires_at,
            stream_id=record.id,
            tail=record.tail,
        )
        return info


@dataclass(frozen=True)
class CreateResult:
    info: StreamInfo
    created: bool
    appended: list[StoredMessage] = field(default_factory=list)


@dataclass(frozen=True)
class AppendResult:
    """``duplicate``: an idempotent retry that stored nothing (HTTP 204 with producer)."""

    info: StreamInfo
    duplicate: bool = False
    producer: ProducerTuple | None = None
    appended: list[StoredMessage] = field(default_factory=list)
    start: int = 0


@dataclass(frozen=True)
class ReadResult:
    """A range of a stream: ``messages`` after ``start``; ``next_offset`` resumes after it.

    ``up_to_date``: the range reaches the tail. ``closed``: the stream is closed and the
    range reaches its final offset (the reader has everything there will ever be).
    """

    info: StreamInfo
    messages: list[StoredMessage]
    next_offset: str
    up_to_date: bool
    closed: bool
    start: int


# ---------------------------------------------------------------------------- lookups


def live_record(tx: StorageTx, path: str, *, writable: bool) -> StreamRecord | None:
    """The row of ``path`` after applying expiry; a writer also persists the expiry.

    An expired stream is gone (``None``), unless forks still read it: then it is
    soft-deleted (returned with ``soft_deleted`` set).
    """
    record = tx.get_stream(path)
    if record is None or record.soft_deleted or not record.expired(tx.now()):
        return record
    if record.ref_count > 0:
        record.soft_deleted = True
        if writable:
            tx.update_stream(record)
        return record
    if writable:
        _delete_cascade(tx, record)
    return None


def _existing(tx: StorageTx, path: str) -> StreamRecord:
    record = live_record(tx, path, writable=True)
    if record is None:
        raise StreamNotFoundError(f"stream {path!r} not found")
    if record.soft_deleted:
        raise StreamGoneError(f"stream {path!r} was deleted")
    return record


def _touch(tx: StorageTx, record: StreamRecord) -> None:
    """Reads and writes renew a sliding TTL; only TTL streams pay for the update."""
    record.last_access = tx.now()
    if record.ttl_seconds is not None:
        tx.update_stream(record)


def touch(tx: StorageTx, path: str) -> None:
    record = live_record(tx, path, writable=True)
    if record is not None and not record.soft_deleted and record.ttl_seconds is not None:
        _touch(tx, record)


# ---------------------------------------------------------------------------- create


@dataclass(frozen=True)
class CreateRequest:
    path: str
    content_type: str | None = None
    ttl_seconds: int | None = None
    expires_at: str | None = None
    expires_at_ts: float | None = None
    data: bytes = b""
    closed: bool = False
    forked_from: str | None = None
    fork_offset: int | None = None
    fork_sub_offset: int = 0


def create(tx: StorageTx, request: CreateRequest) -> CreateResult:
    existing = live_record(tx, request.path, writable=True)
    if existing is not None and existing.soft_deleted:
        raise StreamConflictError(
            f"stream {request.path!r} was deleted but its forks still read it; "
            "the path cannot be reused until they are gone"
        )
    source = _fork_source(tx, request) if request.forked_from else None
    content_type = request.content_type or (source.content_type if source else DEFAULT_CONTENT_TYPE)
    ttl, expires_at, expires_ts = request.ttl_seconds, request.expires_at, request.expires_at_ts
    if source is not None and ttl is None and expires_at is None:
        # Forks without an expiry of their own inherit the source's (spec 4.2).
        ttl, expires_at, expires_ts = (
            source.ttl_seconds,
            source.expires_at,
            source.expires_at_ts,
        )
    if existing is not None:
        if _same_config(existing, request, content_type, ttl, expires_at):
            return CreateResult(info=StreamInfo.of(existing), created=False)
        raise StreamConflictError(f"stream {request.path!r} exists with another configuration")

    initial = request.data
    if initial and is_json(content_type):
        initial = encode_json_append(initial, allow_empty_array=True)
    fork_offset = 0
    prefix = b""
    if source is not None:
        fork_offset = source.tail if request.fork_offset is None else request.fork_offset
        if not 0 <= fork_offset <= source.tail:
            raise InvalidRequestError("Stream-Fork-Offset is beyond the source stream's tail")
        if request.fork_sub_offset > 0:
            prefix = _sub_offset_prefix(tx, source, fork_offset, request.fork_sub_offset)
    now = tx.now()
    record = StreamRecord(
        id=0,
        path=request.path,
        content_type=content_type,
        tail=fork_offset,
        created_at=now,
        last_access=now,
        closed=request.closed,
        ttl_seconds=ttl,
        expires_at=expires_at,
        expires_at_ts=expires_ts,
        forked_from=source.path if source else None,
        forked_from_id=source.id if source else None,
        fork_offset=fork_offset if source else None,
        fork_sub_offset=request.fork_sub_offset if source else 0,
    )
    record.id = tx.insert_stream(record)
    appended = []
    for data in (prefix, initial):
        if data:
            appended.append(_store(tx, record, data))
    tx.update_stream(record)
    if source is not None:
        source.ref_count += 1
        tx.update_stream(source)
    tx.announce(record.path)
    return CreateResult(info=StreamInfo.of(record), created=True, appended=appended)


def _fork_source(tx: StorageTx, request: CreateRequest) -> StreamRecord:
    assert request.forked_from is not None
    source = live_record(tx, request.forked_from, writable=True)
    if source is None:
        raise fork_source_not_found(request.forked_from)
    if source.soft_deleted:
        raise StreamConflictError(f"fork source {request.forked_from!r} was deleted")
    if request.content_type and media_type(request.content_type) != media_type(source.content_type):
        raise StreamConflictError("a fork's content type must match its source's")
    return source


def _same_config(
    existing: StreamRecord,
    request: CreateRequest,
    content_type: str,
    ttl: int | None,
    expires_at: str | None,
) -> bool:
    return (
        media_type(existing.content_type) == media_type(content_type)
        and existing.ttl_seconds == ttl
        and existing.expires_at == expires_at
        and existing.closed == request.closed
        and existing.forked_from == (request.forked_from or None)
        and (request.fork_offset is None or request.fork_offset == existing.fork_offset)
        and existing.fork_sub_offset == request.fork_sub_offset
    )


def _sub_offset_prefix(tx: StorageTx, source: StreamRecord, fork_offset: int, sub: int) -> bytes:
    """The first ``sub`` bytes (JSON: values) of the source message after ``fork_offset``;
    the fork stores them as its own first message."""
    first = read_range(tx, source, fork_offset, limit_bytes=1, max_messages=1)
    if not first:
        raise InvalidRequestError("Stream-Fork-Sub-Offset: no data after the fork offset")
    data = first[0].data
    if is_json(source.content_type):
        values = json_values(data)
        if sub > len(values):
            raise InvalidRequestError("Stream-Fork-Sub-Offset exceeds the message's values")
        return encode_json_append(
            ("[" + ",".join(_compact(v) for v in values[:sub]) + "]").encode(),
            allow_empty_array=False,
        )
    if sub > len(data):
        raise InvalidRequestError("Stream-Fork-Sub-Offset exceeds the message's length")
    return data[:sub]


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _store(tx: StorageTx, record: StreamRecord, data: bytes) -> StoredMessage:
    record.tail += len(data)
    tx.insert_message(record.id, record.tail, data)
    return StoredMessage(end=record.tail, data=data)


# ---------------------------------------------------------------------------- append


@dataclass(frozen=True)
class AppendRequest:
    path: str
    data: bytes
    content_type: str | None
    stream_seq: str | None = None
    producer: ProducerTuple | None = None
    close: bool = False
    #: ``data`` is already stored JSON-mode framing (values each followed by a comma), made
    #: by this process's own encoder (``StreamEngine.append_json_values``): not parsed again.
    framed: bool = False


def append(tx: StorageTx, request: AppendRequest) -> AppendResult:
    record = _existing(tx, request.path)
    _touch(tx, record)
    producer = request.producer
    if not request.data:
        if not request.close:
            raise InvalidRequestError("an append needs a body (or Stream-Closed: true)")
        return _close_only(tx, record, producer)
    if record.closed:
        if producer is not None and record.closed_by == producer:
            return AppendResult(info=StreamInfo.of(record), duplicate=True, producer=producer)
        raise StreamClosedError("the stream is closed", format_offset(record.tail))
    if request.content_type is None:
        raise InvalidRequestError("Content-Type is required on an append with a body")
    if media_type(request.content_type) != media_type(record.content_type):
        raise StreamConflictError(
            f"content type {request.content_type!r} does not match the stream's "
            f"{record.content_type!r}"
        )
    state: ProducerState | None = None
    if producer is not None:
        state, duplicate_of = _check_producer(tx, record, producer)
        if duplicate_of is not None:
            return AppendResult(info=StreamInfo.of(record), duplicate=True, producer=duplicate_of)
    if (
        request.stream_seq is not None
        and record.stream_seq is not None
        and request.stream_seq.encode() <= record.stream_seq.encode()
    ):
        raise StreamConflictError(
            f"Stream-Seq {request.stream_seq!r} does not follow {record.stream_seq!r}"
        )
    data = request.data
    if is_json(record.content_type) and not request.framed:
        data = encode_json_append(data, allow_empty_array=False)
    start = record.tail
    message = _store(tx, record, data)
    if producer is not None and state is not None:
        tx.put_producer(record.id, producer.producer_id, state)
    if request.stream_seq is not None:
        record.stream_seq = request.stream_seq
    if request.close:
        record.closed = True
        record.closed_by = producer
    tx.update_stream(record)
    tx.announce(record.path)
    return AppendResult(
        info=StreamInfo.of(record), producer=producer, appended=[message], start=start
    )


def _check_producer(
    tx: StorageTx, record: StreamRecord, producer: ProducerTuple
) -> tuple[ProducerState | None, ProducerTuple | None]:
    """The state to store if accepted, or the tuple to echo for a duplicate.

    Kafka-style: a stale epoch is fenced (403); a new epoch starts at seq 0; within an
    epoch a seq at or below the last is a duplicate and a seq past last+1 is a gap.
    """
    now = tx.now()
    state = tx.get_producer(record.id, producer.producer_id)
    if state is not None and now - state.updated_at > PRODUCER_STATE_TTL_SECONDS:
        state = None
    accepted = ProducerState(epoch=producer.epoch, last_seq=producer.seq, updated_at=now)
    if state is None:
        if producer.seq != 0:
            raise ProducerSequenceGapError(expected=0, received=producer.seq)
        return accepted, None
    if producer.epoch < state.epoch:
        raise StaleProducerEpochError(state.epoch)
    if producer.epoch > state.epoch:
        if producer.seq != 0:
            raise InvalidRequestError("a new producer epoch must start at Producer-Seq 0")
        return accepted, None
    if producer.seq <= state.last_seq:
        return None, ProducerTuple(producer.producer_id, state.epoch, state.last_seq)
    if producer.seq != state.last_seq + 1:
        raise ProducerSequenceGapError(expected=state.last_seq + 1, received=producer.seq)
    return accepted, None


def _close_only(
    tx: StorageTx, record: StreamRecord, producer: ProducerTuple | None
) -> AppendResult:
    if producer is None:
        if not record.closed:
            record.closed = True
            tx.update_stream(record)
            tx.announce(record.path)
        return AppendResult(info=StreamInfo.of(record), start=record.tail)
    if record.closed:
        if record.closed_by == producer:
            return AppendResult(info=StreamInfo.of(record), duplicate=True, producer=producer)
        raise StreamClosedError("the stream is closed", format_offset(record.tail))
    state, duplicate_of = _check_producer(tx, record, producer)
    if duplicate_of is not None:
        return AppendResult(info=StreamInfo.of(record), duplicate=True, producer=duplicate_of)
    assert state is not None
    tx.put_producer(record.id, producer.producer_id, state)
    record.closed = True
    record.closed_by = producer
    tx.update_stream(record)
    tx.announce(record.path)
    return AppendResult(info=StreamInfo.of(record), producer=producer, start=record.tail)


# ---------------------------------------------------------------------------- delete


def delete(tx: StorageTx, path: str) -> None:
    record = _existing(tx, path)
    if record.ref_count > 0:
        # Forks still read through it: hide it (410) and keep the data until they go.
        record.soft_deleted = True
        tx.update_stream(record)
    else:
        _delete_cascade(tx, record)
    tx.announce(path)


def _delete_cascade(tx: StorageTx, record: StreamRecord) -> None:
    tx.delete_stream(record.id)
    parent_id = record.forked_from_id
    while parent_id is not None:
        parent = tx.get_stream_by_id(parent_id)
        if parent is None:
            return
        parent.ref_count = max(0, parent.ref_count - 1)
        if parent.ref_count > 0 or not parent.soft_deleted:
            tx.update_stream(parent)
            return
        tx.delete_stream(parent.id)
        parent_id = parent.forked_from_id


# ---------------------------------------------------------------------------- read


def info(tx: StorageTx, path: str) -> StreamInfo:
    """HEAD: metadata without renewing the TTL."""
    record = live_record(tx, path, writable=False)
    if record is None:
        raise StreamNotFoundError(f"stream {path!r} not found")
    if record.soft_deleted:
        raise StreamGoneError(f"stream {path!r} was deleted")
    return StreamInfo.of(record)


def read_range(
    tx: StorageTx,
    record: StreamRecord,
    after: int,
    *,
    limit_bytes: int,
    max_messages: int | None = None,
) -> list[StoredMessage]:
    """Messages after position ``after`` up to the tail, across the fork chain."""
    messages: list[StoredMessage] = []
    size = 0
    for stream_id, upto in _segments(tx, record, record.tail):
        if upto <= after:
            continue
        for message in tx.read_messages(stream_id, after, upto, limit_bytes - size):
            messages.append(message)
            size += len(message.data)
            after = message.end
            if size >= limit_bytes or (max_messages and len(messages) >= max_messages):
                return messages
    return messages


def _segments(tx: StorageTx, record: StreamRecord, cap: int) -> list[tuple[int, int]]:
    """(stream id, last position) pairs that make up ``record`` up to ``cap``, oldest
    first: a fork is its source chain up to the fork offset, then its own messages."""
    segments: list[tuple[int, int]] = []
    current: StreamRecord | None = record
    while current is not None:
        segments.append((current.id, cap))
        if current.forked_from_id is None or current.fork_offset is None:
            break
        cap = min(cap, current.fork_offset)
        current = tx.get_stream_by_id(current.forked_from_id)
    segments.reverse()
    return segments


def read(tx: StorageTx, path: str, after: int | None, limit_bytes: int) -> ReadResult:
    """Catch-up read from position ``after`` (``None``: the tail, i.e. ``offset=now``)."""
    record = live_record(tx, path, writable=False)
    if record is None:
        raise StreamNotFoundError(f"stream {path!r} not found")
    if record.soft_deleted:
        raise StreamGoneError(f"stream {path!r} was deleted")
    start = record.tail if after is None else after
    messages = read_range(tx, record, start, limit_bytes=limit_bytes) if start < record.tail else []
    # Without messages the reader is at (or, with a made-up offset, past) the tail.
    end = messages[-1].end if messages else record.tail
    up_to_date = end >= record.tail
    return ReadResult(
        info=StreamInfo.of(record),
        messages=messages,
        next_offset=format_offset(end),
        up_to_date=up_to_date,
        closed=record.closed and up_to_date,
        start=start,
    )
