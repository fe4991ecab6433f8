"""Chat session wire models: what the session routes accept and return.

The seed's ``ChatSessionSchema`` and ``ChatMessageSchema`` (zod) as pydantic models, plus the
request bodies of ``{base}solidtype/api/ai/sessions``. JSON is camelCase like the seed's; request
bodies reject unknown keys so a typo is an error instead of a silently ignored field.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

#: Title of a session nobody has named yet (the seed's column default).
DEFAULT_TITLE = "New Chat"
#: Longest title a client may set; auto-titles are far shorter (``AUTO_TITLE_LENGTH`` + "...").
TITLE_MAX_LENGTH = 200
#: The seed's rule: the first 50 characters of the first user message, "..." if cut.
AUTO_TITLE_LENGTH = 50
#: Listing limits: the seed's default page, and a cap so one request stays cheap.
DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 200

CHAT_STREAM_PREFIX = "ai-chat/"


class ChatContext(enum.StrEnum):
    DASHBOARD = "dashboard"
    EDITOR = "editor"


class ChatStatus(enum.StrEnum):
    ACTIVE = "active"  # currently in use
    ARCHIVED = "archived"  # closed by the user
    ERROR = "error"  # ended with an error


class MessageRole(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    SYSTEM = "system"


def chat_stream_path(session_id: uuid.UUID | str) -> str:
    """The durable stream that holds a session's messages (the seed's ``getChatStreamId``)."""
    return f"{CHAT_STREAM_PREFIX}{session_id}"


def auto_title(first_user_message: str) -> str:
    """A session title from its first user message: whitespace collapsed, then the first
    ``AUTO_TITLE_LENGTH`` characters, with "..." when the message was longer."""
    text = " ".join(first_user_message.split())
    if len(text) > AUTO_TITLE_LENGTH:
        return text[:AUTO_TITLE_LENGTH] + "..."
    return text or DEFAULT_TITLE


#: A character Python's ``str.strip`` keeps: what makes a stripped title non-empty, spelled
#: out because ``\s`` differs between Python, Rust (pydantic) and ECMA (the OpenAPI schema).
_NOT_STRIPPED = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

Title = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH, pattern=_NOT_STRIPPED
    ),
]

#: A contents path of a ``*.solid.json`` document that the catalogue and the file system
#: accept: no ``..`` segment, no control characters, names of at most ``NAME_MAX_LENGTH``
#: characters (file systems count 255 bytes: names of many multi-byte characters can still be
#: refused), the suffix on the last name; ``/`` or ``\`` separate.
NAME_MAX_LENGTH = 255
DOCUMENT_PATH_MAX_LENGTH = 1024
_SEGMENT_CHAR = r"[^/\\\x00-\x1f\x7f]"
_SEGMENT_START = r"[^./\\\x00-\x1f\x7f]"


def _name(length: int) -> str:
    """A name of at most ``length`` characters that does not start with a dot."""
    return rf"{_SEGMENT_START}{_SEGMENT_CHAR}{{0,{length - 1}}}"


_NOT_DOTDOT = (
    rf"(?:{_name(NAME_MAX_LENGTH)}|\.(?:{_name(NAME_MAX_LENGTH - 1)})?"
    rf"|\.\.{_SEGMENT_CHAR}{{1,{NAME_MAX_LENGTH - 2}}})?"
)
_SUFFIX = r"\.solid\.json"
_LAST = rf"{_SEGMENT_CHAR}{{0,{NAME_MAX_LENGTH - len('.solid.json')}}}{_SUFFIX}"
DOCUMENT_PATH_PATTERN = rf"^(?:{_NOT_DOTDOT}[/\\])*{_LAST}$"
_DOCUMENT_PATH = re.compile(DOCUMENT_PATH_PATTERN)


def check_document_path(path: str) -> None:
    """ValueError saying in words what makes ``path`` not a ``DOCUMENT_PATH_PATTERN`` path
    (the session body's ``documentPath`` and the picture route's ``path`` both come here)."""
    shown = repr(path if len(path) <= 80 else path[:77] + "...")
    if len(path) > DOCUMENT_PATH_MAX_LENGTH:
        raise ValueError(f"{shown}: a path has at most {DOCUMENT_PATH_MAX_LENGTH} characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        raise ValueError(f"{shown}: a path cannot contain control characters")
    names = [name for name in path.replace("\\", "/").split("/") if name not in ("", ".")]
    if not names or ".." in names:
        raise ValueError(f"{shown} is not a path inside the server's contents tree")
    if not names[-1].endswith(".solid.json"):
        raise ValueError(f"{shown}: a document is a .solid.json file")
    if any(len(name) > NAME_MAX_LENGTH for name in names):
        raise ValueError(f"a name in a path has at most {NAME_MAX_LENGTH} characters")
    if _DOCUMENT_PATH.fullmatch(path) is None:  # the published pattern, which must agree
        raise ValueError(f"{shown} is not a usable document path")


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class _Request(_Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ChatSessionSchema(_Wire):
    """A chat session's metadata; its messages live in the durable stream
    ``durableStreamId``."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)

    id: uuid.UUID
    user_id: str
    context: ChatContext
    document_id: uuid.UUID | None
    project_id: uuid.UUID | None
    status: ChatStatus
    title: str | None
    message_count: int
    last_message_at: AwareDatetime | None
    durable_stream_id: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ChatSessionList(_Wire):
    """``GET .../sessions``: the newest sessions first (by ``updatedAt``)."""

    sessions: list[ChatSessionSchema]


class ToolCall(_Wire):
    id: str
    name: str
    arguments: dict[str, Any]


class ToolResult(_Wire):
    tool_call_id: str
    result: Any


class ChatMessageSchema(_Wire):
    """One message of a conversation as stored in its durable stream, not in the database."""

    id: str
    role: MessageRole
    content: str
    tool_calls: list[ToolCall] | None = None
    tool_results: list[ToolResult] | None = None
    timestamp: datetime


class CreateChatSessionRequest(_Request):
    """``POST .../sessions``. The owner is the authenticated user, never a body field."""

    context: ChatContext
    document_id: uuid.UUID | None = None
    document_path: str | None = Field(
        None,
        min_length=1,
        max_length=DOCUMENT_PATH_MAX_LENGTH,
        # Published for clients and schema-driven tests; checked by ``check_document_path``,
        # which says in words what is wrong.
        json_schema_extra={"pattern": DOCUMENT_PATH_PATTERN},
        description="an editor session on this *.solid.json (contents path; catalogued on "
        "first use, created by the first change when missing) instead of document_id",
    )
    project_id: uuid.UUID | None = None
    title: Title | None = None

    @field_validator("document_path")
    @classmethod
    def _document_path(cls, path: str | None) -> str | None:
        if path is not None:
            check_document_path(path)
        return path

    @model_validator(mode="after")
    def _one_document(self) -> CreateChatSessionRequest:
        if self.document_path is not None:
            if self.document_id is not None:
                raise ValueError("give documentId or documentPath, not both")
            if self.context != ChatContext.EDITOR:
                raise ValueError("documentPath needs the editor context")
        return self


class UpdateChatSessionRequest(_Request):
    """``PATCH .../sessions/{id}``: rename, archive or re-activate. Counters are the chat
    route's business (``ChatSessionRepository.record_message``), not the client's."""

    title: Title | None = None
    status: ChatStatus | None = None


class ListChatSessionsQuery(_Request):
    """Query string of ``GET .../sessions``."""

    context: ChatContext | None = None
    limit: int = Field(default=DEFAULT_LIST_LIMIT, ge=1, le=MAX_LIST_LIMIT)


class ErrorResponse(BaseModel):
    """Every 4xx answer of the session routes."""

    message: str
    errors: list[dict[str, Any]] | None = None


__all__ = [
    "AUTO_TITLE_LENGTH",
    "CHAT_STREAM_PREFIX",
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_TITLE",
    "MAX_LIST_LIMIT",
    "TITLE_MAX_LENGTH",
    "ChatContext",
    "ChatMessageSchema",
    "ChatSessionList",
    "ChatSessionSchema",
    "ChatStatus",
    "CreateChatSessionRequest",
    "ErrorResponse",
    "ListChatSessionsQuery",
    "MessageRole",
    "ToolCall",
    "ToolResult",
    "UpdateChatSessionRequest",
    "auto_title",
    "chat_stream_path",
]
