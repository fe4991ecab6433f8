"""Provider-neutral conversation, request and streaming-event types shared by every adapter.

A ``ModelAdapter`` turns a ``ModelRequest`` into a stream of ``ModelEvent``s:

- ``TextDelta``: a piece of assistant text;
- ``ToolCallStarted`` / ``ToolCallArgsDelta`` / ``ToolCallEnded``: one tool call, its JSON
  arguments in fragments (concatenated they are the full JSON text);
- ``ModelStopped``: always last; why the turn ended (``StopReason``) and token usage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# ``stop``: the model finished; ``tool_calls``: it wants tools run; ``length``: max tokens;
# ``content_filter``: refused by the provider; ``other``: anything else (raw reason kept).
StopReason = Literal["stop", "tool_calls", "length", "content_filter", "other"]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # the JSON text exactly as the model produced it


@dataclass(frozen=True)
class UserMessage:
    content: str
    role: Literal["user"] = "user"


@dataclass(frozen=True)
class AssistantMessage:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    role: Literal["assistant"] = "assistant"


@dataclass(frozen=True)
class ImageData:
    media_type: str  # image/png
    data_base64: str


@dataclass(frozen=True)
class ToolResultMessage:
    tool_call_id: str
    content: str  # JSON text of the result (or of the error)
    is_error: bool = False
    images: tuple[ImageData, ...] = ()  # views a tool rendered for the model to look at
    role: Literal["tool"] = "tool"


ChatMessage = UserMessage | AssistantMessage | ToolResultMessage


@dataclass(frozen=True)
class ToolSpec:
    """What the model is told about a tool."""

    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments object


@dataclass(frozen=True)
class ModelRequest:
    system: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int = 4096
    temperature: float | None = None


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallStarted:
    id: str
    name: str


@dataclass(frozen=True)
class ToolCallArgsDelta:
    id: str
    delta: str


@dataclass(frozen=True)
class ToolCallEnded:
    id: str


@dataclass(frozen=True)
class ModelStopped:
    reason: StopReason
    usage: Usage = field(default_factory=Usage)
    raw_reason: str | None = None


ModelEvent = TextDelta | ToolCallStarted | ToolCallArgsDelta | ToolCallEnded | ModelStopped


class ModelAdapter(Protocol):
    """One streaming model turn per call. Implementations raise ``ModelError`` on failure."""

    @property
    def label(self) -> str:
        """``provider:model`` as the user configured it (for logs and messages)."""
        ...

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]: ...


class ModelError(Exception):
    """A model call failed after retries. ``code`` is a short machine-readable reason
    (``rate_limited``, ``overloaded``, ``connection``, ``auth``, ``bad_request``, ``provider``)."""

    def __init__(self, message: str, code: str = "provider", *, retryable: bool = False):
        from .redact import redact  # providers echo keys in errors (issue 19, finding 11)

        super().__init__(redact(message))
        self.code = code
        self.retryable = retryable
