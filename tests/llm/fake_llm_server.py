"""A local HTTP server that speaks the streaming wire formats of Anthropic's Messages API and
OpenAI's Chat Completions API, driven by a script, so the real ``anthropic`` and ``openai`` SDKs
can be tested end to end (tests of the adapters, the loop, the chat route, benchmarks).

It runs tornado on 127.0.0.1 (random port) in a thread of its own, so it works from sync and
async tests alike::

    with FakeLLMServer() as server:
        server.anthropic.push(Turn(text=["Hel", "lo"]))
        server.anthropic.push(HttpError(429, retry_after_ms=10), Turn(text=["ok"]))
        AnthropicAdapter("claude-sonnet", api_key="k", base_url=server.anthropic_url)
        OpenAICompatibleAdapter("m", base_url=server.openai_url)

Each provider has a queue of scripted responses, consumed one per request; a request with an
empty queue gets HTTP 500 with a message naming the gap. ``requests`` records every request
(path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web


@dataclass
class ToolUse:
    id: str
    name: str
    fragments: list[str]  # the argument JSON text, as the deltas the server sends


@dataclass
class Turn:
    """A successful streamed answer."""

    text: list[str] = field(default_factory=list)
    tool_calls: list[ToolUse] = field(default_factory=list)
    stop: str | None = None  # provider stop reason; default end_turn/tool_use (stop/tool_calls)
    input_tokens: int = 11
    output_tokens: int = 7
    model: str = "fake-model"
    # After this many SSE events, misbehave: "drop" closes the socket, "error" sends an error
    # event (Anthropic: overloaded_error; OpenAI: an error object), "stall" waits until the
    # client goes away or ``FakeLLMServer.release()`` is called.
    fault: str | None = None
    fault_after: int = 0
    delay: float = 0.0  # seconds between events


@dataclass
class HttpError:
    status: int
    error_type: str = "rate_limit_error"
    message: str = "scripted error"
    retry_after_ms: int | None = 5


@dataclass
class Drop:
    """Close the connection before sending a response."""


Response = Turn | HttpError | Drop


@dataclass
class RecordedRequest:
    provider: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class ProviderScript:
    def __init__(self, name: str) -> None:
        self.name = name
        self._queue: deque[Response] = deque()
        self._lock = threading.Lock()

    def push(self, *responses: Response) -> None:
        with self._lock:
            self._queue.extend(responses)

    def pop(self) -> Response | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)


def anthropic_events(turn: Turn) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": turn.model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": turn.input_tokens, "output_tokens": 1},
                },
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    index = 0
    if turn.text:
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        for piece in turn.text:
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for call in turn.tool_calls:
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": {},
                    },
                },
            )
        )
        for fragment in ["", *call.fragments]:  # the API starts with an empty fragment
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": fragment},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    stop = turn.stop or ("tool_use" if turn.tool_calls else "end_turn")
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": turn.output_tokens},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def openai_chunks(turn: Turn) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": turn.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": piece}) for piece in turn.text]
    for i, call in enumerate(turn.tool_calls):
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
        )
        chunks += [
            chunk({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]})
            for fragment in call.fragments
        ]
    chunks.append(chunk({}, turn.stop or ("tool_calls" if turn.tool_calls else "stop")))
    chunks.append(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": turn.model,
            "choices": [],
            "usage": {
                "prompt_tokens": turn.input_tokens,
                "completion_tokens": turn.output_tokens,
                "total_tokens": turn.input_tokens + turn.output_tokens,
            },
        }
    )
    return chunks


class _Handler(tornado.web.RequestHandler):
    provider = ""

    def initialize(self, server: FakeLLMServer) -> None:
        self.server = server
        self.closed = asyncio.Event()

    def on_connection_close(self) -> None:
        self.closed.set()

    def check_xsrf_cookie(self) -> None:
        pass

    async def post(self) -> None:
        body = json.loads(self.request.body or b"{}")
        self.server.requests.append(
            RecordedRequest(self.provider, self.request.path, dict(self.request.headers), body)
        )
        script = self.server.script(self.provider)
        response = script.pop()
        if response is None:
            self.set_status(500)
            self.finish(
                {
                    "error": {
                        "type": "api_error",
                        "message": f"fake server: no scripted {self.provider} response",
                    }
                }
            )
            return
        if isinstance(response, Drop):
            self.request.connection.detach().close()  # type: ignore[attr-defined]
            return
        if isinstance(response, HttpError):
            self.set_status(response.status)
            if response.retry_after_ms is not None:
                self.set_header("retry-after-ms", str(response.retry_after_ms))
            self.finish(
                {
                    "type": "error",
                    "error": {"type": response.error_type, "message": response.message},
                }
            )
            return
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        frames = self._frames(response)
        for n, frame in enumerate(frames):
            if response.fault is not None and n == response.fault_after:
                await self._fault(response)
                return
            self.write(frame)
            await self.flush()
            if response.delay:
                await asyncio.sleep(response.delay)
        self.finish()

    def _frames(self, turn: Turn) -> list[str]:
        if self.provider == "anthropic":
            return [
                f"event: {name}\ndata: {json.dumps(data)}\n\n"
                for name, data in anthropic_events(turn)
            ]
        return [f"data: {json.dumps(c)}\n\n" for c in openai_chunks(turn)] + ["data: [DONE]\n\n"]

    async def _fault(self, turn: Turn) -> None:
        if turn.fault == "drop":
            self.request.connection.detach().close()  # type: ignore[attr-defined]
        elif turn.fault == "error":
            if self.provider == "anthropic":
                error = {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                }
                self.write(f"event: error\ndata: {json.dumps(error)}\n\n")
            else:
                error = {"error": {"message": "scripted stream error", "type": "server_error"}}
                self.write(f"data: {json.dumps(error)}\n\n")
            self.finish()
        elif turn.fault == "stall":
            release = self.server._release
            waiters = [
                asyncio.ensure_future(self.closed.wait()),
                asyncio.ensure_future(release.wait()),
            ]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
            self.server.stalls_ended += 1
            if not self.closed.is_set():
                self.finish()
        else:
            raise ValueError(f"unknown fault {turn.fault!r}")


class _Anthropic(_Handler):
    provider = "anthropic"


class _OpenAI(_Handler):
    provider = "openai"


class FakeLLMServer:
    def __init__(self) -> None:
        self.anthropic = ProviderScript("anthropic")
        self.openai = ProviderScript("openai")
        self.requests: list[RecordedRequest] = []
        self.stalls_ended = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release = asyncio.Event()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-llm-server", daemon=True)

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, provider: str) -> ProviderScript:
        return self.anthropic if provider == "anthropic" else self.openai

    def requests_to(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    def release(self) -> None:
        """End every stalled response."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._release.set)

    def start(self) -> FakeLLMServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake LLM server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._release = asyncio.Event()
        app = tornado.web.Application(
            [
                (r"/v1/messages", _Anthropic, {"server": self}),
                (r"/v1/chat/completions", _OpenAI, {"server": self}),
            ]
        )
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        http = tornado.httpserver.HTTPServer(app)
        http.add_sockets(sockets)
        self._ready.set()
        await self._stop.wait()
        http.stop()
        await http.close_all_connections()
