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
"""

from .chat_service import ChatError, ChatService, TurnStart, parse_position
from .event_log import LoggedEvent, SessionLog, StreamWriter
from .in_process import AgentTurn, ChatAgent, InProcessAgent
from .ui_messages import ui_messages

__all__ = [
    "AgentTurn",
    "ChatAgent",
    "ChatError",
    "ChatService",
    "InProcessAgent",
    "LoggedEvent",
    "SessionLog",
    "StreamWriter",
    "TurnStart",
    "parse_position",
    "ui_messages",
]
