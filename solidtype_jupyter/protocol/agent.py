"""The agent runtime protocol: commands to an agent, events from it, and their wire form.

The same messages travel over every runtime (a worker thread, a Jupyter kernel comm, a
WebSocket). The wire form of a message is ``(header, buffers)``: ``header`` is a JSON object
(camelCase keys, ``type`` discriminates) and every ``bytes`` field (Yjs updates) is moved out
of it into ``buffers`` as raw bytes, leaving ``{"$buffer": n}`` in its place. Jupyter comm
messages carry such buffers natively. ``to_json`` / ``from_json`` give a single JSON text for
transports without binary frames (bytes then travel as ``{"$base64": ...}``).

``decode_command`` / ``decode_event`` raise ``ProtocolError`` (a message that says what is
wrong) for anything malformed; a runtime answers that with an ``ErrorEvent`` and keeps going.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from .agui import JsonObject
from .api import MAX_SELECTION

AgentStatus = Literal["initializing", "ready", "busy", "error", "terminated"]
RuntimeKind = Literal["thread", "kernel", "remote"]

#: Purple-family colours (Material purple / deep purple shades) for agents' cursors and avatars.
AGENT_COLORS: tuple[str, ...] = (
    "#7b1fa2",
    "#8e24aa",
    "#9c27b0",
    "#ab47bc",
    "#6a1b9a",
    "#5e35b1",
    "#673ab7",
    "#7e57c2",
)

_AGENT_NAMES: tuple[str, ...] = (
    "Amethyst",
    "Lilac",
    "Violet",
    "Orchid",
    "Iris",
    "Mauve",
    "Plum",
    "Lavender",
    "Heather",
    "Wisteria",
)


class ProtocolError(ValueError):
    """A message that is not a valid command or event; ``str(exc)`` says why."""


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class AgentIdentity(_Wire):
    """Who an agent is to collaborators: stable per chat session (same name and colour
    after a respawn), with a fresh ``id`` per spawned instance."""

    id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)  # the synthetic username in awareness
    session_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    initials: str = Field(min_length=1, max_length=3)
    color: str = Field(pattern=r"^#[0-9a-f]{6}$")
    runtime: RuntimeKind

    @classmethod
    def for_session(cls, session_id: str, instance_id: str, runtime: RuntimeKind) -> AgentIdentity:
        digest = hashlib.sha256(session_id.encode("utf-8")).digest()
        word = _AGENT_NAMES[digest[0] % len(_AGENT_NAMES)]
        suffix = digest[1:3].hex()
        return cls(
            id=instance_id,
            user_id=f"agent-{session_id}",
            session_id=session_id,
            name=f"{word} agent {suffix}",
            initials=f"{word[0]}A",
            color=AGENT_COLORS[digest[3] % len(AGENT_COLORS)],
            runtime=runtime,
        )


class AgentState(_Wire):
    status: AgentStatus = "initializing"
    current_task: str | None = None
    progress: int | None = Field(default=None, ge=0, le=100)
    error: str | None = None


class AgentConfig(_Wire):
    """What an agent needs to start. ``model`` is the ``provider:name`` setting (the agent
    reads the provider's keys from its own environment); ``tool_modules`` are modules the
    agent imports whose ``register(registry)`` adds tools (extensions, tests);
    ``approval_overrides`` is the server's ``approval_overrides`` setting; ``tool_timeout``
    the seconds one tool call may take (0: no limit; ``None``: the loop's default).

    The fields in ``SERVER_SETTINGS`` are decided by the server that runs the agent, never
    by a client of its WebSocket (``server.agent_socket`` refuses an ``init`` that sets
    them): a module to import or a model file is code and data of that server's choosing."""

    identity: AgentIdentity
    session_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    context: Literal["editor", "dashboard"] = "editor"
    model: str = ""
    root_dir: str | None = None
    document_id: str | None = None
    tool_modules: list[str] = Field(default_factory=list)
    approval_overrides: dict[str, Literal["auto", "notify", "confirm"]] = Field(
        default_factory=dict,
        description="tool name -> approval level, winning over the tool's own level",
    )
    tool_timeout: float | None = Field(default=None, ge=0)


#: ``AgentConfig`` fields only the server running the agent sets (see ``AgentConfig``).
SERVER_SETTINGS: tuple[str, ...] = (
    "model",
    "root_dir",
    "document_id",
    "tool_modules",
    "approval_overrides",
    "tool_timeout",
)


def _server_defaults() -> dict[str, Any]:
    fields = AgentConfig.model_fields
    return {name: fields[name].get_default(call_default_factory=True) for name in SERVER_SETTINGS}


def client_set_settings(config: AgentConfig) -> list[str]:
    """The ``SERVER_SETTINGS`` that ``config`` sets to something other than their default."""
    return [name for name, value in _server_defaults().items() if getattr(config, name) != value]


def without_server_settings(config: AgentConfig) -> AgentConfig:
    """``config`` with every ``SERVER_SETTINGS`` field at its default (what a client sends)."""
    return config.model_copy(update=_server_defaults())


# --- commands ---------------------------------------------------------------------------------


class WireDecision(_Wire):
    """An approval answer (``llm.ApprovalDecision``) on the wire."""

    interrupt_id: str
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]
    message_id: str
    approved: bool
    edited_args: dict[str, Any] | None = None


class WireStoredResult(_Wire):
    """A tool result already stored for a run being finished after a restart."""

    name: str
    arguments: dict[str, Any]
    content: str
    is_error: bool


class InitCommand(_Wire):
    type: Literal["init"] = "init"
    config: AgentConfig


class ChatCommand(_Wire):
    """Run one chat turn; its AG-UI events come back as ``chat-response`` events."""

    type: Literal["chat"] = "chat"
    run_id: str = Field(min_length=1)
    thread_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    history: list[JsonObject] = Field(default_factory=list)  # AG-UI messages
    decisions: list[WireDecision] = Field(default_factory=list)
    stored_results: list[WireStoredResult] = Field(default_factory=list)
    tool_rounds: int = Field(default=0, ge=0)
    # The user's viewer selection (``api.ShapeReference.as_selection`` items), checked when
    # the chat request arrived: what ``get_current_selection`` returns during this turn.
    selection: list[JsonObject] = Field(default_factory=list, max_length=MAX_SELECTION)


class CancelCommand(_Wire):
    """Stop the running turn ``run_id`` at its next boundary."""

    type: Literal["cancel"] = "cancel"
    run_id: str = Field(min_length=1)


class ExecuteToolCommand(_Wire):
    type: Literal["execute-tool"] = "execute-tool"
    id: str = Field(min_length=1)
    tool_name: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)


class SyncDocumentCommand(_Wire):
    """Yjs updates for the agent's replica of the document; ``reset`` replaces the replica
    (a full state from the document's owner) instead of merging into it."""

    type: Literal["sync-document"] = "sync-document"
    updates: bytes
    reset: bool = False


class TerminateCommand(_Wire):
    type: Literal["terminate"] = "terminate"


AgentCommand = Annotated[
    InitCommand
    | ChatCommand
    | CancelCommand
    | ExecuteToolCommand
    | SyncDocumentCommand
    | TerminateCommand,
    Field(discriminator="type"),
]

# --- events -----------------------------------------------------------------------------------


class StateChangeEvent(_Wire):
    type: Literal["state-change"] = "state-change"
    state: AgentState


class ChatResponseEvent(_Wire):
    """One AG-UI event of run ``run_id`` (``done`` on its RUN_FINISHED / RUN_ERROR)."""

    type: Literal["chat-response"] = "chat-response"
    run_id: str
    event: JsonObject
    done: bool = False


class ToolCallEvent(_Wire):
    type: Literal["tool-call"] = "tool-call"
    id: str
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ToolResultEvent(_Wire):
    type: Literal["tool-result"] = "tool-result"
    id: str
    result: Any = None
    error: str | None = None


class DocumentUpdateEvent(_Wire):
    """Yjs updates the agent made to its replica; ``revision`` is the replica's after them."""

    type: Literal["document-update"] = "document-update"
    updates: bytes
    revision: str = ""


class AwarenessUpdateEvent(_Wire):
    """The agent's presence state (``None``: it left)."""

    type: Literal["awareness-update"] = "awareness-update"
    state: JsonObject | None = None


#: ``ErrorEvent.code`` of an agent whose run stopped a tool that may still be running (CAD
#: work in a thread cannot be interrupted): its host replaces it once the run has ended.
TOOL_ABANDONED = "tool_abandoned"


class ErrorEvent(_Wire):
    type: Literal["error"] = "error"
    message: str
    fatal: bool = False
    code: str = "error"


AgentEvent = Annotated[
    StateChangeEvent
    | ChatResponseEvent
    | ToolCallEvent
    | ToolResultEvent
    | DocumentUpdateEvent
    | AwarenessUpdateEvent
    | ErrorEvent,
    Field(discriminator="type"),
]

_COMMANDS: TypeAdapter[AgentCommand] = TypeAdapter(AgentCommand)
_EVENTS: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)

Buffers = list[bytes]


# --- wire form --------------------------------------------------------------------------------


def encode(message: BaseModel) -> tuple[JsonObject, Buffers]:
    """``(header, buffers)``: the JSON header with each bytes field replaced by
    ``{"$buffer": n}`` and the raw bytes in ``buffers[n]``."""
    header: JsonObject = {}
    buffers: Buffers = []
    dumped = message.model_dump(mode="python", by_alias=True, exclude_none=True)
    for key, value in dumped.items():
        if isinstance(value, bytes | bytearray | memoryview):
            header[key] = {"$buffer": len(buffers)}
            buffers.append(bytes(value))
        else:
            header[key] = _jsonable(value)
    return header, buffers


def _jsonable(value: Any) -> Any:
    # model_dump(mode="python") keeps nested models as plain data already; only make sure
    # that it is JSON (fails loudly on anything else).
    return json.loads(json.dumps(value))


def _restore(header: Any, buffers: Sequence[bytes | memoryview]) -> JsonObject:
    if not isinstance(header, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(header).__name__}")
    out: JsonObject = {}
    for key, value in header.items():
        if isinstance(value, dict) and set(value) == {"$buffer"}:
            index = value["$buffer"]
            if not isinstance(index, int) or not 0 <= index < len(buffers):
                raise ProtocolError(
                    f"field {key!r} refers to buffer {index!r} but the message has "
                    f"{len(buffers)} buffer(s)"
                )
            out[key] = bytes(buffers[index])
        elif isinstance(value, dict) and set(value) == {"$base64"}:
            try:
                out[key] = base64.b64decode(str(value["$base64"]), validate=True)
            except ValueError as exc:
                raise ProtocolError(f"field {key!r}: invalid base64 ({exc})") from None
        else:
            out[key] = value
    return out


def _reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "message"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def decode_command(header: Any, buffers: Sequence[bytes | memoryview] = ()) -> AgentCommand:
    data = _restore(header, buffers)
    try:
        return _COMMANDS.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"invalid agent command: {_reason(exc)}") from None


def decode_event(header: Any, buffers: Sequence[bytes | memoryview] = ()) -> AgentEvent:
    data = _restore(header, buffers)
    try:
        return _EVENTS.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"invalid agent event: {_reason(exc)}") from None


def pack_frame(header: JsonObject, buffers: Sequence[bytes]) -> bytes:
    """One binary WebSocket frame: ``u32 n``, ``n`` bytes of header JSON, then for each
    buffer ``u32 length`` and its bytes (big-endian lengths)."""
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    parts = [len(text).to_bytes(4, "big"), text]
    for buffer in buffers:
        parts += [len(buffer).to_bytes(4, "big"), bytes(buffer)]
    return b"".join(parts)


def unpack_frame(frame: bytes) -> tuple[Any, Buffers]:
    """``(header, buffers)`` of a ``pack_frame`` frame; ``ProtocolError`` if it is cut short."""
    view = memoryview(frame)
    if len(view) < 4:
        raise ProtocolError("a binary frame starts with a 4-byte header length")
    size = int.from_bytes(view[:4], "big")
    if 4 + size > len(view):
        raise ProtocolError("a binary frame is shorter than its header length")
    header = parse_json(bytes(view[4 : 4 + size]))
    buffers: Buffers = []
    at = 4 + size
    while at < len(view):
        if at + 4 > len(view):
            raise ProtocolError("a binary frame ends inside a buffer length")
        length = int.from_bytes(view[at : at + 4], "big")
        if at + 4 + length > len(view):
            raise ProtocolError("a binary frame is shorter than its buffer length")
        buffers.append(bytes(view[at + 4 : at + 4 + length]))
        at += 4 + length
    return header, buffers


def to_json(message: BaseModel) -> str:
    """One JSON text (bytes as ``{"$base64": ...}``), for text-only transports."""
    header, buffers = encode(message)
    for key, value in list(header.items()):
        if isinstance(value, dict) and set(value) == {"$buffer"}:
            header[key] = {"$base64": base64.b64encode(buffers[value["$buffer"]]).decode("ascii")}
    return json.dumps(header, separators=(",", ":"))


def parse_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
