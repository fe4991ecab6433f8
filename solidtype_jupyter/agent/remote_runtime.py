"""``RemoteRuntime``: an agent on another Jupyter server, over a WebSocket.

The other server (with this extension) serves ``{base}solidtype/api/ai/agent/{session}/ws``
(``server.agent_socket``) and bridges it to its own kernel runtime. Frames are binary
(``protocol.agent.pack_frame``: the JSON header, then Yjs updates as raw buffers). The
first frame is the ``init`` command, without the settings the remote server decides
(model, tool modules, approval levels, root, tool time budget: it refuses an ``init`` that
sets them); the remote server answers with the agent's state. A connection that closes
turns the runtime to ``error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from ..protocol import agent as proto
from .runtime import DEFAULT_INIT_TIMEOUT, AgentInitError, AgentRuntime

log = logging.getLogger(__name__)


def agent_socket_url(base_url: str, session_id: str) -> str:
    """``ws(s)://host/base/solidtype/api/ai/agent/{session}/ws`` from the server's base URL."""
    base = base_url.rstrip("/") + "/"
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return f"{base}solidtype/api/ai/agent/{session_id}/ws"


class RemoteRuntime(AgentRuntime):
    kind = "remote"

    def __init__(
        self,
        identity: proto.AgentIdentity,
        base_url: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(identity)
        self.url = agent_socket_url(base_url, identity.session_id)
        self.token = token
        self.headers = dict(headers or {})
        self._socket: WebSocketClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False

    async def initialize(
        self, config: proto.AgentConfig, *, init_timeout: float = DEFAULT_INIT_TIMEOUT
    ) -> None:
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        request = HTTPRequest(self.url, headers=headers, connect_timeout=init_timeout)
        try:
            self._socket = await asyncio.wait_for(websocket_connect(request), init_timeout)
        except Exception as exc:
            message = f"cannot reach the remote agent at {self.url}: {exc}"
            self.fail(message, "init_failed")
            raise AgentInitError(message) from exc
        # Commands and events are small request/answer messages: with Nagle's algorithm
        # each round trip waited for the peer's delayed ACK (a flat 44 ms, BENCHMARKS.md).
        if self._socket.protocol is not None:
            self._socket.protocol.set_nodelay(True)
        self._reader = asyncio.ensure_future(self._read())
        await self.send_command(proto.InitCommand(config=proto.without_server_settings(config)))
        try:
            await self.wait_ready(init_timeout)
        except AgentInitError:
            await self._close()
            raise

    async def _read(self) -> None:
        socket = self._socket
        assert socket is not None
        while True:
            frame = await socket.read_message()
            if frame is None:
                if not self._closing:
                    reason = socket.close_reason or f"code {socket.close_code}"
                    self.fail(f"the remote agent's connection closed ({reason})", "agent_died")
                return
            try:
                if isinstance(frame, bytes):
                    header, buffers = proto.unpack_frame(frame)
                else:
                    header, buffers = proto.parse_json(frame), []
                event = proto.decode_event(header, buffers)
            except proto.ProtocolError as exc:
                log.warning("solidtype remote agent %s: %s", self.identity.id, exc)
                continue
            self.dispatch(event)

    async def send_command(self, command: Any) -> None:
        header, buffers = proto.encode(command)
        await self.send_raw(header, buffers)

    async def send_raw(self, header: Any, buffers: list[bytes]) -> None:
        if self._socket is None or not self.alive:
            raise RuntimeError(f"the remote agent is {self.state.status}")
        await self._socket.write_message(proto.pack_frame(header, buffers), binary=True)

    async def terminate(self) -> None:
        if self._socket is not None and self.alive:
            with contextlib.suppress(Exception):
                await self.send_command(proto.TerminateCommand())
                await asyncio.wait_for(self.wait_status("terminated"), 10)
        await self._close()
        if self.state.status != "terminated":
            self.dispatch(proto.StateChangeEvent(state=proto.AgentState(status="terminated")))

    async def abandon(self) -> None:
        """Ask the other server to stop the agent (it shuts a stuck kernel down) and leave."""
        if self._socket is not None and self.alive:
            with contextlib.suppress(Exception):
                await self.send_command(proto.TerminateCommand())
        await self._close()
        if self.state.status != "terminated":
            self.dispatch(proto.StateChangeEvent(state=proto.AgentState(status="terminated")))

    async def _close(self) -> None:
        self._closing = True
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
