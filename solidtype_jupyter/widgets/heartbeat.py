"""The heartbeat of a notebook chat's agent: how the server learns it is alive (presence).

The agent of ``%ai_chat`` runs in this kernel, outside the server. While a ``Chat`` is open
its agent beats into the shared database (``AgentHeartbeatRepository``): at once when its
state changes (a run starts, a tool runs, the run ends) and every ``HEARTBEAT_INTERVAL``
seconds; the server shows it as a collaborator in JupyterLab, in the global room and in the
room of the document (or else of the notebook) it works on, and removes it when the chat
closes or the beats stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence

from ..agent import LoggedEvent
from ..protocol import agui
from ..protocol.agent import AgentIdentity, AgentState
from ..store import AgentHeartbeatRepository
from ..store.heartbeats import HEARTBEAT_INTERVAL

log = logging.getLogger(__name__)


class NotebookAgentHeartbeat:
    """Beats for one session's agent until ``stop``; ``observe`` every stored event batch."""

    def __init__(
        self,
        repository: AgentHeartbeatRepository,
        user_id: str,
        session_id: str,
        document_path: str | None,
    ) -> None:
        self.repository = repository
        self.user_id = user_id
        self.identity = AgentIdentity.for_session(session_id, f"kernel-{os.getpid()}", "thread")
        # Where it works: the document's file, else the notebook (jupyter_server tells the
        # kernel its notebook's path in JPY_SESSION_NAME).
        self.document_path = document_path or os.environ.get("JPY_SESSION_NAME") or None
        self.state = AgentState(status="ready")
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):  # the database may be gone at shutdown
            await self.repository.gone(self.identity.session_id)

    def observe(self, batch: Sequence[LoggedEvent]) -> None:
        state = self.state
        for logged in batch:
            data = logged.data
            if logged.type == "RUN_STARTED":
                state = AgentState(status="busy", current_task="thinking")
            elif logged.type == "TOOL_CALL_START":
                state = AgentState(
                    status="busy", current_task=f"calling {data.get('toolCallName')}"
                )
            elif logged.type == "CUSTOM" and data.get("name") == agui.STATUS_EVENT:
                value = data.get("value") or {}
                state = AgentState(
                    status="busy",
                    current_task=value.get("currentTask"),
                    progress=value.get("progress"),
                )
            elif logged.terminal:
                state = AgentState(status="ready")
        if state != self.state:
            self.state = state
            self._changed.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.repository.beat(
                    self.user_id, self.identity, self.state, self.document_path
                )
            except Exception:  # presence is a hint: never let it break the chat
                log.warning("agent heartbeat failed", exc_info=True)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), HEARTBEAT_INTERVAL)
            self._changed.clear()
