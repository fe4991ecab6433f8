"""Rebuilding a conversation from its stored AG-UI events (the seed's ``loadChatHistory``).

``Transcript`` folds events, in stream order, into AG-UI messages (what ``hydrate`` answers and
``MESSAGES_SNAPSHOT`` carries), the loop's ``ChatMessage`` history (what the model is sent
next), the approvals still waiting, and whether a run is still open.

User messages are part of the stream as ``TEXT_MESSAGE_START`` (``role: "user"``) /
``TEXT_MESSAGE_CONTENT`` / ``TEXT_MESSAGE_END``; assistant text, tool calls and tool results
are the loop's own events. A ``MESSAGES_SNAPSHOT`` replaces everything before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..protocol import agui
from .loop import PendingApproval, pending_approvals
from .types import AssistantMessage, ChatMessage, ToolCall, ToolResultMessage, UserMessage


@dataclass
class _Call:
    id: str
    name: str
    args: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    id: str
    role: str
    text: list[str] = field(default_factory=list)  # pieces, joined when read
    calls: list[_Call] = field(default_factory=list)
    tool_call_id: str | None = None
    is_error: bool = False


class Transcript:
    def __init__(self, events: Iterable[agui.AguiEvent] = ()) -> None:
        self._entries: list[_Entry] = []
        self._by_id: dict[str, _Entry] = {}
        self._calls: dict[str, _Call] = {}
        self.pending: list[PendingApproval] = []
        self.active_run_id: str | None = None
        self.last_run_id: str | None = None
        for event in events:
            self.apply(event)

    def apply(self, event: agui.AguiEvent) -> None:
        if isinstance(event, agui.TextMessageContent):  # the hot path first
            entry = self._by_id.get(event.message_id) or self._entry(event.message_id, "assistant")
            entry.text.append(event.delta)
        elif isinstance(event, agui.TextMessageStart):
            self._entry(event.message_id, event.role)
        elif isinstance(event, agui.ToolCallArgs):
            call = self._calls.get(event.tool_call_id)
            if call is not None:
                call.args.append(event.delta)
        elif isinstance(event, agui.ToolCallStart):
            parent = event.parent_message_id or f"assistant-{event.tool_call_id}"
            entry = self._by_id.get(parent) or self._entry(parent, "assistant")
            call = _Call(event.tool_call_id, event.tool_call_name)
            entry.calls.append(call)
            self._calls[call.id] = call
        elif isinstance(event, agui.ToolCallResult):
            is_error = bool(((event.metadata or {}).get("solidtype") or {}).get("isError"))
            entry = _Entry(
                f"tool-{event.tool_call_id}",
                "tool",
                [event.content],
                [],
                event.tool_call_id,
                is_error,
            )
            self._entries.append(entry)
            self.pending = [p for p in self.pending if p.tool_call_id != event.tool_call_id]
        elif isinstance(event, agui.RunStarted):
            self.active_run_id = event.run_id
            self.last_run_id = event.run_id
        elif isinstance(event, agui.RunFinished):
            self.active_run_id = None
            self.pending = pending_approvals(event)
        elif isinstance(event, agui.RunError):
            self.active_run_id = None
        elif isinstance(event, agui.MessagesSnapshot):
            self._entries, self._by_id, self._calls = [], {}, {}
            for message in event.messages:
                self._load(message)

    def _entry(self, message_id: str, role: str) -> _Entry:
        entry = self._by_id.get(message_id)
        if entry is None:
            entry = _Entry(message_id, role)
            self._entries.append(entry)
            self._by_id[message_id] = entry
        return entry

    def _load(self, message: agui.Message) -> None:
        if message.role == "tool":
            self._entries.append(
                _Entry(
                    message.id or f"tool-{message.tool_call_id}",
                    "tool",
                    [message.content or ""],
                    [],
                    message.tool_call_id,
                )
            )
            return
        entry = self._entry(message.id or f"m-{len(self._entries)}", message.role)
        if message.content:
            entry.text.append(message.content)
        for ref in message.tool_calls or ():
            call = _Call(ref.id, ref.function.name, [ref.function.arguments])
            entry.calls.append(call)
            self._calls[call.id] = call

    @property
    def messages(self) -> list[agui.Message]:
        """The conversation as AG-UI wire messages."""
        out: list[agui.Message] = []
        for e in self._entries:
            if e.role == "tool":
                out.append(
                    agui.Message(
                        id=e.id, role="tool", content="".join(e.text), tool_call_id=e.tool_call_id
                    )
                )
                continue
            refs = [
                agui.ToolCallRef(
                    id=c.id,
                    function=agui.FunctionCall(name=c.name, arguments="".join(c.args) or "{}"),
                )
                for c in e.calls
            ]
            out.append(
                agui.Message(
                    id=e.id,
                    role=e.role,  # type: ignore[arg-type]
                    content="".join(e.text) or None,
                    tool_calls=refs or None,
                )
            )
        return out

    def chat_history(self) -> list[ChatMessage]:
        """What the model is sent next. Consecutive assistant messages of one turn (text
        after a tool call) are merged so every tool call is answered right after it."""
        out: list[ChatMessage] = []
        for e in self._entries:
            if e.role == "tool" and e.tool_call_id is not None:
                out.append(ToolResultMessage(e.tool_call_id, "".join(e.text), e.is_error))
            elif e.role == "user":
                out.append(UserMessage("".join(e.text)))
            elif e.role == "assistant":
                text = "".join(e.text)
                calls = tuple(ToolCall(c.id, c.name, "".join(c.args) or "{}") for c in e.calls)
                if not text and not calls:
                    continue
                last = out[-1] if out else None
                if isinstance(last, AssistantMessage):
                    out[-1] = AssistantMessage(last.text + text, last.tool_calls + calls)
                else:
                    out.append(AssistantMessage(text, calls))
        return out


def user_message_events(message_id: str, content: str) -> list[agui.AguiEvent]:
    """How a user's message is recorded in the stream (so ``Transcript`` can rebuild it)."""
    return [
        agui.TextMessageStart(message_id=message_id, role="user"),
        agui.TextMessageContent(message_id=message_id, delta=content),
        agui.TextMessageEnd(message_id=message_id),
    ]
