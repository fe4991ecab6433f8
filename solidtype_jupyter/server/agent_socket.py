"""``{base}solidtype/api/ai/agent/{session}/ws``: a session's agent for another server.

The remote runtime of another Jupyter server connects here; this server runs the agent in
its own runtime (``SolidTypeApp.agents``, kernel by default; never remote again) and relays
commands and events as binary frames (``protocol.agent.pack_frame``). The first frame must
be ``init``: from its config only the identity and the context are the client's (the
context must be the session's); the user is this server's identity of the caller, the
session must be one of theirs, and every other setting (model, tool modules, approval
levels, root, tool time budget: ``protocol.agent.SERVER_SETTINGS``) is this server's own
configuration. An ``init`` that sets one of those is refused with an error event and the
socket is closed (1008): those settings name code and files on this server, and the caller
may hold no right to run code here. ``terminate`` stops the agent; a closed socket only
detaches (other clients may share the agent).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..agent.runtime import AgentInitError, AgentRuntime
from ..protocol import agent as proto
from .base import session_owner

AGENT_SOCKET_ROUTE = r"agent/(?P<session_id>[0-9a-fA-F-]{36})/ws"


class AgentSocketHandler(WebSocketMixin, WebSocketHandler, ExtensionHandlerMixin, JupyterHandler):
    auth_resource = "solidtype"

    runtime: AgentRuntime | None = None
    _unsubscribe: Callable[[], None] | None = None

    @property
    def app(self) -> Any:
        return self.extensionapp

    def set_default_headers(self) -> None:
        """No JSON API headers on a WebSocket upgrade."""

    def open(self, *args: Any, **kwargs: Any) -> None:
        # Small request/answer messages: do not wait for the peer's delayed ACK (Nagle).
        self.set_nodelay(True)
        super().open(*args, **kwargs)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Not @authorized: an upgrade is a GET, which it checks as "read"; driving an agent
        # runs the model and a kernel, which the chat routes allow only to "write".
        decision = self.authorizer.is_authorized(self, self.current_user, "write", "solidtype")
        if not await ensure_async(decision):
            raise web.HTTPError(403, "driving an agent needs write permission on solidtype")
        session_id = kwargs["session_id"]
        try:
            uuid.UUID(session_id)
        except ValueError:
            raise web.HTTPError(404) from None
        user = session_owner(self.current_user, self.identity_provider, self.app)
        session = await self.app.sessions.get(user, session_id)
        if session is None:
            raise web.HTTPError(404, "no such chat session")
        self.session_id = str(session.id)
        self.session_context = str(session.context)
        self.user = user
        await super().get(*args, **kwargs)

    async def on_message(self, message: str | bytes) -> None:
        try:
            if isinstance(message, bytes):
                header, buffers = proto.unpack_frame(message)
            else:
                header, buffers = proto.parse_json(message), []
            command = proto.decode_command(header, buffers)
        except proto.ProtocolError as exc:
            self._send(proto.ErrorEvent(message=str(exc), code="invalid_command"))
            return
        if isinstance(command, proto.InitCommand):
            await self._attach(command.config)
        elif self.runtime is None:
            self._send(
                proto.ErrorEvent(message="send an init command first", code="not_initialized")
            )
        elif isinstance(command, proto.TerminateCommand):
            await self.app.agents.terminate(self.session_id)
        else:
            try:
                await self.runtime.send_command(command)
            except RuntimeError as exc:
                self._send(proto.ErrorEvent(message=str(exc), fatal=True, code="agent_died"))

    async def _attach(self, config: proto.AgentConfig) -> None:
        app = self.app
        agents = app.agents
        refused = proto.client_set_settings(config)
        if refused:
            self._refuse(
                f"init sets {', '.join(refused)}: the server that runs the agent decides "
                "these (its SolidTypeApp configuration); send init without them"
            )
            return
        if config.context != self.session_context:
            self._refuse(
                f"init asks for a {config.context} agent, but session {self.session_id} "
                f"has the context {self.session_context}"
            )
            return
        kind = "thread" if agents.default_runtime == "thread" else "kernel"
        config = config.model_copy(
            update={
                "user_id": self.user,
                "session_id": self.session_id,
                "model": app.model,
                "root_dir": str(self.serverapp.root_dir) if self.serverapp else None,
                "tool_modules": list(app.agent_tool_modules),
                "approval_overrides": dict(app.approval_overrides),
                "tool_timeout": app.tool_timeout,
            }
        )
        try:
            runtime = await agents.attach(config, kind)
        except AgentInitError as exc:
            self._send(
                proto.StateChangeEvent(state=proto.AgentState(status="error", error=str(exc)))
            )
            return
        self._detach()
        self.runtime = runtime
        self._unsubscribe = runtime.on_event(self._send)
        self._send(proto.StateChangeEvent(state=runtime.state))

    def _refuse(self, message: str) -> None:
        """A refused ``init``: the error as the agent's state (what the remote runtime
        reports), then the socket closes with 1008 (policy violation)."""
        self._send(proto.ErrorEvent(message=message, fatal=True, code="forbidden_setting"))
        self._send(proto.StateChangeEvent(state=proto.AgentState(status="error", error=message)))
        self.close(1008, "init refused")

    def _send(self, event: Any) -> None:
        header, buffers = proto.encode(event)
        with contextlib.suppress(WebSocketClosedError):
            self.write_message(proto.pack_frame(header, buffers), binary=True)

    def _detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def on_close(self) -> None:
        self._detach()
