"""Who is in a collaboration room: what JupyterLab's Collaborators panel would list, read
from Python (demo notebooks, tests, checking a deployment). An ``AwarenessObserver`` joins
the room's WebSocket as one more awareness client and keeps the states it is sent."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pycrdt import Awareness, Doc, YMessageType, create_awareness_message, read_message
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from .awareness import GLOBAL_ROOM


class AwarenessObserver:
    """One awareness client in a room of a Jupyter server with jupyter-collaboration."""

    def __init__(self, name: str = "solidtype-observer") -> None:
        self.awareness = Awareness(Doc())
        self.awareness.set_local_state({"user": {"username": name, "name": name}})
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def join(self, server_url: str, token: str, room: str = GLOBAL_ROOM) -> None:
        """Connect to ``room`` of the server at ``server_url`` (``http://host:port/base/``)."""
        ws_url = server_url.replace("http", "ws", 1).rstrip("/")
        request = HTTPRequest(
            f"{ws_url}/api/collaboration/room/{room}",
            headers={"Authorization": f"token {token}"} if token else {},
        )
        self._socket = await websocket_connect(request)
        self._reader = asyncio.ensure_future(self._read())
        # Announce ourselves, as a browser does: agents re-publish to newcomers.
        update = self.awareness.encode_awareness_update([self.awareness.client_id])
        await self._socket.write_message(create_awareness_message(update), binary=True)

    async def _read(self) -> None:
        while True:
            message = await self._socket.read_message()
            if message is None:
                return
            if isinstance(message, bytes) and message[0] == YMessageType.AWARENESS:
                self.awareness.apply_awareness_update(read_message(message[1:]), "remote")

    def collaborators(self) -> list[dict[str, Any]]:
        """The other clients' states that carry a ``user`` (humans and agents)."""
        own = self.awareness.client_id
        return [
            state
            for client, state in self.awareness.states.items()
            if client != own and state and "user" in state
        ]

    def agents(self) -> dict[int, dict[str, Any]]:
        return {
            client: state
            for client, state in self.awareness.states.items()
            if state and state.get("isAgent")
        }

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._socket is not None:
            self._socket.close()


async def collaborators(
    server_url: str, token: str, *, room: str = GLOBAL_ROOM, listen: float = 1.0
) -> list[dict[str, Any]]:
    """The collaborators of ``room`` seen after ``listen`` seconds: agents answer a newcomer
    at once, humans' browsers when they renew their state (every 15 s)."""
    observer = AwarenessObserver()
    await observer.join(server_url, token, room)
    try:
        await asyncio.sleep(listen)
        return observer.collaborators()
    finally:
        await observer.close()
