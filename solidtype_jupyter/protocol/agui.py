"""AG-UI wire models as TanStack AI (``@tanstack/ai`` 0.58, ``@tanstack/ai-client`` 0.33) speaks
them: the events the chat route emits and the ``RunAgentInput`` body it accepts.

The JSON form is camelCase, compact and single-line (``event.to_json()``), with the field names and
shapes of the exchange captured in ``notes/ag-ui-chat-wire.md``. ``sse_frame`` renders one event as
an SSE frame (``id: <offset>`` + one ``data:`` line), the only framing the TanStack client parses.

Approvals are AG-UI interrupts: a run that needs the user's decision ends with ``RUN_FINISHED``
whose ``outcome`` is ``{"type": "interrupt", "interrupts": [...]}``; the next request answers them
in ``RunAgentInput.resume``. ``approval_interrupt`` builds the binding-less descriptor the real
client accepts; ``tanstack_interrupt_binding`` builds the native TanStack binding (schema hashes)
for clients that hold the same tool schema.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

from .api import MAX_SELECTION, ShapeReference

JsonObject = dict[str, Any]

#: ``$schema`` that zod 4 puts in a tool's JSON Schema; part of TanStack's input schema hash.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def now_ms() -> int:
    return int(time.time() * 1000)


class _Wire(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown keys are kept on input."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=False
    )


class _Event(_Wire):
    """Every event has ``type``, ``timestamp`` (ms since epoch) and an optional ``metadata``."""

    def to_wire(self) -> JsonObject:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_json(self) -> str:
        """Compact single-line JSON (newlines inside strings are escaped)."""
        return self.model_dump_json(by_alias=True, exclude_none=True)


class RunStarted(_Event):
    type: Literal["RUN_STARTED"] = "RUN_STARTED"
    run_id: str
    thread_id: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class Interrupt(_Wire):
    """One question the run asks before it can go on (here: approve a tool call)."""

    id: str
    reason: str
    message: str | None = None
    tool_call_id: str | None = None
    response_schema: JsonObject | None = None
    metadata: JsonObject | None = None


class InterruptOutcome(_Wire):
    type: Literal["interrupt"] = "interrupt"
    interrupts: list[Interrupt]


class RunFinished(_Event):
    type: Literal["RUN_FINISHED"] = "RUN_FINISHED"
    run_id: str
    thread_id: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None
    outcome: InterruptOutcome | None = None
    # The AG-UI spec array; kept for parsing. We report token usage in ``metadata``.
    usage: list[JsonObject] | None = None

    @property
    def finish_reason(self) -> str | None:
        tanstack = (self.metadata or {}).get("tanstack") or {}
        reason = tanstack.get("finishReason")
        return reason if isinstance(reason, str) else None


class RunError(_Event):
    type: Literal["RUN_ERROR"] = "RUN_ERROR"
    timestamp: int = Field(default_factory=now_ms)
    message: str
    code: str | None = None
    metadata: JsonObject | None = None


class TextMessageStart(_Event):
    type: Literal["TEXT_MESSAGE_START"] = "TEXT_MESSAGE_START"
    message_id: str
    role: Literal["assistant", "user", "system", "developer"] = "assistant"
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class TextMessageContent(_Event):
    type: Literal["TEXT_MESSAGE_CONTENT"] = "TEXT_MESSAGE_CONTENT"
    message_id: str
    delta: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class TextMessageEnd(_Event):
    type: Literal["TEXT_MESSAGE_END"] = "TEXT_MESSAGE_END"
    message_id: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class ToolCallStart(_Event):
    type: Literal["TOOL_CALL_START"] = "TOOL_CALL_START"
    tool_call_id: str
    tool_call_name: str
    parent_message_id: str | None = None
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class ToolCallArgs(_Event):
    type: Literal["TOOL_CALL_ARGS"] = "TOOL_CALL_ARGS"
    tool_call_id: str
    delta: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class ToolCallEnd(_Event):
    type: Literal["TOOL_CALL_END"] = "TOOL_CALL_END"
    tool_call_id: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class ToolCallResult(_Event):
    type: Literal["TOOL_CALL_RESULT"] = "TOOL_CALL_RESULT"
    timestamp: int = Field(default_factory=now_ms)
    message_id: str
    tool_call_id: str
    content: str  # JSON-encoded result: the client expects a string
    role: Literal["tool"] = "tool"
    metadata: JsonObject | None = None


class StepStarted(_Event):
    type: Literal["STEP_STARTED"] = "STEP_STARTED"
    step_name: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class StepFinished(_Event):
    type: Literal["STEP_FINISHED"] = "STEP_FINISHED"
    step_name: str
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


class MessagesSnapshot(_Event):
    type: Literal["MESSAGES_SNAPSHOT"] = "MESSAGES_SNAPSHOT"
    timestamp: int = Field(default_factory=now_ms)
    messages: list[Message]
    metadata: JsonObject | None = None


class StateSnapshot(_Event):
    type: Literal["STATE_SNAPSHOT"] = "STATE_SNAPSHOT"
    timestamp: int = Field(default_factory=now_ms)
    snapshot: Any
    metadata: JsonObject | None = None


class StateDelta(_Event):
    type: Literal["STATE_DELTA"] = "STATE_DELTA"
    timestamp: int = Field(default_factory=now_ms)
    delta: list[Any]
    metadata: JsonObject | None = None


class Custom(_Event):
    """Application events; TanStack passes ``name``/``value`` through to the UI."""

    type: Literal["CUSTOM"] = "CUSTOM"
    name: str
    value: Any = None
    timestamp: int = Field(default_factory=now_ms)
    metadata: JsonObject | None = None


#: CUSTOM names this project emits.
NOTICE_EVENT = "solidtype.notice"  # value: {kind, toolCallId?, toolName?, input?, message}
#: The agent's status while it works: {status, currentTask, progress?} (progress 0-100, only
#: when it is known: the tool calls of one step done so far).
STATUS_EVENT = "solidtype.status"


# --- messages (request bodies and MESSAGES_SNAPSHOT) ---------------------------------------------


class FunctionCall(_Wire):
    name: str
    arguments: str  # JSON text


class ToolCallRef(_Wire):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(_Wire):
    """An AG-UI message: user/assistant/system/developer text, or a ``tool`` result row."""

    id: str | None = None
    role: Literal["user", "assistant", "system", "developer", "tool"]
    content: str | None = None
    tool_calls: list[ToolCallRef] | None = None
    tool_call_id: str | None = None
    metadata: JsonObject | None = None

    def to_wire(self) -> JsonObject:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ToolDeclaration(_Wire):
    name: str
    description: str = ""
    parameters: JsonObject = Field(default_factory=dict)


class ResumeItem(_Wire):
    """The client's answer to one interrupt of the previous run."""

    interrupt_id: str
    payload: Any = None
    status: Literal["resolved", "cancelled"] = "resolved"


class ForwardedProps(_Wire):
    """``RunAgentInput.forwardedProps``: what the client adds to a turn. ``selection``: the
    faces and edges the user has picked in the 3D viewer (the tessellation route's
    references), which the run's ``get_current_selection`` returns. Other keys are kept."""

    selection: list[ShapeReference] | None = Field(default=None, max_length=MAX_SELECTION)


class RunAgentInput(_Wire):
    """The POST body of a chat turn (``threadId`` is the chat session id)."""

    thread_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    parent_run_id: str | None = None
    resume: list[ResumeItem] | None = None
    state: Any = Field(default_factory=dict)
    messages: list[Message] = Field(default_factory=list)
    tools: list[ToolDeclaration] = Field(default_factory=list)
    context: list[Any] = Field(default_factory=list)
    forwarded_props: ForwardedProps | None = Field(default_factory=ForwardedProps)

    def selection(self) -> list[JsonObject]:
        """The user's viewer selection as the run's tools read it (``ToolContext``)."""
        props = self.forwarded_props
        return [item.as_selection() for item in (props.selection or [])] if props else []


AguiEvent = Annotated[
    RunStarted
    | RunFinished
    | RunError
    | TextMessageStart
    | TextMessageContent
    | TextMessageEnd
    | ToolCallStart
    | ToolCallArgs
    | ToolCallEnd
    | ToolCallResult
    | StepStarted
    | StepFinished
    | MessagesSnapshot
    | StateSnapshot
    | StateDelta
    | Custom,
    Field(discriminator="type"),
]

_EVENT_ADAPTER: TypeAdapter[AguiEvent] = TypeAdapter(AguiEvent)


def parse_event(data: str | bytes | JsonObject) -> AguiEvent:
    """One event from its JSON text or decoded object; ``ValidationError`` if malformed."""
    if isinstance(data, dict):
        return _EVENT_ADAPTER.validate_python(data)
    return _EVENT_ADAPTER.validate_json(data)


def sse_frame(event: AguiEvent, offset: str | None = None) -> str:
    """``id: <offset>\\ndata: <single-line json>\\n\\n`` (no ``id`` line without an offset)."""
    data = event.to_json()
    if offset is None:
        return f"data: {data}\n\n"
    if "\n" in offset or "\r" in offset:
        raise ValueError("an SSE id must be a single line")
    return f"id: {offset}\ndata: {data}\n\n"


# --- approvals as interrupts ---------------------------------------------------------------------


def approval_interrupt_id(tool_call_id: str) -> str:
    return f"approval_{tool_call_id}"


def approval_response_schema(input_schema: JsonObject) -> JsonObject:
    """The ``oneOf`` envelope TanStack uses for an approval answer (approve with optional
    ``editedArgs``, or reject)."""
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {"approved": {"const": True}, "editedArgs": input_schema},
                "required": ["approved"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"approved": {"const": False}},
                "required": ["approved"],
                "additionalProperties": False,
            },
        ]
    }


def approval_interrupt(
    *,
    tool_call_id: str,
    tool_name: str,
    tool_input: Any,
    message: str | None = None,
    extra_metadata: JsonObject | None = None,
) -> Interrupt:
    """The binding-less approval descriptor (verified with ``@tanstack/ai-client`` 0.33.2: the
    UI answers it with ``addToolApprovalResponse`` or ``interrupt.resolveInterrupt``)."""
    metadata: JsonObject = {"kind": "approval", "toolName": tool_name, "input": tool_input}
    if extra_metadata:
        metadata.update(extra_metadata)
    return Interrupt(
        id=approval_interrupt_id(tool_call_id),
        reason="approval_required",
        message=message or f"Approval required to run {tool_name}",
        tool_call_id=tool_call_id,
        metadata=metadata,
    )


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: the form TanStack hashes (``interrupt-serialization.ts``)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def schema_hash(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def tanstack_interrupt_binding(
    *,
    tool_call_id: str,
    tool_name: str,
    original_args: Any,
    input_schema: JsonObject,
    interrupted_run_id: str,
    generation: int = 0,
) -> JsonObject:
    """``metadata["tanstack:interruptBinding"]`` of a native TanStack approval interrupt.

    The client recomputes the hashes from its own copy of the tool's schema, so this only
    binds when the client declares the same schema (zod 4 adds ``$schema``; we do too)."""
    dialect_schema = {"$schema": JSON_SCHEMA_DIALECT, **input_schema}
    return {
        "v": 1,
        "kind": "tool-approval",
        "interruptId": approval_interrupt_id(tool_call_id),
        "toolName": tool_name,
        "toolCallId": tool_call_id,
        "originalArgs": original_args,
        "inputSchemaHash": schema_hash(dialect_schema),
        "approvalSchemaHash": schema_hash({"approve": None, "reject": None}),
        "responseSchemaHash": schema_hash(approval_response_schema(dialect_schema)),
        "interruptedRunId": interrupted_run_id,
        "generation": generation,
    }


def native_approval_interrupt(
    *,
    tool_call_id: str,
    tool_name: str,
    tool_input: Any,
    input_schema: JsonObject,
    interrupted_run_id: str,
    extra_metadata: JsonObject | None = None,
) -> Interrupt:
    """An approval interrupt in TanStack's own shape (``reason: "tool_call"``, response schema,
    ``tanstack:interruptBinding``), which ``resolveInterrupts(true)`` also answers; it binds
    only when the client declares the tool with the same schema (see the note, section 8)."""
    metadata: JsonObject = {
        "kind": "approval",
        "toolName": tool_name,
        "input": tool_input,
        "tanstack:interruptBinding": tanstack_interrupt_binding(
            tool_call_id=tool_call_id,
            tool_name=tool_name,
            original_args=tool_input,
            input_schema=input_schema,
            interrupted_run_id=interrupted_run_id,
        ),
    }
    if extra_metadata:
        metadata.update(extra_metadata)
    return Interrupt(
        id=approval_interrupt_id(tool_call_id),
        reason="tool_call",
        message=f"Approval required to run {tool_name}",
        tool_call_id=tool_call_id,
        response_schema=approval_response_schema({"$schema": JSON_SCHEMA_DIALECT, **input_schema}),
        metadata=metadata,
    )


def tanstack_metadata(**fields: Any) -> JsonObject:
    """``{"tanstack": {...}}``, where TanStack keeps its extras (e.g. ``finishReason``)."""
    return {"tanstack": fields}


MessagesSnapshot.model_rebuild()

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "NOTICE_EVENT",
    "AguiEvent",
    "Custom",
    "FunctionCall",
    "Interrupt",
    "InterruptOutcome",
    "Message",
    "MessagesSnapshot",
    "ResumeItem",
    "RunAgentInput",
    "RunError",
    "RunFinished",
    "RunStarted",
    "StateDelta",
    "StateSnapshot",
    "StepFinished",
    "StepStarted",
    "TextMessageContent",
    "TextMessageEnd",
    "TextMessageStart",
    "ToolCallArgs",
    "ToolCallEnd",
    "ToolCallRef",
    "ToolCallResult",
    "ToolCallStart",
    "ToolDeclaration",
    "approval_interrupt",
    "approval_interrupt_id",
    "approval_response_schema",
    "canonical_json",
    "native_approval_interrupt",
    "now_ms",
    "parse_event",
    "schema_hash",
    "sse_frame",
    "tanstack_interrupt_binding",
    "tanstack_metadata",
]
