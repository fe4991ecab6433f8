"""Chat orchestration: turns, their stored events, resume, stop, and recovery after a restart.

Public API:

- ``ChatService``: ``start`` (a turn from an AG-UI ``RunAgentInput``), ``follow`` (stored
  events after an offset, live), ``hydrate`` (AG-UI messages) and ``client_hydrate``
  (TanStack's hydrate answer), ``cancel``, ``recover``, ``close``;
  ``ChatError`` (a refused request with its HTTP status), ``TurnStart``, ``parse_position``.
- The agent seam: ``ChatAgent`` (``run(AgentTurn)`` → AG-UI events), ``AgentTurn``,
  ``InProcessAgent`` (the ``llm`` loop in this process on the tool registry).
- The stream: ``LoggedEvent`` (one stored event and its offset), ``SessionLog``,
  ``StreamWriter``; ``ui_messages`` (the conversation in TanStack's ``UIMessage`` shape).
- Agent runtimes (protocol in ``protocol.agent``): ``AgentRuntime`` (the interface),
  ``ThreadRuntime``, ``KernelRuntime`` with ``KernelPool``, ``RemoteRuntime``;
  ``AgentRuntimes`` (one live agent per session, shared by its clients), ``AgentClient``,
  ``RuntimeChatAgent`` (chat turns through agents), ``AgentCore`` (the agent itself),
  ``AgentInitError``. ``kernel_side.register()`` runs inside an agent kernel.
"""

from .chat_service import ChatError, ChatService, TurnStart, parse_position
from .client import AgentClient, AgentRuntimes, RuntimeChatAgent
from .core import AgentCore
from .event_log import LoggedEvent, SessionLog, StreamWriter
from .in_process import AgentTurn, ChatAgent, InProcessAgent
from .kernel_runtime import KernelRuntime
from .pool import KernelPool
from .remote_runtime import RemoteRuntime
from .runtime import AgentInitError, AgentRuntime
from .thread_runtime import ThreadRuntime
from .ui_messages import ui_messages

__all__ = [
    "AgentClient",
    "AgentCore",
    "AgentInitError",
    "AgentRuntime",
    "AgentRuntimes",
    "AgentTurn",
    "ChatAgent",
    "ChatError",
    "ChatService",
    "InProcessAgent",
    "KernelPool",
    "KernelRuntime",
    "LoggedEvent",
    "RemoteRuntime",
    "RuntimeChatAgent",
    "SessionLog",
    "StreamWriter",
    "ThreadRuntime",
    "TurnStart",
    "parse_position",
    "ui_messages",
]
