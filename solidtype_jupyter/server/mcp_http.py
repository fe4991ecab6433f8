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
session (404); a user holds at most ``max_mcp_sessions_per_user`` of them (``admit``).
Each session has one ``ServerWorkspace`` (one document). The 2026-07-28
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
from .bodies import BoundedBodyMixin
from .documents import ContentsAccess

log = logging.getLogger(__name__)

MCP_ROUTE = "mcp"
SESSION_HEADER = "mcp-session-id"
SCOPE_KEY = "solidtype"
SWEEP_SECONDS = 30.0
DEFAULT_IDLE_SECONDS = 1800.0  # the SDK's own default, when agents never idle out
#: Largest MCP message accepted (the SDK's own default): a tool call's arguments are small.
MAX_BODY_BYTES = 4 * 1024 * 1024


class McpService:
    """The extension's MCP state: the SDK's session manager (running in a task of the
    server's loop) and each session's owner, workspace and use.

    A session lives as the SDK's does: until the client ends it (DELETE) or no request of
    it has been in flight (an open GET stream counts) for ``idle_timeout``; ``end`` also
    ends the SDK's side, so a forgotten session id is 404 and the client starts again.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.owners: dict[str, str] = {}  # session id -> user
        self.used: dict[str, float] = {}  # session id -> loop time its latest request ended
        self.in_flight: dict[str, int] = {}  # session id -> requests being served now
        self.opening: dict[str, int] = {}  # user -> sessions being opened now
        self.workspaces: dict[str, Any] = {}
        self._manager: Any = None
        self._starting = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def manager(self) -> Any:
        if self._manager is not None:
            return self._manager
        # Requests that arrive together at a fresh server start one manager, not one each
        # (a session another manager made would be unknown to the one kept: 404).
        async with self._starting:
            if self._manager is None:
                await self._start()
        return self._manager

    async def _start(self) -> None:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        from ..mcp.server import build_server

        server = build_server(self.workspace_of, approvals=self.app.mcp_approvals)
        manager = StreamableHTTPSessionManager(
            app=server,
            # jupyter_server has checked the request before the bridge: Host (only local
            # names unless allow_remote_access: DNS rebinding) and Origin (APIHandler,
            # allow_origin), and XSRF for cookie-authenticated requests. The SDK's own
            # check would refuse every Host but localhost, remote servers included.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            session_idle_timeout=self.idle_timeout,
            max_request_body_size=MAX_BODY_BYTES,
        )
        started = asyncio.Event()

        async def run() -> None:
            async with manager.run():
                started.set()
                while not self._stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), SWEEP_SECONDS)
                    await self._sweep()

        task = self._task = asyncio.ensure_future(run())
        waiting = asyncio.ensure_future(started.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():  # it failed to start: say why rather than wait forever
            waiting.cancel()
            self._task = None
            task.result()
            raise RuntimeError("the MCP session manager stopped before it started")
        self._manager = manager

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
        elif workspace.user_id != caller["user"]:  # the bridge refuses this first
            raise RuntimeError("an MCP session of another user")
        else:
            workspace.access = Access(caller["access"])  # the latest request's permissions
        return workspace

    @property
    def idle_timeout(self) -> float:
        """Seconds after which a session nobody uses is forgotten (a client that went away
        without ending it): its agent stops and it leaves the document's room. The SDK
        forgets its side after the same time."""
        return float(self.app.agent_idle_timeout or DEFAULT_IDLE_SECONDS)

    def _idle_for(self, session_id: str, now: float) -> float:
        """Seconds since the session's latest request ended; 0 while one is served."""
        if self.in_flight.get(session_id):
            return 0.0
        return now - self.used.get(session_id, now)

    async def _sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        for session_id in list(self.owners):
            if self._idle_for(session_id, now) > self.idle_timeout:
                with contextlib.suppress(Exception):
                    await self.end(session_id)

    async def admit(self, user: str) -> str | None:
        """Room for a new session of ``user``: ends the user's least recently used session
        with no request in flight when the user is at ``max_mcp_sessions_per_user``; the
        reason it is refused otherwise."""
        most = int(self.app.max_mcp_sessions_per_user or 0)
        if not most:
            return None
        mine = [s for s, owner in self.owners.items() if owner == user]
        if len(mine) + self.opening.get(user, 0) < most:
            return None
        now = asyncio.get_running_loop().time()
        idle = [s for s in mine if not self.in_flight.get(s)]
        if not idle:
            return (
                f"you have {len(mine)} MCP sessions in use and a user may have {most} "
                "(SolidTypeApp.max_mcp_sessions_per_user): end one (its client's DELETE, or "
                "close the client), then connect again"
            )
        await self.end(max(idle, key=lambda s: self._idle_for(s, now)))
        return None

    def request_started(self, session_id: str) -> None:
        self.in_flight[session_id] = self.in_flight.get(session_id, 0) + 1

    def request_ended(self, session_id: str) -> None:
        left = self.in_flight.get(session_id, 1) - 1
        if left > 0:
            self.in_flight[session_id] = left
        else:
            self.in_flight.pop(session_id, None)
        if session_id in self.owners:
            self.used[session_id] = asyncio.get_running_loop().time()

    def opened(self, session_id: str, user: str) -> None:
        """The SDK handed out ``session_id`` to ``user``'s request."""
        self.owners[session_id] = user
        self.used[session_id] = asyncio.get_running_loop().time()

    async def end(self, session_id: str) -> None:
        """The session ends on both sides: the SDK's (as the client's DELETE would end it;
        already ended: a 404, ignored) and ours (its agent stops, it leaves the room)."""
        if self._manager is not None and session_id in self.owners:
            with contextlib.suppress(Exception):
                await self._manager.handle_request(*_delete_request(session_id))
        self.forget(session_id)
        workspace = self.workspaces.pop(session_id, None)
        if workspace is not None:
            await workspace.close()

    def forget(self, session_id: str) -> None:
        self.owners.pop(session_id, None)
        self.used.pop(session_id, None)

    async def close(self) -> None:
        for session_id in list(self.owners):
            with contextlib.suppress(Exception):
                await self.end(session_id)
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._task, 5)
            self._task = None


def _delete_request(session_id: str) -> tuple[dict[str, Any], Any, Any]:
    """An ASGI DELETE of ``session_id`` (scope, receive, send), the answer dropped: the
    SDK's public way to end a session from this side."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "DELETE",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(SESSION_HEADER.encode("latin-1"), session_id.encode("latin-1"))],
        "client": None,
        "server": None,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    return scope, receive, send


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


@web.stream_request_body
class McpHandler(BoundedBodyMixin, SolidTypeAPIHandler):
    """Streamable HTTP: ``POST`` messages, ``GET`` the server's stream, ``DELETE`` the
    session. Writing to documents is asked per tool call (``contents``); using the route
    at all is the ``solidtype`` resource, as the chat. A body over ``MAX_BODY_BYTES`` is
    refused (413) as it arrives, never held whole in memory (``BoundedBodyMixin``)."""

    _disconnected: asyncio.Event | None = None

    async def prepare(self) -> None:  # type: ignore[override]
        if self._disconnected is None:
            self._disconnected = asyncio.Event()
        await super().prepare()
        if self.current_user is not None:  # a stranger's body still stops at the limit
            self.limit_body()

    def max_body_bytes(self) -> int:
        return MAX_BODY_BYTES

    def refuse_body(self, limit: int) -> None:
        self._json_rpc_error(
            413, None, types.INVALID_REQUEST, f"an MCP message may have at most {limit} bytes"
        )

    def on_connection_close(self) -> None:
        super().on_connection_close()  # a body still arriving stops there
        if self._disconnected is None:
            self._disconnected = asyncio.Event()
        self._disconnected.set()

    def _body(self) -> bytes | None:
        """The request's body, or ``None`` when it was refused (answered 413)."""
        if self.body_refused:  # read and dropped: now the answer
            self.answer_refused()
            return None
        self.request.body = self.received_body
        return self.request.body

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self._body()
        if body is None:
            return
        if _modern(body):
            self._unsupported_version(body)
            return
        await self._bridge()

    @web.authenticated
    @authorized
    async def get(self) -> None:
        if self._body() is not None:
            await self._bridge()

    @web.authenticated
    @authorized
    async def delete(self) -> None:
        if self._body() is None:
            return
        session_id = self.request.headers.get(SESSION_HEADER)
        await self._bridge()
        if session_id and self.get_status() < 300:
            await mcp_service(self.extensionapp).end(session_id)

    def _json_rpc_error(self, status: int, request_id: Any, code: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        error: dict[str, Any] = {"code": code, "message": message}
        if code == types.UNSUPPORTED_PROTOCOL_VERSION:
            error["data"] = {"supported": list(HANDSHAKE_PROTOCOL_VERSIONS)}
        self.finish(json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}))

    def _unsupported_version(self, body: bytes) -> None:
        try:
            request_id = json.loads(body).get("id")
        except (ValueError, AttributeError):
            request_id = None
        self._json_rpc_error(
            400,
            request_id,
            types.UNSUPPORTED_PROTOCOL_VERSION,
            "this server speaks the MCP handshake era (sessions): send initialize",
        )

    async def _bridge(self) -> None:
        service = mcp_service(self.extensionapp)
        session_id = self.request.headers.get(SESSION_HEADER)
        user = self.username
        if session_id:
            owner = service.owners.get(session_id)
            if owner is not None and owner != user:
                raise web.HTTPError(404, "unknown MCP session")
            service.request_started(session_id)
            try:
                await self._serve(service, session_id, user)
            finally:
                service.request_ended(session_id)
            return
        refused = await service.admit(user)
        if refused is not None:
            self._json_rpc_error(503, None, types.INTERNAL_ERROR, refused)
            return
        service.opening[user] = service.opening.get(user, 0) + 1
        try:
            await self._serve(service, None, user)
        finally:
            left = service.opening.get(user, 1) - 1
            if left > 0:
                service.opening[user] = left
            else:
                service.opening.pop(user, None)

    async def _serve(self, service: McpService, session_id: str | None, user: str) -> None:
        """One request through the SDK's transport: its answer streamed out as it comes."""
        manager = await service.manager()
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
        disconnected = self._disconnected
        assert disconnected is not None

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": request.body or b"", "more_body": False}
            # ASGI: after the body, receive() waits for the client to go away.
            await disconnected.wait()
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
                        service.opened(value, user)  # this user's new session
                    self.set_header(name, value)
                if self._headers.get("Content-Type", "").startswith("text/event-stream"):
                    # A stream's headers go out now: its first event may be a while (a GET
                    # stream has none until the server notifies), and clients wait for them.
                    with contextlib.suppress(StreamClosedError):
                        await self.flush()
            elif message["type"] == "http.response.body":
                if disconnected.is_set():
                    return  # nobody reads it; the SDK ends the stream on http.disconnect
                body = message.get("body", b"")
                if body:
                    self.write(body)
                if message.get("more_body"):
                    # An SSE event goes out as it comes, not when the stream ends.
                    with contextlib.suppress(StreamClosedError):
                        await self.flush()

        try:
            await manager.handle_request(scope, receive, send)
        finally:
            if not self._finished:
                with contextlib.suppress(StreamClosedError):
                    self.finish()
