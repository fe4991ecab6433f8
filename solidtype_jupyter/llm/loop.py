"""The agentic loop: model output and tool execution as one stream of AG-UI events.

One run (one POST of the chat) goes:

1. on a resume, the answered approvals first: approved calls run (with the user's edited
   arguments if any), rejected ones get a "rejected" result; each emits ``TOOL_CALL_RESULT``
   (before ``RUN_STARTED``, as TanStack's own server does);
2. ``RUN_STARTED``; then model turns: text → ``TEXT_MESSAGE_*``, tool calls → ``TOOL_CALL_*``;
3. after a turn that asks for tools, each call is checked against its JSON Schema and gated by
   its approval level: ``auto`` runs; ``notify`` runs and adds a notice (CUSTOM
   ``solidtype.notice``); ``confirm`` waits. Results go back to the model and the loop goes on;
4. the run ends with ``RUN_FINISHED`` when the model stops, when ``max_tool_iterations`` rounds
   of tools have run, when it is cancelled (partial text kept), or when calls wait for approval
   (``outcome.type == "interrupt"``, one interrupt per call); a model failure ends it with
   ``RUN_ERROR``.

Every tool call has a time budget (``LoopConfig.tool_timeout``): a call that outlasts it
ends with a tool error the model reads. A call stopped that way or by a cancel may still be
running in a worker thread (CAD work cannot be interrupted from Python): its name goes to
``AgentRun.abandoned_tools``, later calls of the run are not run, and the host should
replace the agent once the run ends (``agent.core`` does).

``AgentRun.messages`` is the whole conversation after the run (history + what the run added),
``AgentRun.pending`` the approvals it waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..protocol import agui
from .redact import redact
from .tool_executor import (
    ApprovalPolicy,
    ToolBox,
    ToolExecutor,
    error_text,
    validate_approval_overrides,
)
from .types import (
    AssistantMessage,
    ChatMessage,
    ImageData,
    ModelAdapter,
    ModelError,
    ModelEvent,
    ModelRequest,
    ModelStopped,
    TextDelta,
    ToolCall,
    ToolCallArgsDelta,
    ToolCallEnded,
    ToolCallStarted,
    ToolResultMessage,
    Usage,
)

log = logging.getLogger(__name__)

# TanStack's finishReason values; our finer reason goes in metadata.solidtype.reason.
_TANSTACK_FINISH = {
    "stop": "stop",
    "tool_calls": "tool_calls",
    "length": "length",
    "content_filter": "content_filter",
}


#: Seconds one tool call may take unless configured otherwise (``SolidTypeApp.tool_timeout``).
DEFAULT_TOOL_TIMEOUT = 120.0


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class CancelToken:
    """Set by a stop request; the loop stops at the next model event or tool boundary.

    Call ``cancel()`` on the event loop the run iterates on (from another thread:
    ``loop.call_soon_threadsafe(token.cancel)``)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._wakers: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        if self._event.is_set():
            return
        self._event.set()
        for wake in list(self._wakers):
            wake()

    async def wait(self) -> None:
        await self._event.wait()

    def _on_cancel(self, wake: Callable[[], None]) -> Callable[[], None]:
        self._wakers.append(wake)
        return lambda: self._wakers.remove(wake)


@dataclass(frozen=True)
class LoopConfig:
    max_tool_iterations: int = 20
    max_tokens: int = 4096
    temperature: float | None = None
    approval_overrides: Mapping[str, str] = field(default_factory=dict)
    # "descriptor": the binding-less approval interrupt (the UI answers with
    # addToolApprovalResponse / interrupt.resolveInterrupt); "native": TanStack's own shape
    # with schema hashes, for clients that declare the same tool schemas.
    interrupt_style: Literal["descriptor", "native"] = "descriptor"
    # Seconds one tool call may take; None: no limit.
    tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT

    def __post_init__(self) -> None:
        if self.tool_timeout is not None and not self.tool_timeout > 0:
            raise ValueError("tool_timeout must be a positive number of seconds (or None)")
        if self.interrupt_style not in ("descriptor", "native"):
            raise ValueError("interrupt_style must be 'descriptor' or 'native'")
        if self.max_tool_iterations < 1:
            raise ValueError("max_tool_iterations must be at least 1")
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        validate_approval_overrides(self.approval_overrides)


@dataclass(frozen=True)
class PendingApproval:
    """A tool call waiting for the user, as recorded in the interrupt of ``RUN_FINISHED``."""

    interrupt_id: str
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]
    message_id: str


class ApprovalPayload(BaseModel):
    """``{"approved": true, "editedArgs": {...}?}`` or ``{"approved": false}``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    approved: bool
    editedArgs: dict[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ApprovalDecision:
    pending: PendingApproval
    approved: bool
    edited_args: dict[str, Any] | None = None


class ResumeError(ValueError):
    """The ``resume`` of a request does not answer the pending approvals (→ HTTP 422)."""


def pending_approvals(event: agui.RunFinished) -> list[PendingApproval]:
    """The approvals an interrupting ``RUN_FINISHED`` (one the loop emitted) waits for."""
    if event.outcome is None:
        return []
    pending: list[PendingApproval] = []
    for interrupt in event.outcome.interrupts:
        meta = interrupt.metadata or {}
        if meta.get("kind") != "approval" or interrupt.tool_call_id is None:
            continue
        arguments = meta.get("input")
        pending.append(
            PendingApproval(
                interrupt_id=interrupt.id,
                tool_call_id=interrupt.tool_call_id,
                tool_name=str(meta.get("toolName", "")),
                arguments=arguments if isinstance(arguments, dict) else {},
                message_id=str(meta.get("messageId", "")),
            )
        )
    return pending


def decide_approvals(
    pending: Sequence[PendingApproval], answers: Sequence[agui.ResumeItem]
) -> list[ApprovalDecision]:
    """Match the client's answers to the pending approvals; every one must be answered once.

    A ``cancelled`` answer counts as a rejection."""
    by_id = {p.interrupt_id: p for p in pending}
    unknown = [a.interrupt_id for a in answers if a.interrupt_id not in by_id]
    if unknown:
        raise ResumeError(f"resume answers unknown interrupts: {', '.join(unknown)}")
    seen: dict[str, agui.ResumeItem] = {}
    for answer in answers:
        if answer.interrupt_id in seen:
            raise ResumeError(f"interrupt {answer.interrupt_id} answered twice")
        seen[answer.interrupt_id] = answer
    missing = [p.interrupt_id for p in pending if p.interrupt_id not in seen]
    if missing:
        raise ResumeError(f"resume leaves interrupts unanswered: {', '.join(missing)}")
    decisions: list[ApprovalDecision] = []
    for item in pending:
        answer = seen[item.interrupt_id]
        if answer.status == "cancelled":
            decisions.append(ApprovalDecision(item, approved=False))
            continue
        try:
            payload = ApprovalPayload.model_validate(answer.payload)
        except ValidationError as exc:
            raise ResumeError(
                f"answer to {item.interrupt_id} must be {{approved: bool, editedArgs?: object}}: "
                f"{exc.errors(include_url=False)}"
            ) from exc
        edited = payload.editedArgs if payload.approved else None
        decisions.append(ApprovalDecision(item, payload.approved, edited))
    return decisions


class AgentLoop:
    """Binds a model, the tools and the prompt; ``run()`` starts one run."""

    def __init__(
        self,
        adapter: ModelAdapter,
        executor: ToolExecutor,
        *,
        system_prompt: str | Callable[[], str],
        config: LoopConfig | None = None,
        tool_context: Any = None,
    ) -> None:
        self.adapter = adapter
        self.tools = ToolBox(executor)
        self.config = config or LoopConfig()
        self.policy = ApprovalPolicy(self.config.approval_overrides)
        self._system_prompt = system_prompt
        self.tool_context = tool_context

    def system_prompt(self) -> str:
        prompt = self._system_prompt
        return prompt if isinstance(prompt, str) else prompt()

    def run(
        self,
        *,
        thread_id: str,
        run_id: str,
        history: Sequence[ChatMessage],
        cancel: CancelToken | None = None,
        decisions: Sequence[ApprovalDecision] = (),
    ) -> AgentRun:
        return AgentRun(
            self, thread_id, run_id, list(history), cancel or CancelToken(), list(decisions)
        )


class AgentRun:
    """One run; iterate it for the AG-UI events. State is readable after (and during) it."""

    def __init__(
        self,
        loop: AgentLoop,
        thread_id: str,
        run_id: str,
        history: list[ChatMessage],
        cancel: CancelToken,
        decisions: list[ApprovalDecision],
    ) -> None:
        self._loop = loop
        self.thread_id = thread_id
        self.run_id = run_id
        answered = {d.pending.tool_call_id for d in decisions}
        # The client's placeholder results for calls that waited ("pendingExecution") are
        # replaced by the real ones below.
        self.messages: list[ChatMessage] = [
            m
            for m in history
            if not (isinstance(m, ToolResultMessage) and m.tool_call_id in answered)
        ]
        self.cancel = cancel
        self.decisions = decisions
        self.pending: list[PendingApproval] = []
        self.finish_reason: str | None = None
        self.usage = Usage()
        self.tool_rounds = 0
        #: Tools stopped (time budget, cancel) while still running; see the module's doc.
        self.abandoned_tools: list[str] = []
        self._started = False
        self._generator: AsyncGenerator[agui.AguiEvent, None] | None = None

    def __aiter__(self) -> AsyncIterator[agui.AguiEvent]:
        if self._started:
            raise RuntimeError("an AgentRun can be iterated once")
        self._started = True
        self._generator = self._events()
        return self._generator

    async def aclose(self) -> None:
        """Stop a run whose reader leaves early (closes the model stream, cancels a tool)."""
        if self._generator is not None:
            await self._generator.aclose()

    # --- the run ---------------------------------------------------------------------------

    async def _events(self) -> AsyncGenerator[agui.AguiEvent, None]:
        for decision in self.decisions:
            if self.cancel.cancelled:  # every waiting call still gets a result
                item = decision.pending
                yield self._record_result(
                    item.message_id, item.tool_call_id, error_text("cancelled by the user"), True
                )
                continue
            async for event in self._resolve(decision):
                yield event
        yield agui.RunStarted(run_id=self.run_id, thread_id=self.thread_id)
        while True:
            if self.cancel.cancelled:
                yield self._finished("cancelled", "stop")
                return
            turn = _Turn(new_message_id())
            try:
                async for event in self._model_turn(turn):
                    yield event
            except Exception as exc:
                for event in turn.close(self.messages, "the model call failed"):
                    yield event
                self.finish_reason = "error"
                if isinstance(exc, ModelError):
                    yield agui.RunError(message=str(exc), code=exc.code)
                else:  # a bug (adapter, prompt builder): the stream still ends properly
                    log.exception("chat run %s failed", self.run_id)
                    yield agui.RunError(
                        message=redact(f"internal error: {exc!r}"), code="internal_error"
                    )
                return
            for event in turn.close(
                self.messages, "cancelled by the user" if turn.cancelled else None
            ):
                yield event
            if turn.cancelled:
                yield self._finished("cancelled", "stop")
                return
            if turn.stop is None or not turn.calls:
                reason = turn.stop.reason if turn.stop else "other"
                if reason == "tool_calls":  # said so, but sent no complete call
                    reason = "other"
                yield self._finished(reason, _TANSTACK_FINISH.get(reason, "stop"))
                return
            if self.tool_rounds >= self._loop.config.max_tool_iterations:
                limit = self._loop.config.max_tool_iterations
                for call in turn.calls:
                    yield self._record_result(
                        turn.message_id,
                        call.id,
                        error_text(
                            f"not run: the limit of {limit} tool rounds in one run was reached"
                        ),
                        True,
                    )
                yield agui.Custom(
                    name=agui.NOTICE_EVENT,
                    value={
                        "kind": "max_tool_iterations",
                        "limit": limit,
                        "message": f"Stopped after {limit} rounds of tool calls.",
                    },
                )
                yield self._finished("max_tool_iterations", "stop")
                return
            self.tool_rounds += 1
            waiting: list[PendingApproval] = []
            for index, call in enumerate(turn.calls):
                if self.cancel.cancelled:
                    yield self._record_result(
                        turn.message_id, call.id, error_text("cancelled by the user"), True
                    )
                    continue
                checked = self._loop.tools.check(call.name, call.arguments)
                if checked.args is None:
                    yield self._record_result(turn.message_id, call.id, checked.error or "", True)
                    continue
                level = self._loop.policy.level(call.name, self._loop.tools.executor)
                if level != "confirm":
                    yield _status(call.name, index, len(turn.calls))
                if level == "confirm":
                    waiting.append(
                        PendingApproval(
                            agui.approval_interrupt_id(call.id),
                            call.id,
                            call.name,
                            checked.args,
                            turn.message_id,
                        )
                    )
                    continue
                async for event in self._execute(
                    turn.message_id, call.id, call.name, checked.args, notify=level == "notify"
                ):
                    yield event
            if self.cancel.cancelled:
                for item in waiting:
                    yield self._record_result(
                        item.message_id,
                        item.tool_call_id,
                        error_text("cancelled by the user"),
                        True,
                    )
                yield self._finished("cancelled", "stop")
                return
            if waiting:
                self.pending = waiting
                yield self._interrupted(waiting)
                return

    async def _model_turn(self, turn: _Turn) -> AsyncIterator[agui.AguiEvent]:
        request = ModelRequest(
            system=self._loop.system_prompt(),
            messages=tuple(self.messages),
            tools=tuple(self._loop.tools.specs.values()),
            max_tokens=self._loop.config.max_tokens,
            temperature=self._loop.config.temperature,
        )
        async for event in _pump(self._loop.adapter.stream(request), self.cancel):
            if event is None:  # cancelled
                turn.cancelled = True
                return
            for out in turn.feed(event):
                yield out
            if isinstance(event, ModelStopped):
                self.usage = self.usage + event.usage
                return

    async def _resolve(self, decision: ApprovalDecision) -> AsyncIterator[agui.AguiEvent]:
        item = decision.pending
        if not decision.approved:
            yield self._record_result(
                item.message_id,
                item.tool_call_id,
                error_text("the user rejected this call", rejected=True),
                True,
            )
            return
        args: Mapping[str, Any] = item.arguments
        if decision.edited_args is not None:
            args = decision.edited_args
        checked = self._loop.tools.check(item.tool_name, args)
        if checked.args is None:
            yield self._record_result(item.message_id, item.tool_call_id, checked.error or "", True)
            return
        async for event in self._execute(
            item.message_id,
            item.tool_call_id,
            item.tool_name,
            checked.args,
            notify=False,
            edited=decision.edited_args is not None,
        ):
            yield event

    async def _execute(
        self,
        message_id: str,
        call_id: str,
        name: str,
        args: dict[str, Any],
        *,
        notify: bool,
        edited: bool = False,
    ) -> AsyncIterator[agui.AguiEvent]:
        if self.abandoned_tools:
            # The stopped call may still be changing the document in its thread.
            yield self._record_result(
                message_id,
                call_id,
                error_text(
                    f"not run: {self.abandoned_tools[0]} was stopped but may still be running; "
                    "the agent restarts after this answer, ask again then"
                ),
                True,
            )
            return
        budget = self._loop.config.tool_timeout
        task = asyncio.ensure_future(self._loop.tools.execute(name, args, self._loop.tool_context))
        cancelled = asyncio.ensure_future(self.cancel.wait())
        try:
            await asyncio.wait(
                {task, cancelled}, timeout=budget, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            cancelled.cancel()
            if not task.done():
                self.abandoned_tools.append(name)
                task.cancel()
        if not task.done() or task.cancelled():
            if self.cancel.cancelled:
                text = error_text("cancelled by the user")
            else:
                text = error_text(
                    f"tool {name} took longer than {budget:g} s and was stopped; check the "
                    "document before going on (list_features), and try a simpler or smaller "
                    "step (fewer or simpler features at once). The limit is the server's "
                    "tool_timeout setting",
                    timeout_seconds=budget,
                )
            yield self._record_result(message_id, call_id, text, True)
            return
        output = task.result()
        content, is_error = output.text, output.is_error
        if edited and not is_error:
            content = json.dumps(
                {
                    "note": "the user edited the arguments before approving",
                    "arguments": args,
                    "result": _json_or_text(content),
                },
                separators=(",", ":"),
                ensure_ascii=False,
            )
        yield self._record_result(message_id, call_id, content, is_error, output.images)
        if notify:
            yield agui.Custom(
                name=agui.NOTICE_EVENT,
                value={
                    "kind": "tool",
                    "toolCallId": call_id,
                    "toolName": name,
                    "input": args,
                    "isError": is_error,
                    "message": f"{name} {'failed' if is_error else 'ran'}",
                },
            )

    # --- events and state ------------------------------------------------------------------

    def _record_result(
        self,
        message_id: str,
        call_id: str,
        content: str,
        is_error: bool,
        images: tuple[ImageData, ...] = (),
    ) -> agui.ToolCallResult:
        # Images go to the model only; the stream carries the text (the UI renders views itself).
        self.messages.append(ToolResultMessage(call_id, content, is_error, images))
        return agui.ToolCallResult(
            message_id=message_id,
            tool_call_id=call_id,
            content=content,
            metadata={"solidtype": {"isError": True}} if is_error else None,
        )

    def _metadata(self, reason: str, tanstack_reason: str) -> agui.JsonObject:
        return {
            **agui.tanstack_metadata(finishReason=tanstack_reason),
            "solidtype": {
                "reason": reason,
                "usage": {
                    "inputTokens": self.usage.input_tokens,
                    "outputTokens": self.usage.output_tokens,
                },
                "toolRounds": self.tool_rounds,
            },
        }

    def _finished(self, reason: str, tanstack_reason: str) -> agui.RunFinished:
        self.finish_reason = reason
        return agui.RunFinished(
            run_id=self.run_id,
            thread_id=self.thread_id,
            metadata=self._metadata(reason, tanstack_reason),
        )

    def _interrupted(self, waiting: list[PendingApproval]) -> agui.RunFinished:
        self.finish_reason = "approval_required"
        interrupts: list[agui.Interrupt] = []
        for p in waiting:
            if self._loop.config.interrupt_style == "native":
                interrupts.append(
                    agui.native_approval_interrupt(
                        tool_call_id=p.tool_call_id,
                        tool_name=p.tool_name,
                        tool_input=p.arguments,
                        input_schema=self._loop.tools.specs[p.tool_name].parameters,
                        interrupted_run_id=self.run_id,
                        extra_metadata={"messageId": p.message_id},
                    )
                )
            else:
                interrupts.append(
                    agui.approval_interrupt(
                        tool_call_id=p.tool_call_id,
                        tool_name=p.tool_name,
                        tool_input=p.arguments,
                        extra_metadata={"messageId": p.message_id},
                    )
                )
        return agui.RunFinished(
            run_id=self.run_id,
            thread_id=self.thread_id,
            metadata=self._metadata("approval_required", "tool_calls"),
            outcome=agui.InterruptOutcome(interrupts=interrupts),
        )


class _Turn:
    """One model turn: turns model events into AG-UI events and remembers text and calls."""

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.text: list[str] = []
        self.calls: list[ToolCall] = []
        self.stop: ModelStopped | None = None
        self.cancelled = False
        self._text_open = False
        self._text_id = message_id
        self._args: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}
        self._open_calls: list[str] = []

    def feed(self, event: ModelEvent) -> list[agui.AguiEvent]:
        out: list[agui.AguiEvent] = []
        if isinstance(event, TextDelta):
            if not self._text_open:
                if self.text or self.calls:  # text after a tool call: a new text message
                    self._text_id = new_message_id()
                out.append(agui.TextMessageStart(message_id=self._text_id))
                self._text_open = True
            self.text.append(event.text)
            out.append(agui.TextMessageContent(message_id=self._text_id, delta=event.text))
        elif isinstance(event, ToolCallStarted):
            out.extend(self._end_text())
            self._args[event.id] = []
            self._names[event.id] = event.name
            self._open_calls.append(event.id)
            out.append(
                agui.ToolCallStart(
                    tool_call_id=event.id,
                    tool_call_name=event.name,
                    parent_message_id=self.message_id,
                )
            )
        elif isinstance(event, ToolCallArgsDelta):
            if event.id in self._args:
                self._args[event.id].append(event.delta)
                out.append(agui.ToolCallArgs(tool_call_id=event.id, delta=event.delta))
        elif isinstance(event, ToolCallEnded):
            if event.id in self._open_calls:
                out.extend(self._end_call(event.id))
        elif isinstance(event, ModelStopped):
            self.stop = event
            out.extend(self._end_text())
            for call_id in list(self._open_calls):
                out.extend(self._end_call(call_id))
        return out

    def close(self, messages: list[ChatMessage], drop_reason: str | None) -> list[agui.AguiEvent]:
        """End what is open and add the assistant message (and, when the turn broke off,
        error results for its calls so the history stays well-formed)."""
        out = self._end_text()
        for call_id in list(self._open_calls):
            out.extend(self._end_call(call_id))
        if self.text or self.calls:
            messages.append(AssistantMessage("".join(self.text), tuple(self.calls)))
        if drop_reason is not None:
            for call in self.calls:
                messages.append(ToolResultMessage(call.id, error_text(drop_reason), True))
                out.append(
                    agui.ToolCallResult(
                        message_id=self.message_id,
                        tool_call_id=call.id,
                        content=error_text(drop_reason),
                        metadata={"solidtype": {"isError": True}},
                    )
                )
            self.calls = []
        return out

    def _end_text(self) -> list[agui.AguiEvent]:
        if not self._text_open:
            return []
        self._text_open = False
        return [agui.TextMessageEnd(message_id=self._text_id)]

    def _end_call(self, call_id: str) -> list[agui.AguiEvent]:
        self._open_calls.remove(call_id)
        arguments = "".join(self._args[call_id]) or "{}"
        self.calls.append(ToolCall(call_id, self._names[call_id], arguments))
        return [agui.ToolCallEnd(tool_call_id=call_id)]


async def _pump(
    stream: AsyncIterator[ModelEvent], cancel: CancelToken
) -> AsyncIterator[ModelEvent | None]:
    """The model's events, read in the caller's task; yields ``None`` when cancelled.

    A cancel that comes while the caller waits for the model interrupts that wait at once
    (the task is cancelled and the cancellation taken back), so a silent model does not
    delay a stop. Reading in the caller's task rather than through a queue fed by a second
    task saves a task switch and two queue operations per model event: with 200 answers
    streaming that was a tenth of the server's time (BENCHMARKS.md, Chat).
    """
    task = asyncio.current_task()
    assert task is not None
    waiting = interrupted = False

    def wake() -> None:
        nonlocal interrupted
        if waiting and not interrupted:
            interrupted = True
            task.cancel()

    unsubscribe = cancel._on_cancel(wake)
    try:
        events = aiter(stream)
        while not cancel.cancelled:
            waiting = True
            try:
                event = await anext(events)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                # Ours (and nobody else's): the run goes on and ends as cancelled.
                if interrupted and task.uncancel() == 0:
                    break
                raise
            finally:
                waiting = False
            if cancel.cancelled:
                break
            yield event
        yield None
    finally:
        unsubscribe()
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def _status(tool_name: str, index: int, count: int) -> agui.Custom:
    """What the panels show while a tool runs: its name and, when the model asked for
    several in one step, how many of them are done (the progress bar)."""
    value: dict[str, Any] = {"status": "busy", "currentTask": f"Running {tool_name}"}
    if count > 1:
        value["currentTask"] += f" ({index + 1} of {count})"
        value["progress"] = round(100 * index / count)
    return agui.Custom(name=agui.STATUS_EVENT, value=value)


def _json_or_text(content: str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content
