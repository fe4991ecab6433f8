"""Agents in notebook kernels (``%ai_chat``) as collaborators: the server's side of their
heartbeats (``store.heartbeats``, ``widgets.heartbeat``).

Every ``POLL_SECONDS`` the server reads the agents that beat within ``MAX_AGE`` seconds and
hands changes to ``AgentPresence``, exactly as for its own agents: new or changed agents are
published, agents whose row was deleted (the chat closed) or went stale (the kernel died)
leave. Polling a small table is what a kernel, which has the database but no credentials
for the server's rooms, can reach; it costs one indexed query a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from ..store import AgentHeartbeatRepository
from ..store.heartbeats import HEARTBEAT_INTERVAL

POLL_SECONDS = 1.0
#: A kernel agent that missed three beats is gone (its kernel died or hangs).
MAX_AGE = 3 * HEARTBEAT_INTERVAL
log = logging.getLogger(__name__)


class KernelAgentWatcher:
    def __init__(
        self,
        presence: Any,
        heartbeats: AgentHeartbeatRepository,
        root_dir: str,
        *,
        poll: float = POLL_SECONDS,
        max_age: float = MAX_AGE,
    ) -> None:
        self.presence = presence
        self.heartbeats = heartbeats
        self.root_dir = os.path.realpath(root_dir)
        self.poll = poll
        self.max_age = max_age
        self.shown: dict[str, tuple[Any, ...]] = {}  # session id -> what was published
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
        for session_id in list(self.shown):
            self.presence.agent_gone(session_id)
        self.shown.clear()

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # the database may be briefly unavailable: try again
                log.warning("solidtype: reading kernel agents' heartbeats failed", exc_info=True)
            await asyncio.sleep(self.poll)

    async def check(self) -> None:
        """Publish what changed since the last check."""
        alive = {
            beat.identity.session_id: beat for beat in await self.heartbeats.alive(self.max_age)
        }
        for session_id, beat in alive.items():
            document = self.relative(beat.document_path)
            key = (beat.identity, beat.state, document)
            if self.shown.get(session_id) != key:
                self.shown[session_id] = key
                self.presence.agent_changed(beat.identity, beat.state, document=document)
        for session_id in [s for s in self.shown if s not in alive]:
            del self.shown[session_id]
            self.presence.agent_gone(session_id)

    def relative(self, path: str | None) -> str | None:
        """The kernel's absolute path as a path of this server's contents, if it is one."""
        if not path:
            return None
        if not os.path.isabs(path):
            return path
        real = os.path.realpath(path)
        if os.path.commonpath([real, self.root_dir]) != self.root_dir:
            return None  # outside what this server serves: no room to show it in
        return os.path.relpath(real, self.root_dir)
