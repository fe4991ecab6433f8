"""``{base}solidtype/mcp``: the MCP server over Streamable HTTP, inside jupyter_server.

A bridge, not a second transport: tornado authenticates and authorizes the request as every
other route (jupyter_server's token in the ``Authorization`` header or ``?token=``, its
identity provider, its Authorizer), then hands it to the SDK's own Streamable HTTP transport
(``StreamableHTTPSessionManager``, an ASGI app) with the user and the request's ``contents``
permissions in the ASGI scope. The SDK's transport carries the protocol's details
(sessions, SSE framing, protocol-version and accept checks), which change with the spec;
reimplementing them on tornado handlers over the low-level server would copy about a
thousand lines of it. The bridge is small: one request in, the app's response streamed out
(SSE chunks flushed as they come), a closed connection reported as ``http.disconnect``.

Sessions are per user: the MCP session id the SDK hands out is recorded with the user whose
request created it, and a request of another user with that id is answered as an unknown
session (404). Each session has one ``ServerWorkspace`` (one document). The 2026-07-28
protocol era has no sessions (no document to keep, no presence, no server-to-client
elicitation), so its requests are answered "unsupported protocol version" naming the
handshake versions, and clients fall back to the handshake era.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import mcp_types as types
from jupyter_server.auth.decorator import authorized
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from tornado import web
from tornado.iostream import StreamClosedError

from .base import SolidTypeAPIHandler
from .documents import ContentsAccess

log = logging.getLogger(__name__)

MCP_ROUTE = "mcp"
SESSION_HEADER = "mcp-session-id"
SCOPE_KEY = "solidtype"
SWEEP_SECONDS = 30.0
DEFAULT_IDLE_SECONDS = 1800.0  # the SDK's own default, when agents never idle out


class McpService:
    """The extension's MCP state: the SDK's session manager (running in a task of the
    server's loop) and each session's owner and workspace."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.owners: dict[str, str] = {}
        self.used: dict[str, float] = {}  # session id -> loop time of its latest request
        self.workspaces: dict[str, Any] = {}
        self._manager: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def manager(self) -> Any:
        if self._manager is None:
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
            from mcp.server.transport_security import TransportSecuritySettings

            from ..mcp.server import build_server

            server = build_server(self.workspace_of, approvals=self.app.mcp_approvals)
            manager = StreamableHTTPSessionManager(
                app=server,
                # jupyter_server checks hosts and origins itself (allow_origin, local hosts).
                security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
                session_idle_timeout=self.idle_timeout,
            )
            started = asyncio.Event()

            async def run() -> None:
                async with manager.run():
                    started.set()
                    while not self._stop.is_set():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._stop.wait(), SWEEP_SECONDS)
                        await self._sweep()

            self._task = asyncio.ensure_future(run())
            await started.wait()
            self._manager = manager
        return self._manager

    async def workspace_of(self, ctx: Any) -> Any:
        from ..mcp.server import client_name
        from .mcp_workspace import Access, ServerWorkspace

        request = ctx.request
        if request is None or SCOPE_KEY not in request.scope:
            raise RuntimeError("an MCP request reached the server without the bridge")
        caller = request.scope[SCOPE_KEY]
        session_id = request.headers.get(SESSION_HEADER)
        workspace = self.workspaces.get(session_id) if session_id else None
        if workspace is None:
            workspace = ServerWorkspace(
                self.app,
                user_id=caller["user"],
                client_name=client_name(ctx),
                access=Access(caller["access"]),
                overrides=dict(self.app.approval_overrides),
            )
            if session_id:
                self.workspaces[session_id] = workspace
                self.used[session_id] = asyncio.get_running_loop().time()
        elif workspace.user_id != caller["user"]:  # the bridge refuses this first
            raise RuntimeError("an MCP session of another user")
        else:
            workspace.access = Access(caller["access"])  # the latest request's permissions
            self.used[session_id] = asyncio.get_running_loop().time()
        return workspace

    @property
    def idle_timeout(self) -> float:
        """Seconds after which a session nobody uses is forgotten (a client that went away
        without ending it): its agent stops and it leaves the document's room. The SDK
        forgets its side after the same time."""
        return float(self.app.agent_idle_timeout or DEFAULT_IDLE_SECONDS)

    async def _sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        for session_id, workspace in list(self.workspaces.items()):
            idle = min(now - self.used.get(session_id, now), workspace.idle_for())
            if idle > self.idle_timeout:
                with contextlib.suppress(Exception):
                    await self.end(session_id)

    async def end(self, session_id: str) -> None:
        self.owners.pop(session_id, None)
        self.used.pop(session_id, None)
        workspace = self.workspaces.pop(session_id, None)
        if workspace is not None:
            await workspace.close()

    async def close(self) -> None:
        for session_id in list(self.workspaces):
            with contextlib.suppress(Exception):
                await self.end(session_id)
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._task, 5)
            self._task = None


def mcp_service(app: Any) -> McpService:
    service = getattr(app, "mcp", None)
    if service is None:
        service = McpService(app)
        app.mcp = service
    return service


def _modern(body: bytes) -> bool:
    """A 2026-07-28 request (``server/discover``, or the per-request ``_meta`` envelope)."""
    try:
        message = json.loads(body)
    except ValueError:
        return False
    if not isinstance(message, dict):
        return False
    if message.get("method") == "server/discover":
        return True
    meta = (
        (message.get("params") or {}).get("_meta")
        if isinstance(message.get("params"), dict)
        else None
    )
    return isinstance(meta, dict) and types.PROTOCOL_VERSION_META_KEY in meta


class McpHandler(SolidTypeAPIHandler):
    """Streamable HTTP: ``POST`` messages, ``GET`` the server's stream, ``DELETE`` the
    session. Writing to documents is asked per tool call (``contents``); using the route
    at all is the ``solidtype`` resource, as the chat."""

    _disconnected: asyncio.Event | None = None

    def on_connection_close(self) -> None:
        if self._disconnected is not None:
            self._disconnected.set()

    @web.authenticated
    @authorized
    async def post(self) -> None:
        if _modern(self.request.body):
            self._unsupported_version()
            return
        await self._bridge()

    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self._bridge()

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        session_id = self.request.headers.get(SESSION_HEADER)
        await self._bridge()
        if session_id and self.get_status() < 300:
            await mcp_service(self.extensionapp).end(session_id)

    def _unsupported_version(self) -> None:
        try:
            request_id = json.loads(self.request.body).get("id")
        except (ValueError, AttributeError):
            request_id = None
        self.set_status(400)
        self.set_header("Content-Type", "application/json")
        self.finish(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {
                        "code": types.UNSUPPORTED_PROTOCOL_VERSION,
                        "message": "this server speaks the MCP handshake era (sessions): "
                        "send initialize",
                        "data": {"supported": list(HANDSHAKE_PROTOCOL_VERSIONS)},
                    },
                }
            )
        )

    async def _bridge(self) -> None:
        service = mcp_service(self.extensionapp)
        session_id = self.request.headers.get(SESSION_HEADER)
        user = self.username
        if session_id:
            owner = service.owners.get(session_id)
            if owner is not None and owner != user:
                raise web.HTTPError(404, "unknown MCP session")
        manager = await service.manager()
        self._disconnected = asyncio.Event()
        request = self.request
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.protocol,
            "path": request.path,
            "raw_path": request.path.encode("latin-1"),
            "query_string": request.query.encode("latin-1"),
            "root_path": "",
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.get_all()
            ],
            "client": (request.remote_ip or "", 0),
            "server": None,
            SCOPE_KEY: {"user": user, "access": ContentsAccess(self)},
        }
        body_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": request.body or b"", "more_body": False}
            assert self._disconnected is not None
            await self._disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.set_status(message["status"])
                self.clear_header("Content-Type")
                for raw_name, raw_value in message.get("headers", []):
                    name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
                    if name.lower() == "content-length":
                        continue  # tornado counts what it writes
                    if name.lower() == SESSION_HEADER and session_id is None:
                        service.owners[value] = user  # this user's new session
                    self.set_header(name, value)
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if body:
                    self.write(body)
                if message.get("more_body"):
                    with contextlib.suppress(StreamClosedError):
                        await self.flush()

        try:
            await manager.handle_request(scope, receive, send)
        finally:
            if not self._finished:
                with contextlib.suppress(StreamClosedError):
                    self.finish()
