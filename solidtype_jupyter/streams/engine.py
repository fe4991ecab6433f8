"""``StreamEngine``: the Durable Streams operations as an async Python API.

The HTTP handlers are a thin translation of this API, so the chat route and kernels that
call it directly get exactly the protocol's semantics: the same validation, the same
errors (``streams.errors``), the same offsets, the same live behaviour.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime

from . import operations as ops
from .errors import InvalidRequestError, StreamGoneError, StreamNotFoundError
from .live import LiveTails
from .offsets import BEGINNING, NOW, InvalidOffsetError, format_offset, parse_offset
from .operations import AppendResult, CreateResult, ReadResult, StreamInfo
from .records import JSON_MEDIA_TYPE, ProducerTuple
from .storage.base import Storage

DEFAULT_READ_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class LongPollResult:
    """``timed_out``: nothing arrived within the timeout (HTTP 204)."""

    read: ReadResult
    timed_out: bool


def parse_expires_at(value: str) -> float:
    """An RFC 3339 / ISO 8601 timestamp as epoch seconds; ``InvalidRequestError`` if not."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidRequestError(f"Stream-Expires-At is not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        raise InvalidRequestError("Stream-Expires-At needs a time zone (e.g. Z)")
    return moment.timestamp()


class StreamEngine:
    """Append, read, tail, close, delete and fork durable streams on one storage backend.

    Create with ``open_engine(database_url)`` (or with a ``Storage``), then ``await
    engine.start()``; ``await engine.close()`` at shutdown. Paths are stream names such
    as ``ai-chat/<session id>``; the HTTP layer validates and authorizes them first.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        long_poll_timeout: float = 30.0,
        read_chunk_bytes: int = DEFAULT_READ_CHUNK_BYTES,
    ) -> None:
        self.storage = storage
        self.long_poll_timeout = long_poll_timeout
        self.read_chunk_bytes = read_chunk_bytes
        self.live = LiveTails()
        self._started = False

    async def start(self) -> None:
        if not self._started:
            await self.storage.start(self.live)
            self._started = True

    async def close(self) -> None:
        if self._started:
            self._started = False
            await self.storage.close()

    # ------------------------------------------------------------------ writes

    async def create(
        self,
        path: str,
        *,
        content_type: str | None = None,
        ttl_seconds: int | None = None,
        expires_at: str | None = None,
        data: bytes = b"",
        closed: bool = False,
        forked_from: str | None = None,
        fork_offset: str | None = None,
        fork_sub_offset: int = 0,
    ) -> CreateResult:
        """Create a stream (idempotent for the same configuration; 409 otherwise).

        In JSON mode ``data`` is a JSON value or array of values (``[]``: empty stream).
        """
        if ttl_seconds is not None and expires_at is not None:
            raise InvalidRequestError("give Stream-TTL or Stream-Expires-At, not both")
        if ttl_seconds is not None and ttl_seconds < 0:
            raise InvalidRequestError("Stream-TTL must not be negative")
        if fork_sub_offset < 0:
            raise InvalidRequestError("Stream-Fork-Sub-Offset must not be negative")
        if (fork_offset is not None or fork_sub_offset) and forked_from is None:
            raise InvalidRequestError("fork offsets need Stream-Forked-From")
        try:
            fork_position = None if fork_offset is None else parse_offset(fork_offset)
        except InvalidOffsetError as exc:
            raise InvalidRequestError(f"invalid Stream-Fork-Offset {fork_offset!r}") from exc
        request = ops.CreateRequest(
            path=path,
            content_type=content_type,
            ttl_seconds=ttl_seconds,
            expires_at=expires_at,
            expires_at_ts=None if expires_at is None else parse_expires_at(expires_at),
            data=data,
            closed=closed,
            forked_from=forked_from,
            fork_offset=fork_position,
            fork_sub_offset=fork_sub_offset,
        )
        result = await self.storage.write(ops.create, request, path=path)
        if result.created:
            self.live.changed(path)
        return result

    async def append(
        self,
        path: str,
        data: bytes,
        *,
        content_type: str | None,
        stream_seq: str | None = None,
        producer: ProducerTuple | None = None,
        close: bool = False,
    ) -> AppendResult:
        """Append one message (JSON mode: one value, or an array flattened one level).

        ``result.duplicate`` marks an idempotent producer retry that stored nothing.
        """
        return await self._append(
            ops.AppendRequest(
                path=path,
                data=data,
                content_type=content_type,
                stream_seq=stream_seq,
                producer=producer,
                close=close,
            )
        )

    async def append_json_values(self, path: str, values: Sequence[str]) -> AppendResult:
        """Append JSON values this process encoded itself (compact JSON text each, e.g. a
        pydantic ``model_dump_json``) to a JSON-mode stream, as one message.

        Unlike ``append`` the values are not parsed and encoded again: on the chat route's
        hot path that round trip was a third of the writer thread's time (BENCHMARKS.md,
        Chat). Only for trusted text; anything from outside goes through ``append``.
        """
        if not values:
            raise InvalidRequestError("an empty JSON array appends nothing")
        data = ("".join(value + "," for value in values)).encode("utf-8")
        return await self._append(
            ops.AppendRequest(path=path, data=data, content_type=JSON_MEDIA_TYPE, framed=True)
        )

    async def _append(self, request: ops.AppendRequest) -> AppendResult:
        path = request.path
        close = request.close
        result = await self.storage.write(ops.append, request, path=path)
        if result.appended or (close and not result.duplicate):
            self.live.published(
                path,
                result.info.stream_id,
                result.start,
                result.appended,
                result.info.tail,
                result.info.closed,
                cacheable=result.info.ttl_seconds is None,
            )
        return result

    async def close_stream(self, path: str, producer: ProducerTuple | None = None) -> AppendResult:
        """Close without appending (idempotent); live readers get their EOF."""
        return await self.append(path, b"", content_type=None, producer=producer, close=True)

    async def delete(self, path: str, *, missing_ok: bool = False) -> None:
        """Delete a stream (kept, answering 410, while forks of it exist).

        ``missing_ok``: a stream that does not exist (or is already deleted) is not an
        error; the session repository deletes a session's stream this way.
        """
        try:
            await self.storage.write(ops.delete, path)
        except (StreamNotFoundError, StreamGoneError):
            if not missing_ok:
                raise
        self.live.changed(path)

    # ------------------------------------------------------------------ reads

    async def head(self, path: str) -> StreamInfo:
        return await self.storage.read(lambda tx: ops.info(tx, path))

    def position_of(self, offset: str | None) -> int | None:
        """``None`` for ``now``; 0 for the beginning."""
        if offset is None or offset == BEGINNING:
            return 0
        if offset == NOW:
            return None
        try:
            return parse_offset(offset)
        except InvalidOffsetError as exc:
            raise InvalidRequestError(str(exc)) from exc

    async def read_at(self, path: str, position: int | None, *, use_cache: bool) -> ReadResult:
        """Catch-up read from a position (``None``: the tail); ``use_cache``: serve this
        process's newest appends from memory when they cover the position."""
        if use_cache and position is not None:
            cached = self.live.cached_after(path, position)
            if cached is not None and (cached.messages or position == cached.tail):
                # Only this process's committed appends are cached, and a cached range is
                # contiguous, so this is what the database would return. That includes
                # nothing at all for a reader at the tail: sending it to the database had
                # 200 chat followers re-reading about 5,000 times at the start of an answer
                # (an append lands during each slow read, so it reads again), on the two
                # reader threads (BENCHMARKS.md, Chat).
                end = cached.messages[-1].end if cached.messages else position
                up_to_date = end >= cached.tail
                info = StreamInfo(
                    path=path,
                    content_type="",
                    closed=cached.closed,
                    ttl_seconds=None,
                    expires_at=None,
                    stream_id=cached.stream_id,
                    tail=cached.tail,
                )
                return ReadResult(
                    info=info,
                    messages=cached.messages,
                    next_offset=format_offset(end),
                    up_to_date=up_to_date,
                    closed=cached.closed and up_to_date,
                    start=position,
                )
        limit = self.read_chunk_bytes
        result = await self.storage.read(lambda tx: ops.read(tx, path, position, limit))
        if result.info.ttl_seconds is not None:
            await self.storage.write(ops.touch, path)
        return result

    async def read(self, path: str, offset: str | None = BEGINNING) -> ReadResult:
        """Catch-up read: messages from ``offset`` (``-1``/``None``: start, ``now``: tail)
        up to the tail or a chunk limit (then ``up_to_date`` is False: read again)."""
        return await self.read_at(path, self.position_of(offset), use_cache=False)

    async def long_poll(
        self, path: str, offset: str, wait_seconds: float | None = None
    ) -> LongPollResult:
        """Like ``read``, but when the reader is at the tail wait up to ``wait_seconds``
        (default: the engine's long-poll timeout) for the next append or the close."""
        if wait_seconds is None:
            wait_seconds = self.long_poll_timeout
        deadline = time.monotonic() + wait_seconds
        position = self.position_of(offset)
        seen = self.live.version(path)
        result = await self.read_at(path, position, use_cache=False)
        if result.messages or result.closed or result.start != result.info.tail:
            return LongPollResult(result, timed_out=False)
        position = result.start
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.live.wait(path, seen, remaining):
                final = await self.read_at(path, position, use_cache=False)
                return LongPollResult(final, timed_out=not final.messages)
            seen = self.live.version(path)
            result = await self.read_at(path, position, use_cache=True)
            if result.messages or result.closed:
                return LongPollResult(result, timed_out=False)

    async def tail(
        self, path: str, offset: str = BEGINNING, *, idle_timeout: float | None = None
    ) -> AsyncGenerator[ReadResult, None]:
        """Live read: yields every batch from ``offset`` on, forever, until the stream is
        closed (the last result has ``closed``) or deleted (``StreamNotFoundError``).

        When nothing arrives for ``idle_timeout`` seconds (default: the long-poll
        timeout) it yields an empty, up-to-date result: SSE sends it as a keep-alive.
        """
        idle = self.long_poll_timeout if idle_timeout is None else idle_timeout
        position = self.position_of(offset)
        use_cache = False
        while True:
            seen = self.live.version(path)
            result = await self.read_at(path, position, use_cache=use_cache)
            yield result
            if result.closed:
                return
            position = parse_offset(result.next_offset)
            if result.up_to_date:
                await self.live.wait(path, seen, idle)
                use_cache = True
            else:
                use_cache = False
                await asyncio.sleep(0)
