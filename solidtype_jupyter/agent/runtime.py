"""``AgentRuntime``: where an agent runs, behind one interface (the seed's IAgentRuntime).

``initialize`` starts the agent and returns once it reports ``ready`` (``AgentInitError``
after ``init_timeout`` seconds or when it reports an error); ``send_command`` passes a
command; ``on_event`` subscribes to its events (returns the unsubscribe function);
``abandon`` stops an agent that may not answer any more (a tool stuck in C code), without
asking it first;
``update_awareness`` sets the presence state published for it; ``identity`` and ``state``
(the last ``state-change`` seen) describe it. Implementations: ``ThreadRuntime``,
``KernelRuntime``.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from ..protocol import agent as proto

log = logging.getLogger(__name__)

EventHandler = Callable[[Any], None]

DEFAULT_INIT_TIMEOUT = 30.0


class AgentInitError(RuntimeError):
    """The agent did not become ready; ``str(exc)`` says why (timeout, error at start)."""

    code = "agent_unavailable"  # the RUN_ERROR code a chat turn ends with


class AgentLimitError(AgentInitError):
    """No agent may start now (``SolidTypeApp.max_agents`` / ``max_agents_per_user`` reached
    and none idle); ``str(exc)`` says what to do."""

    code = "agent_limit"


class AgentRuntime(ABC):
    kind: proto.RuntimeKind

    def __init__(self, identity: proto.AgentIdentity) -> None:
        self.identity = identity
        self.state = proto.AgentState()
        self.awareness: dict[str, Any] | None = None
        self._handlers: list[EventHandler] = []
        self._status_changed = asyncio.Event()

    @abstractmethod
    async def initialize(
        self, config: proto.AgentConfig, *, init_timeout: float = DEFAULT_INIT_TIMEOUT
    ) -> None: ...

    @abstractmethod
    async def terminate(self) -> None: ...

    @abstractmethod
    async def send_command(self, command: Any) -> None: ...

    async def abandon(self) -> None:
        """Stop an agent that may not answer (``terminate`` asks it first and waits)."""
        await self.terminate()

    @property
    def alive(self) -> bool:
        return self.state.status not in ("error", "terminated")

    def on_event(self, handler: EventHandler) -> Callable[[], None]:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def update_awareness(self, state: dict[str, Any] | None) -> None:
        """The presence state of this agent (``None``: gone); subscribers get it as an
        ``awareness-update`` event."""
        self.awareness = state
        self.dispatch(proto.AwarenessUpdateEvent(state=state))

    def dispatch(self, event: Any) -> None:
        """Deliver one event from the agent (on the host's event loop)."""
        if isinstance(event, proto.StateChangeEvent):
            self.state = event.state
            self._status_changed.set()
            self._status_changed = asyncio.Event()
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception:
                log.exception("solidtype agent: an event handler failed on %s", event.type)

    def fail(self, message: str, code: str) -> None:
        """The runtime lost its agent: ``error`` state and a fatal error event."""
        if self.state.status in ("error", "terminated"):
            return
        self.dispatch(proto.StateChangeEvent(state=proto.AgentState(status="error", error=message)))
        self.dispatch(proto.ErrorEvent(message=message, fatal=True, code=code))

    async def wait_status(self, *statuses: str) -> None:
        """Until the agent reports one of ``statuses``."""
        while self.state.status not in statuses:
            changed = self._status_changed
            await changed.wait()

    async def wait_ready(self, limit: float, *, configured: float | None = None) -> None:
        """Until ``ready`` (or ``busy``); ``AgentInitError`` on error or after ``limit`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            status = self.state.status
            if status in ("ready", "busy"):
                return
            if status in ("error", "terminated"):
                raise AgentInitError(
                    f"the {self.kind} agent failed to start: {self.state.error or status}"
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AgentInitError(
                    f"the {self.kind} agent did not become ready within {configured or limit:g} s "
                    f"(last state: {status}"
                    + (f", {self.state.current_task}" if self.state.current_task else "")
                    + "); raise SolidTypeApp.agent_init_timeout if starting takes longer here"
                )
            waiter = self._status_changed
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except TimeoutError:
                continue
