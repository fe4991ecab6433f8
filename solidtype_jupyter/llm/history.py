"""AG-UI messages (request bodies, snapshots) ↔ the loop's conversation.

System and developer messages from a client are dropped: the server builds the system prompt.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..protocol import agui
from .types import AssistantMessage, ChatMessage, ToolCall, ToolResultMessage, UserMessage


def history_from_agui(messages: Sequence[agui.Message]) -> list[ChatMessage]:
    out: list[ChatMessage] = []
    for message in messages:
        if message.role == "user":
            out.append(UserMessage(message.content or ""))
        elif message.role == "assistant":
            calls = tuple(
                ToolCall(ref.id, ref.function.name, ref.function.arguments)
                for ref in message.tool_calls or ()
            )
            if message.content or calls:
                out.append(AssistantMessage(message.content or "", calls))
        elif message.role == "tool" and message.tool_call_id:
            out.append(ToolResultMessage(message.tool_call_id, message.content or ""))
    return out


def history_to_agui(messages: Sequence[ChatMessage], id_prefix: str = "m") -> list[agui.Message]:
    """For ``MESSAGES_SNAPSHOT``; ids are positional (``<prefix>-<n>``) unless the caller has
    better ones."""
    out: list[agui.Message] = []
    for n, message in enumerate(messages):
        if isinstance(message, UserMessage):
            out.append(agui.Message(id=f"{id_prefix}-{n}", role="user", content=message.content))
        elif isinstance(message, AssistantMessage):
            refs = [
                agui.ToolCallRef(
                    id=c.id, function=agui.FunctionCall(name=c.name, arguments=c.arguments)
                )
                for c in message.tool_calls
            ]
            out.append(
                agui.Message(
                    id=f"{id_prefix}-{n}",
                    role="assistant",
                    content=message.text or None,
                    tool_calls=refs or None,
                )
            )
        else:
            out.append(
                agui.Message(
                    id=f"{id_prefix}-{n}",
                    role="tool",
                    content=message.content,
                    tool_call_id=message.tool_call_id,
                )
            )
    return out
