"""The Durable Streams HTTP protocol over ``StreamEngine``.

Mounted at ``{base}solidtype/v1/stream/{path}`` inside jupyter_server (``StreamHandler``:
jupyter_server's authentication, XSRF and authorizer, then per-stream ownership), and at
``/v1/stream/{path}`` by ``solidtype-jupyter streams serve`` (``StandaloneStreamHandler``:
no authentication, for local tools and the conformance suite).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from jupyter_server.auth.decorator import allow_unauthenticated
from tornado import iostream, web

from ..streams import (
    InvalidStreamPathError,
    ProducerSequenceGapError,
    ProducerTuple,
    ReadResult,
    StaleProducerEpochError,
    StoredMessage,
    StreamAccess,
    StreamAuthorizer,
    StreamClosedError,
    StreamEngine,
    StreamError,
    StreamInfo,
    validate_stream_path,
)
from ..streams.authz import SESSION_PREFIX
from ..streams.errors import fork_source_not_found
from ..streams.offsets import NOW, format_offset, is_valid_query_offset, parse_offset
from ..streams.records import is_json, is_text, json_array
from .base import SolidTypeAPIHandler
from .bodies import BoundedBodyMixin

STREAM_ROUTE = "v1/stream"
#: Largest request body of the stream routes (``SolidTypeApp.max_stream_append_bytes``).
DEFAULT_MAX_APPEND_BYTES = 4 * 1024 * 1024
_NON_NEGATIVE_INT = re.compile(r"^(0|[1-9][0-9]*)$")
_DIGITS = re.compile(r"^[0-9]+$")
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+")
_MAX_SAFE_INTEGER = 2**53 - 1
_SSE_LINE_BREAK = re.compile(r"\r\n|\r|\n")

ALLOW_HEADERS = (
    "content-type, authorization, x-xsrftoken, if-none-match, stream-seq, stream-ttl, "
    "stream-expires-at, stream-closed, producer-id, producer-epoch, producer-seq, "
    "stream-forked-from, stream-fork-offset, stream-fork-sub-offset"
)
EXPOSE_HEADERS = (
    "Stream-Next-Offset, Stream-Cursor, Stream-Up-To-Date, Stream-Closed, Stream-TTL, "
    "Stream-Expires-At, Stream-SSE-Data-Encoding, Producer-Epoch, Producer-Seq, "
    "Producer-Expected-Seq, Producer-Received-Seq, ETag, Content-Type, Location"
)
CACHEABLE = "private, max-age=60, stale-while-revalidate=300"

# Cursor intervals (spec section 8.1): 20 s buckets since this epoch; a client echoing a
# cursor at or past the current bucket gets it advanced by a random jitter, so a CDN never
# collapses two successive long-polls onto one cached answer.
_CURSOR_EPOCH = 1728432000.0  # 2024-10-09T00:00:00Z
_CURSOR_INTERVAL = 20


def response_cursor(client_cursor: str | None) -> str:
    current = int((time.time() - _CURSOR_EPOCH) // _CURSOR_INTERVAL)
    if not client_cursor or not _DIGITS.match(client_cursor):
        return str(current)
    client = int(client_cursor)
    if client < current:
        return str(current)
    jitter_seconds = random.randint(1, 3600)
    return str(client + max(1, -(-jitter_seconds // _CURSOR_INTERVAL)))


def sse_event(kind: str, payload: str) -> str:
    """One SSE event; every line break of the payload starts a new ``data:`` line, so a
    payload can never inject an event boundary."""
    lines = _SSE_LINE_BREAK.split(payload)
    return f"event: {kind}\n" + "".join(f"data:{line}\n" for line in lines) + "\n"


class _BadRequest(Exception):
    pass


def _control_event(end: int, *, up_to_date: bool, closed: bool, cursor: str) -> str:
    control: dict[str, Any] = {"streamNextOffset": format_offset(end)}
    if closed:
        control["streamClosed"] = True
    else:
        control["streamCursor"] = cursor
        if up_to_date:
            control["upToDate"] = True
    return sse_event("control", json.dumps(control, separators=(",", ":")))


class _SSEEncodings:
    """The SSE text of recent live batches, encoded once and shared by all their readers.

    Every caught-up reader of a stream receives the same batch after an append; encoding it
    once instead of per reader is what keeps the delivery to 100 readers within a few ms.
    The key holds everything the text depends on, including the cursor interval, and the
    identity of the messages' data: readers of one append share the bytes objects of this
    process's live cache, while a stream deleted and created again has new ones even where
    its path, positions and lengths match the old stream's (keyed by positions alone, its
    readers were sent the old stream's data). An entry keeps its messages alive, so no
    other object can take their ids while it is cached.
    """

    def __init__(self, size: int = 512, max_bytes: int = 64 * 1024) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._memo: OrderedDict[tuple[Any, ...], tuple[bytes, list[StoredMessage]]] = OrderedDict()

    def encode(
        self, key: str, batch: ReadResult, content_type: str, binary: bool, cursor: str | None
    ) -> bytes:
        """The batch as SSE events, UTF-8 (bytes: tornado would encode a str per reader)."""
        return self._memoized(
            key, batch.start, batch.messages, parse_offset(batch.next_offset),
            batch.up_to_date, batch.closed, content_type, binary, cursor, lambda: batch,
        )  # fmt: skip

    def pushed(
        self,
        key: str,
        start: int,
        messages: list[StoredMessage],
        tail: int,
        closed: bool,
        content_type: str,
        binary: bool,
        cursor: str | None,
    ) -> bytes:
        """An append pushed to a parked reader (``LiveTails.park``), as SSE events."""

        def batch() -> ReadResult:
            return ReadResult(
                info=_NO_INFO,
                messages=messages,
                next_offset=format_offset(tail),
                up_to_date=True,
                closed=closed,
                start=start,
            )

        return self._memoized(
            key, start, messages, tail, True, closed, content_type, binary, cursor, batch
        )

    def _memoized(
        self,
        key: str,
        start: int,
        messages: list[StoredMessage],
        end: int,
        up_to_date: bool,
        closed: bool,
        content_type: str,
        binary: bool,
        cursor: str | None,
        batch: Callable[[], ReadResult],
    ) -> bytes:
        interval = int(time.time() // _CURSOR_INTERVAL)
        memo_key = (key, start, end, up_to_date, closed, cursor, interval,
                    *[id(message.data) for message in messages])  # fmt: skip
        cached = self._memo.get(memo_key)
        if cached is not None:
            return cached[0]
        text = self._encode(batch(), content_type, binary, response_cursor(cursor)).encode()
        # Live batches are small; a catch-up chunk (up to 1 MB) is read by one reader, from
        # the database, in bytes objects of its own: keeping it would only hold memory.
        if messages and len(text) <= self._max_bytes:
            self._memo[memo_key] = (text, messages)
            if len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return text

    @staticmethod
    def _encode(batch: ReadResult, content_type: str, binary: bool, cursor: str) -> str:
        events: list[str] = []
        count = len(batch.messages)
        json_mode = is_json(content_type)
        for index, message in enumerate(batch.messages):
            if binary:
                payload = base64.b64encode(message.data).decode()
            elif json_mode:
                payload = json_array([message.data]).decode()
            else:
                payload = message.data.decode("utf-8", "replace")
            events.append(sse_event("data", payload))
            last = index == count - 1
            events.append(
                _control_event(
                    message.end,
                    up_to_date=last and batch.up_to_date,
                    closed=last and batch.closed,
                    cursor=cursor,
                )
            )
        if not count:
            events.append(
                _control_event(
                    parse_offset(batch.next_offset),
                    up_to_date=batch.up_to_date,
                    closed=batch.closed,
                    cursor=cursor,
                )
            )
        return "".join(events)


_sse_encodings = _SSEEncodings()
_NO_INFO = StreamInfo("", "", False, None, None, 0, 0)


def _ignore_result(future: Any) -> None:
    """A pushed write to a reader that went away fails; its handler ends on its own."""
    with contextlib.suppress(BaseException):
        future.exception()


@web.stream_request_body
class StreamProtocolMixin(BoundedBodyMixin):
    """The protocol, independent of how requests are authenticated.

    Subclasses provide ``stream_engine()``, ``stream_prefixes()`` (the URL paths under
    which stream names start, for ``Stream-Forked-From``), ``stream_allowed()``,
    ``authorize_stream()`` and ``max_body_bytes()``, and call ``limit_body()`` at the end
    of ``prepare``: a write body larger than ``max_body_bytes()`` is never held in memory
    (``BoundedBodyMixin``).
    """

    _live_task: asyncio.Task[None] | None = None

    def stream_engine(self) -> Awaitable[StreamEngine]:
        raise NotImplementedError

    def stream_prefixes(self) -> tuple[str, ...]:
        raise NotImplementedError

    async def stream_allowed(self, path: str, access: StreamAccess) -> bool:
        raise NotImplementedError

    async def authorize_stream(self, path: str, access: StreamAccess) -> None:
        raise NotImplementedError

    def allow_any_origin(self) -> bool:
        return True

    def refuse_body(self, limit: int) -> None:
        self._fail(
            413,
            f"a stream write may carry at most {limit} bytes "
            f"(SolidTypeApp.max_stream_append_bytes); split larger data into several appends",
        )

    # ------------------------------------------------------------------ plumbing

    def set_default_headers(self) -> None:
        super().set_default_headers()
        # Browser security headers on every response, errors included (spec 10.7).
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cross-Origin-Resource-Policy", "cross-origin")
        self.set_header("Access-Control-Expose-Headers", EXPOSE_HEADERS)
        if self.allow_any_origin():
            self.set_header("Access-Control-Allow-Origin", "*")

    def compute_etag(self) -> str | None:
        return None  # ETags are the protocol's own (range + closure), set explicitly

    def _finish_status(self, status: int, body: bytes | str = b"") -> None:
        self.set_status(status)
        if status in (204, 304):
            self.clear_header("Content-Type")
            self.finish()
        else:
            self.finish(body)

    def _fail(self, status: int, message: str) -> None:
        self.clear_header("Content-Type")
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self._finish_status(status, message)

    def _fail_stream(self, error: StreamError) -> None:
        if isinstance(error, StreamClosedError):
            self.set_header("Stream-Closed", "true")
            self.set_header("Stream-Next-Offset", error.next_offset)
        elif isinstance(error, StaleProducerEpochError):
            self.set_header("Producer-Epoch", str(error.current_epoch))
        elif isinstance(error, ProducerSequenceGapError):
            self.set_header("Producer-Expected-Seq", str(error.expected))
            self.set_header("Producer-Received-Seq", str(error.received))
        self._fail(error.status, error.message)

    def _stream_path(self, raw: str) -> str:
        try:
            return validate_stream_path(raw)
        except InvalidStreamPathError as exc:
            raise _BadRequest(str(exc)) from exc

    def _header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    def _flag(self, name: str) -> bool:
        return (self._header(name) or "").strip().lower() == "true"

    async def _run(self, raw_path: str, access: StreamAccess, handler: Any) -> None:
        if self.body_refused:  # read and dropped: now the answer
            self.answer_refused()
            return
        try:
            path = self._stream_path(raw_path)
            await self.authorize_stream(path, access)
            engine = await self.stream_engine()
            await handler(engine, path)
        except _BadRequest as exc:
            self._fail(400, str(exc))
        except StreamError as exc:
            if not self._finished:
                self._fail_stream(exc)

    # ------------------------------------------------------------------ methods

    @allow_unauthenticated
    def options(self, *args: Any, **kwargs: Any) -> None:
        self.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, HEAD, OPTIONS")
        self.set_header("Access-Control-Allow-Headers", ALLOW_HEADERS)
        self.set_header("Access-Control-Max-Age", "600")
        self._finish_status(204)

    @allow_unauthenticated
    async def put(self, raw_path: str) -> None:
        await self._run(raw_path, StreamAccess.WRITE, self._create)

    @allow_unauthenticated
    async def post(self, raw_path: str) -> None:
        await self._run(raw_path, StreamAccess.WRITE, self._append)

    @allow_unauthenticated
    async def delete(self, raw_path: str) -> None:
        await self._run(raw_path, StreamAccess.WRITE, self._delete)

    @allow_unauthenticated
    async def head(self, raw_path: str) -> None:
        await self._run(raw_path, StreamAccess.READ, self._head)

    @allow_unauthenticated
    async def get(self, raw_path: str) -> None:
        await self._run(raw_path, StreamAccess.READ, self._read)

    # ------------------------------------------------------------------ create

    def _fork_source(self, header: str) -> str:
        """``Stream-Forked-From`` names the source by URL path: under our mount, under the
        suite's unprefixed ``/v1/stream/``, or as a bare stream name."""
        target = unquote(urlsplit(header.strip()).path)
        for prefix in self.stream_prefixes():
            if target.startswith(prefix):
                return self._stream_path(target[len(prefix) :])
        return self._stream_path(target.lstrip("/"))

    async def _create(self, engine: StreamEngine, path: str) -> None:
        forked_from_header = self._header("Stream-Forked-From")
        forked_from = self._fork_source(forked_from_header) if forked_from_header else None
        content_type = self._header("Content-Type")
        if not content_type or not _MEDIA_TYPE.match(content_type.strip()):
            content_type = None  # the default type, or a fork's inherited one
        ttl_header = self._header("Stream-TTL")
        expires_at = self._header("Stream-Expires-At") or None
        if ttl_header and expires_at:
            raise _BadRequest("give Stream-TTL or Stream-Expires-At, not both")
        ttl = None
        if ttl_header:
            if not _NON_NEGATIVE_INT.match(ttl_header):
                raise _BadRequest("Stream-TTL must be a non-negative integer of seconds")
            ttl = int(ttl_header)
        fork_offset = self._header("Stream-Fork-Offset") or None
        sub_header = self._header("Stream-Fork-Sub-Offset")
        sub_offset = 0
        if sub_header is not None:
            if forked_from is None:
                raise _BadRequest("Stream-Fork-Sub-Offset needs Stream-Forked-From")
            if not _NON_NEGATIVE_INT.match(sub_header):
                raise _BadRequest("Stream-Fork-Sub-Offset must be a non-negative integer")
            sub_offset = int(sub_header)
        if forked_from is not None and not await self.stream_allowed(
            forked_from, StreamAccess.READ
        ):
            # A fork copies its source: it needs the right to read it, and a source the
            # user may not read is answered as one that does not exist, so forks cannot
            # tell another user's streams from missing ones.
            raise fork_source_not_found(forked_from)
        result = await engine.create(
            path,
            content_type=content_type,
            ttl_seconds=ttl,
            expires_at=expires_at,
            data=self.received_body,
            closed=self._flag("Stream-Closed"),
            forked_from=forked_from,
            fork_offset=fork_offset,
            fork_sub_offset=sub_offset,
        )
        info = result.info
        self.set_header("Content-Type", info.content_type)
        self.set_header("Stream-Next-Offset", info.next_offset)
        if info.closed:
            self.set_header("Stream-Closed", "true")
        if result.created:
            self.set_header("Location", self.request.full_url().split("?", 1)[0])
        self._finish_status(201 if result.created else 200)

    # ------------------------------------------------------------------ append

    def _producer(self) -> ProducerTuple | None:
        values = [self._header(n) for n in ("Producer-Id", "Producer-Epoch", "Producer-Seq")]
        if all(v is None for v in values):
            return None
        producer_id, epoch, seq = values
        if producer_id is None or epoch is None or seq is None:
            raise _BadRequest("send Producer-Id, Producer-Epoch and Producer-Seq together")
        if not producer_id:
            raise _BadRequest("Producer-Id must not be empty")
        numbers = []
        for name, value in (("Producer-Epoch", epoch), ("Producer-Seq", seq)):
            if not _DIGITS.match(value) or int(value) > _MAX_SAFE_INTEGER:
                raise _BadRequest(f"{name} must be an integer from 0 to 2^53-1")
            numbers.append(int(value))
        return ProducerTuple(producer_id, numbers[0], numbers[1])

    async def _append(self, engine: StreamEngine, path: str) -> None:
        producer = self._producer()
        body = self.received_body
        result = await engine.append(
            path,
            body,
            content_type=self._header("Content-Type"),
            stream_seq=self._header("Stream-Seq"),
            producer=producer,
            close=self._flag("Stream-Closed"),
        )
        self.set_header("Stream-Next-Offset", result.info.next_offset)
        if result.info.closed:
            self.set_header("Stream-Closed", "true")
        if result.producer is not None:
            self.set_header("Producer-Epoch", str(result.producer.epoch))
            self.set_header("Producer-Seq", str(result.producer.seq))
        fresh_data = producer is not None and not result.duplicate and bool(body)
        self._finish_status(200 if fresh_data else 204)

    async def _delete(self, engine: StreamEngine, path: str) -> None:
        await engine.delete(path)
        self._finish_status(204)

    # ------------------------------------------------------------------ reads

    async def _head(self, engine: StreamEngine, path: str) -> None:
        info = await engine.head(path)
        self.set_header("Content-Type", info.content_type)
        self.set_header("Stream-Next-Offset", info.next_offset)
        self.set_header("Cache-Control", "no-store")
        if info.closed:
            self.set_header("Stream-Closed", "true")
        if info.ttl_seconds is not None:
            self.set_header("Stream-TTL", str(info.ttl_seconds))
        if info.expires_at is not None:
            self.set_header("Stream-Expires-At", info.expires_at)
        self.set_header("ETag", self._etag(path, "-1", info.next_offset, info.closed))
        self._finish_status(200)

    def _etag(self, path: str, start: str, end: str, closed: bool) -> str:
        name = base64.urlsafe_b64encode(path.encode()).decode().rstrip("=")
        return f'"{name}:{start}:{end}{":c" if closed else ""}"'

    def _offset_query(self) -> str | None:
        values = self.request.query_arguments.get("offset")
        if values is None:
            return None
        if len(values) != 1:
            raise _BadRequest("give one offset")
        offset = values[0].decode("utf-8", "replace")
        if not is_valid_query_offset(offset):
            raise _BadRequest(f"invalid offset {offset!r}")
        return offset

    async def _read(self, engine: StreamEngine, path: str) -> None:
        offset = self._offset_query()
        live = self.get_query_argument("live", None)
        cursor = self.get_query_argument("cursor", None)
        if live in ("long-poll", "sse") and offset is None:
            raise _BadRequest(f"live={live} needs an offset")
        if live == "sse":
            assert offset is not None
            await self._sse(engine, path, offset, cursor)
            return
        if live == "long-poll":
            assert offset is not None
            self._live_task = asyncio.current_task()
            try:
                polled = await engine.long_poll(path, offset)
            except asyncio.CancelledError:
                return  # the client went away (on_connection_close)
            finally:
                self._live_task = None
            result = polled.read
            if polled.timed_out or not result.messages:
                self.set_header("Stream-Next-Offset", result.next_offset)
                self.set_header("Stream-Up-To-Date", "true")
                if result.closed:
                    self.set_header("Stream-Closed", "true")
                else:
                    self.set_header("Stream-Cursor", response_cursor(cursor))
                self.set_header("Cache-Control", "no-store")
                self._finish_status(204)
                return
            self.set_header("Stream-Cursor", response_cursor(cursor))
            self._write_range(path, offset, result)
            return
        result = await engine.read(path, offset)
        if offset == NOW:
            self.set_header("Content-Type", result.info.content_type)
            self.set_header("Stream-Next-Offset", result.next_offset)
            self.set_header("Stream-Up-To-Date", "true")
            self.set_header("Cache-Control", "no-store")
            if result.closed:
                self.set_header("Stream-Closed", "true")
            self._finish_status(200, b"[]" if is_json(result.info.content_type) else b"")
            return
        self._write_range(path, offset or "-1", result)

    def _write_range(self, path: str, start: str, result: ReadResult) -> None:
        content_type = result.info.content_type
        self.set_header("Content-Type", content_type)
        self.set_header("Stream-Next-Offset", result.next_offset)
        if result.up_to_date:
            self.set_header("Stream-Up-To-Date", "true")
        if result.closed:
            self.set_header("Stream-Closed", "true")
        etag = self._etag(path, start, result.next_offset, result.closed)
        self.set_header("ETag", etag)
        self.set_header("Cache-Control", CACHEABLE)
        if self.request.headers.get("If-None-Match") == etag:
            self._finish_status(304)
            return
        parts = [m.data for m in result.messages]
        body = json_array(parts) if is_json(content_type) else b"".join(parts)
        self._finish_status(200, body)

    # ------------------------------------------------------------------ SSE

    async def _sse(self, engine: StreamEngine, path: str, offset: str, cursor: str | None) -> None:
        seen = engine.live.version(path)
        batch = await engine.read_at(path, engine.position_of(offset), use_cache=False)
        content_type = batch.info.content_type  # a missing stream was a plain 404 above
        binary = not is_text(content_type)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        if binary:
            self.set_header("Stream-SSE-Data-Encoding", "base64")
        self._live_task = asyncio.current_task()
        # Close now and then (spec: about a minute) so CDNs can collapse requests; the
        # client reconnects from the last streamNextOffset.
        deadline = time.monotonic() + self.sse_reconnect_seconds()
        idle = engine.long_poll_timeout
        try:
            await self._send_sse(batch, content_type, binary, cursor)
            while not batch.closed and time.monotonic() < deadline:
                position = parse_offset(batch.next_offset)
                if not batch.up_to_date or engine.live.version(path) != seen:
                    seen = engine.live.version(path)
                    batch = await engine.read_at(path, position, use_cache=True)
                    if batch.messages or batch.closed or not batch.up_to_date:
                        await self._send_sse(batch, content_type, binary, cursor)
                    continue
                # Caught up: appends made by this process are pushed to us directly.
                position, timed_out, finished = await self._park(
                    engine, path, position, content_type, binary, cursor, deadline, idle
                )
                if finished:
                    return
                seen = engine.live.version(path)
                batch = await engine.read_at(path, position, use_cache=True)
                if batch.messages or batch.closed or timed_out:
                    await self._send_sse(batch, content_type, binary, cursor)  # or keep-alive
        except (iostream.StreamClosedError, asyncio.CancelledError):
            return
        except StreamError:
            return  # deleted while tailing: end the stream
        finally:
            self._live_task = None
            if not self._finished:
                self.finish()

    async def _park(
        self,
        engine: StreamEngine,
        path: str,
        position: int,
        content_type: str,
        binary: bool,
        cursor: str | None,
        deadline: float,
        idle: float,
    ) -> tuple[int, bool, bool]:
        """Wait parked at ``position``; returns (new position, timed out, finished)."""
        finished = False

        def push(start: int, messages: list[Any], tail: int, closed: bool) -> bool:
            nonlocal finished
            self.write(
                _sse_encodings.pushed(
                    self.request.path, start, messages, tail, closed, content_type, binary, cursor
                )
            )
            self.flush().add_done_callback(_ignore_result)
            finished = closed or time.monotonic() >= deadline
            return not finished

        parked = engine.live.park(path, position, push)
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(parked.released), idle)
        except TimeoutError:
            timed_out = True
        finally:
            engine.live.unpark(parked)
        return parked.position, timed_out, finished

    def sse_reconnect_seconds(self) -> float:
        return 60.0

    async def _send_sse(
        self, batch: ReadResult, content_type: str, binary: bool, cursor: str | None
    ) -> None:
        self.write(
            _sse_encodings.encode(self.path_kwargs_key(), batch, content_type, binary, cursor)
        )
        await self.flush()

    def path_kwargs_key(self) -> str:
        return self.request.path

    def on_connection_close(self) -> None:
        # tornado's own ends the wait for a body that will never arrive.
        super().on_connection_close()
        task = self._live_task
        if task is not None and not task.done():
            task.cancel()


class StreamHandler(StreamProtocolMixin, SolidTypeAPIHandler):
    """Streams inside jupyter_server.

    Authenticated like every route unless ``SolidTypeApp.streams_public`` is set: then
    anyone who can reach the server may read, write and delete every stream.
    """

    @property
    def public(self) -> bool:
        # Read from the settings, not ``self.extensionapp``: tornado sets the default
        # headers (which depend on this) before ``initialize`` names the extension.
        app = self.settings.get("solidtype")
        return bool(getattr(app, "streams_public", False))

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.request.method == "OPTIONS" or self.public:
            self.limit_body()
            return
        # The methods carry @allow_unauthenticated only so the public mode can work;
        # everyone else must be a user the server knows, authorized for our resource.
        if self.current_user is None:
            raise web.HTTPError(403)
        action = "read" if self.request.method in ("GET", "HEAD") else "write"
        if not self.authorizer.is_authorized(self, self.current_user, action, "solidtype"):
            raise web.HTTPError(403)
        self.limit_body()

    def allow_any_origin(self) -> bool:
        return self.public

    def check_origin(self, origin_to_satisfy_tornado: str = "") -> bool:
        return True if self.public else super().check_origin(origin_to_satisfy_tornado)

    def check_xsrf_cookie(self) -> None:
        if not self.public:
            super().check_xsrf_cookie()

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        # APIHandler.finish would force Content-Type: application/json on stream bytes.
        self.update_api_activity()
        return web.RequestHandler.finish(self, *args, **kwargs)

    def stream_engine(self) -> Awaitable[StreamEngine]:
        return self.extensionapp.started_stream_engine()  # type: ignore[attr-defined, no-any-return]

    def stream_prefixes(self) -> tuple[str, ...]:
        # Compared with the header's unquoted path, so unquoted too (a base URL such as
        # /user/a%40b/ would otherwise never match and name another stream).
        base = unquote(self.base_url).rstrip("/")
        return (f"{base}/solidtype/{STREAM_ROUTE}/", f"/{STREAM_ROUTE}/")

    def sse_reconnect_seconds(self) -> float:
        return float(self.extensionapp.streams_sse_reconnect)  # type: ignore[attr-defined]

    def max_body_bytes(self) -> int:
        return int(self.extensionapp.max_stream_append_bytes)  # type: ignore[attr-defined]

    async def stream_allowed(self, path: str, access: StreamAccess) -> bool:
        if self.public:
            return True
        authorizer: StreamAuthorizer | None = self.extensionapp.stream_authorizer  # type: ignore[attr-defined]
        return authorizer is not None and await authorizer.allowed(self.username, path, access)

    async def authorize_stream(self, path: str, access: StreamAccess) -> None:
        if access is StreamAccess.WRITE and path.startswith(SESSION_PREFIX):
            # The chat service is the only writer of chat streams: hydrate, resume and
            # every later turn trust what they hold (public mode included).
            raise web.HTTPError(
                403,
                f"chat streams ({SESSION_PREFIX}...) are written by the server only; clients "
                "may read them here and send chat turns to POST .../solidtype/api/ai/chat",
            )
        if not await self.stream_allowed(path, access):
            raise web.HTTPError(403, f"no access to stream {path!r}")


class StandaloneStreamHandler(StreamProtocolMixin):
    """Streams served by ``solidtype-jupyter streams serve``: no authentication."""

    def initialize(
        self,
        engine: StreamEngine,
        sse_reconnect: float = 60.0,
        max_body_bytes: int = DEFAULT_MAX_APPEND_BYTES,
    ) -> None:
        self._engine = engine
        self._sse_reconnect = sse_reconnect
        self._max_body_bytes = max_body_bytes

    def prepare(self) -> None:
        self.limit_body()

    def max_body_bytes(self) -> int:
        return self._max_body_bytes

    async def stream_engine(self) -> StreamEngine:
        return self._engine

    def stream_prefixes(self) -> tuple[str, ...]:
        return (f"/{STREAM_ROUTE}/",)

    def sse_reconnect_seconds(self) -> float:
        return self._sse_reconnect

    async def stream_allowed(self, path: str, access: StreamAccess) -> bool:
        return True

    async def authorize_stream(self, path: str, access: StreamAccess) -> None:
        return None


def standalone_app(
    engine: StreamEngine,
    *,
    sse_reconnect: float = 60.0,
    max_body_bytes: int = DEFAULT_MAX_APPEND_BYTES,
) -> web.Application:
    """A tornado application serving ``/v1/stream/{path}`` from ``engine``."""
    return web.Application(
        [
            (
                rf"/{STREAM_ROUTE}/(.+)",
                StandaloneStreamHandler,
                {
                    "engine": engine,
                    "sse_reconnect": sse_reconnect,
                    "max_body_bytes": max_body_bytes,
                },
            )
        ],
        compress_response=False,
    )
