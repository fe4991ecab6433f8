"""Agents as collaborators: each live agent of this server gets its own awareness client in
jupyter-collaboration's rooms (JupyterLab's global awareness, and the room of the document
it edits), with full ``user`` fields, so JupyterLab lists it beside the human users.

pycrdt's ``Awareness`` writes one client id (the server's); an agent's slot is written by
swapping ``client_id`` around ``set_local_state`` on the event loop's thread, the technique
of jupyter-ai's scoped awareness. ``YRoom`` broadcasts every local update. Late joiners get
no existing states from pycrdt-websocket, and the global room sends no ``join`` event, so
states are re-published shortly after a new client announces itself in a room's awareness;
rooms that appear (the global one exists only once a browser connects) are found by a short
poll, and a heartbeat renews every state (y-protocols drops a state after 30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from ..protocol import agent as proto

log = logging.getLogger(__name__)

GLOBAL_ROOM = "JupyterLab:globalAwareness"
HEARTBEAT_SECONDS = 10.0
ROOM_POLL_SECONDS = 0.25
# A client announces itself as soon as it connects, a moment before the server's serve()
# has registered its channel: wait a little before answering.
REPUBLISH_DELAY = 0.05


@dataclass
class AgentSlot:
    """One agent's awareness: its own client id and the state it shows."""

    identity: proto.AgentIdentity
    client_id: int = field(default_factory=lambda: random.getrandbits(32))
    state: proto.AgentState = field(default_factory=proto.AgentState)
    document: str | None = None  # contents path of the document it edits
    selection: Any = None
    rooms: set[str] = field(default_factory=set)  # where it has been published

    def user(self) -> dict[str, Any]:
        return {
            "username": self.identity.user_id,
            "name": self.identity.name,
            "display_name": self.identity.name,
            "initials": self.identity.initials,
            "color": self.identity.color,
            "avatar_url": None,
        }

    def awareness_state(self, global_room: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "user": self.user(),
            "isAgent": True,
            # An agent slot must not turn autosave on for the room's humans.
            "autosave": False,
            "agent": {
                "status": self.state.status,
                "currentTask": self.state.current_task,
                "progress": self.state.progress,
                "runtime": self.identity.runtime,
                "sessionId": self.identity.session_id,
                "selection": self.selection,
            },
        }
        if global_room and self.document:
            state["current"] = f"document:{self.document}"
            state["documents"] = [self.document]
        return state


class AgentPresence:
    """Publishes the agents of ``AgentRuntimes`` in the jupyter-collaboration rooms of
    ``serverapp``. Without jupyter-collaboration (no ``jupyter_server_ydoc`` extension),
    ``enabled`` is false and nothing happens."""

    def __init__(self, serverapp: Any, *, heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.serverapp = serverapp
        self.heartbeat = heartbeat
        self.slots: dict[str, AgentSlot] = {}
        self._task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._watched: dict[str, tuple[Any, int]] = {}  # room id -> (awareness, observer id)

    @property
    def ydoc_extension(self) -> Any:
        return self.serverapp.web_app.settings.get("jupyter_server_ydoc")

    @property
    def enabled(self) -> bool:
        return self.ydoc_extension is not None

    # --- what the agents report -----------------------------------------------------------

    def agent_changed(
        self,
        identity: proto.AgentIdentity,
        state: proto.AgentState,
        *,
        document: str | None = None,
        selection: Any = None,
    ) -> None:
        """An agent started or changed (status, task, progress, selection)."""
        if not self.enabled:
            return
        if self._elsewhere(
            self.agent_changed, identity, state, document=document, selection=selection
        ):
            return
        slot = self.slots.get(identity.session_id)
        if slot is None or slot.identity.id != identity.id:
            if slot is not None:
                self._clear(slot)
            slot = self.slots[identity.session_id] = AgentSlot(identity)
        slot.state = state
        if document is not None:
            slot.document = document
        if selection is not None:
            slot.selection = selection
        if state.status in ("terminated", "error"):
            self._in_task(self._clear, self.slots.pop(identity.session_id))
            return
        self._start()
        self._in_task(self._publish, slot)

    def agent_gone(self, session_id: str) -> None:
        if self._elsewhere(self.agent_gone, session_id):
            return
        slot = self.slots.pop(session_id, None)
        if slot is not None:
            self._in_task(self._clear, slot)

    def _elsewhere(self, method: Any, *args: Any, **kwargs: Any) -> bool:
        """Hand the call to the server's loop when it comes from another thread (a thread
        runtime's agent reports from its own loop): rooms and Docs belong to one thread."""
        io_loop = getattr(self.serverapp, "io_loop", None)
        loop = getattr(io_loop, "asyncio_loop", None)
        if loop is None:
            return False
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return False
        loop.call_soon_threadsafe(functools.partial(method, *args, **kwargs))
        return True

    def _in_task(self, write: Any, *args: Any) -> None:
        """Run ``write`` in a task of the server's loop: the room broadcasts an awareness
        update through an anyio task group, which needs a running task (agent events
        arrive from plain loop callbacks)."""

        async def run() -> None:
            write(*args)

        task = asyncio.ensure_future(run())
        self._writes.add(task)  # a reference until it is done (tasks are weakly held)
        task.add_done_callback(self._writes.discard)

    async def close(self) -> None:
        for slot in list(self.slots.values()):
            self._clear(slot)
        self.slots.clear()
        for awareness, subscription in self._watched.values():
            with contextlib.suppress(Exception):
                awareness.unobserve(subscription)
        self._watched.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None

    # --- rooms ------------------------------------------------------------------------------

    def _rooms_of(self, slot: AgentSlot) -> list[tuple[str, Any]]:
        server = getattr(self.ydoc_extension, "ywebsocket_server", None)
        if server is None:
            return []
        rooms = []
        room = server.rooms.get(GLOBAL_ROOM)  # exists once a browser has connected
        if room is not None:
            rooms.append((GLOBAL_ROOM, room))
        if slot.document:
            file_ids = self.serverapp.web_app.settings.get("file_id_manager")
            file_id = file_ids.get_id(slot.document) if file_ids is not None else None
            if file_id:
                for room_id, room in list(server.rooms.items()):
                    if room_id.endswith(f":{file_id}"):
                        rooms.append((room_id, room))
        return rooms

    def _publish(self, slot: AgentSlot, only: str | None = None) -> None:
        for room_id, room in self._rooms_of(slot):
            if only is not None and room_id != only:
                continue
            self._watch(room_id, room)
            self._write(room, slot.client_id, slot.awareness_state(room_id == GLOBAL_ROOM))
            slot.rooms.add(room_id)

    def _clear(self, slot: AgentSlot) -> None:
        """Null state: clients drop the collaborator at once (not after 30 s)."""
        server = getattr(self.ydoc_extension, "ywebsocket_server", None)
        if server is None:
            return
        for room_id in slot.rooms:
            room = server.rooms.get(room_id)
            if room is not None:
                self._write(room, slot.client_id, None)
        slot.rooms.clear()

    @staticmethod
    def _write(room: Any, client_id: int, state: dict[str, Any] | None) -> None:
        awareness = room.awareness
        own = awareness.client_id
        awareness.client_id = client_id
        try:
            awareness.set_local_state(state)
            if state is not None and awareness.meta.get(client_id, {}).get("clock") == 0:
                # A client's first state has clock 0, which peers (y-protocols and pycrdt)
                # ignore from a client they do not know yet: send it again at clock 1.
                awareness.set_local_state(state)
        except RuntimeError as exc:  # the room stopped (server shutdown) under us
            log.debug("solidtype presence: room not running: %s", exc)
        except Exception:
            log.exception("solidtype presence: cannot write an awareness state")
        finally:
            awareness.client_id = own

    # --- heartbeat and late joiners -------------------------------------------------------

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._beat())

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time() + self.heartbeat
        while True:
            await asyncio.sleep(ROOM_POLL_SECONDS)
            renew = loop.time() >= next_heartbeat
            if renew:
                next_heartbeat = loop.time() + self.heartbeat
            for slot in list(self.slots.values()):
                for room_id, _room in self._rooms_of(slot):
                    if renew or room_id not in slot.rooms:
                        self._publish(slot, only=room_id)

    def _watch(self, room_id: str, room: Any) -> None:
        """Answer every client that announces itself in ``room`` with the agents' states."""
        awareness = room.awareness
        watched = self._watched.get(room_id)
        if watched is not None and watched[0] is awareness:
            return
        loop = asyncio.get_running_loop()

        def on_change(topic: str, event: tuple[dict[str, Any], Any]) -> None:
            changes, origin = event
            if topic != "change" or origin == "local":
                return
            ours = {slot.client_id for slot in self.slots.values()}
            if any(client not in ours for client in changes.get("added", ())):
                loop.call_later(REPUBLISH_DELAY, self._in_task, self._republish, room_id)

        self._watched[room_id] = (awareness, awareness.observe(on_change))

    def _republish(self, room_id: str) -> None:
        for slot in list(self.slots.values()):
            self._publish(slot, only=room_id)

    # --- the server's agents ----------------------------------------------------------------

    def follow(self, runtimes: Any) -> None:
        """Show the agents of ``runtimes`` (an ``AgentRuntimes``) from now on."""

        def observe(session_id: str, runtime: Any, event: Any) -> None:
            if event is None:
                self.agent_gone(session_id)
            elif isinstance(event, proto.StateChangeEvent):
                document = runtimes.documents.get(session_id)
                self.agent_changed(runtime.identity, event.state, document=document)
            elif isinstance(event, proto.AwarenessUpdateEvent):
                selection = (event.state or {}).get("selection")
                self.agent_changed(runtime.identity, runtime.state, selection=selection)

        runtimes.observers.append(observe)
