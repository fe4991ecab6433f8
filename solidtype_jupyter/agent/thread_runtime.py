"""``ThreadRuntime``: the agent (and OCCT) in a worker thread of this process.

The thread runs its own asyncio loop hosting an ``AgentCore``. Commands and events cross
the thread boundary in their wire form (``protocol.agent.encode``), exactly as they cross a
kernel comm, so nothing is shared between the two sides but bytes and plain data.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from ..protocol import agent as proto
from .core import AgentCore
from .runtime import DEFAULT_INIT_TIMEOUT, AgentRuntime


class ThreadRuntime(AgentRuntime):
    kind = "thread"

    def __init__(self, identity: proto.AgentIdentity) -> None:
        super().__init__(identity)
        self._host: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._core: AgentCore | None = None

    async def initialize(
        self, config: proto.AgentConfig, *, init_timeout: float = DEFAULT_INIT_TIMEOUT
    ) -> None:
        self._host = asyncio.get_running_loop()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._core = AgentCore(self._from_agent)
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"solidtype-agent-{self.identity.id}", daemon=True
        )
        self._thread.start()
        await self.send_command(proto.InitCommand(config=config))
        try:
            await self.wait_ready(init_timeout)
        except Exception:
            await self._stop_thread()
            raise

    def _from_agent(self, event: Any) -> None:
        header, buffers = proto.encode(event)
        host = self._host
        if host is not None and not host.is_closed():
            host.call_soon_threadsafe(self._receive, header, buffers)

    def _receive(self, header: Any, buffers: list[bytes]) -> None:
        self.dispatch(proto.decode_event(header, buffers))

    async def send_command(self, command: Any) -> None:
        header, buffers = proto.encode(command)
        await self.send_raw(header, buffers)

    async def send_raw(self, header: Any, buffers: list[bytes]) -> None:
        """A command in wire form as is (also malformed ones: the agent answers those)."""
        if self._loop is None or self._core is None or self._loop.is_closed():
            raise RuntimeError("the thread agent is not running")
        core = self._core
        asyncio.run_coroutine_threadsafe(core.handle(header, buffers), self._loop)

    async def terminate(self) -> None:
        if self._loop is None or self._core is None:
            return
        if not self._loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(self._core.terminate(), self._loop)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.wrap_future(future), 10)
        await asyncio.sleep(0)  # let the last events reach this loop
        await self._stop_thread()
        if self.state.status != "terminated":
            self.dispatch(proto.StateChangeEvent(state=proto.AgentState(status="terminated")))

    async def abandon(self) -> None:
        """Leave a stuck agent behind: a thread cannot be killed, so its loop is told to stop
        (it does once the stuck call returns) and this runtime stops waiting for it."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        self._loop = self._core = None
        self._thread = None
        if self.state.status != "terminated":
            self.dispatch(proto.StateChangeEvent(state=proto.AgentState(status="terminated")))

    async def _stop_thread(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, 10)
            if not thread.is_alive():  # a loop still stuck in a call cannot be closed
                loop.close()
        self._thread = None
