"""The agent itself, wherever it runs: commands in, events out.

``AgentCore`` is what a runtime hosts (a worker thread, a Jupyter kernel): it takes
commands in their wire form (``handle``), runs chat turns with the ``llm`` loop on its own
replica of the CAD document, and reports through ``send`` (events in their object form; the
host encodes them for its transport). A malformed command gets an ``ErrorEvent`` and changes
nothing. After every tool that changed the replica, the Yjs update goes out as a
``document-update`` event *before* the tool's result, so the document's owner has applied
(and saved) the change by the time the result is seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..cad import CadDocument
from ..llm import (
    ApprovalDecision,
    LoopConfig,
    PendingApproval,
    create_adapter,
    history_from_agui,
)
from ..llm.loop import DEFAULT_TOOL_TIMEOUT
from ..llm.model_choice import resolve_model
from ..llm.redact import redact
from ..protocol import agent as proto
from ..protocol import agui
from ..tools import ToolContext, ToolRegistry, dashboard_registry, editor_registry
from .in_process import AgentTurn, InProcessAgent, StoredResult

log = logging.getLogger(__name__)

Send = Callable[[Any], None]


class AgentCore:
    def __init__(self, send: Send, *, on_terminate: Callable[[], None] | None = None) -> None:
        self._send = send
        self._on_terminate = on_terminate
        self.state = proto.AgentState()
        self.config: proto.AgentConfig | None = None
        self.registry: ToolRegistry | None = None
        self.document: CadDocument | None = None
        self._sent_vector: bytes = b""
        self._runs: dict[str, tuple[asyncio.Task[None], Any]] = {}
        self._agent: InProcessAgent | None = None

    # --- plumbing -------------------------------------------------------------------------

    def emit(self, event: Any) -> None:
        try:
            self._send(event)
        except Exception:  # a closed transport must not take the agent down
            log.exception("solidtype agent: could not send %s", getattr(event, "type", event))

    def set_state(self, **changes: Any) -> None:
        self.state = self.state.model_copy(update=changes)
        self.emit(proto.StateChangeEvent(state=self.state))

    async def handle(self, header: Any, buffers: Sequence[bytes | memoryview] = ()) -> None:
        """One command in wire form; never raises (failures become error events)."""
        try:
            command = proto.decode_command(header, buffers)
        except proto.ProtocolError as exc:
            self.emit(proto.ErrorEvent(message=str(exc), code="invalid_command"))
            return
        try:
            await self.execute(command)
        except Exception as exc:
            log.exception("solidtype agent: %s failed", command.type)
            self.emit(proto.ErrorEvent(message=f"{command.type} failed: {exc}", code="internal"))

    async def execute(self, command: Any) -> None:
        if isinstance(command, proto.InitCommand):
            await self._init(command.config)
            return
        if isinstance(command, proto.TerminateCommand):
            await self.terminate()
            return
        if self.config is None:
            self.emit(
                proto.ErrorEvent(
                    message=f"{command.type} before init: send an init command first",
                    code="not_initialized",
                )
            )
            return
        if isinstance(command, proto.SyncDocumentCommand):
            self._sync(command)
        elif isinstance(command, proto.ChatCommand):
            self._start_run(command)
        elif isinstance(command, proto.CancelCommand):
            running = self._runs.get(command.run_id)
            if running is not None:
                running[1].cancel()
        elif isinstance(command, proto.ExecuteToolCommand):
            await self._execute_tool(command)

    # --- commands -------------------------------------------------------------------------

    async def _init(self, config: proto.AgentConfig) -> None:
        if self.config is not None:
            self.emit(proto.ErrorEvent(message="the agent is already initialized", code="init"))
            return
        self.set_state(status="initializing", current_task="loading tools", progress=10)
        registry = editor_registry() if config.context == "editor" else dashboard_registry()
        try:
            for name in config.tool_modules:
                module = importlib.import_module(name)
                module.register(registry)
        except Exception as exc:
            self.set_state(status="error", error=f"tool module failed: {exc}", current_task=None)
            self.emit(proto.ErrorEvent(message=f"init failed: {exc}", fatal=True, code="init"))
            return
        self.registry = registry
        self.config = config
        model = config.model

        def adapter() -> Any:
            return create_adapter(resolve_model(model, os.environ), os.environ)

        root = Path(config.root_dir) if config.root_dir else None
        self._agent = InProcessAgent(
            adapter,
            root_dir=root,
            registries={config.context: registry},
            config=LoopConfig(
                approval_overrides=config.approval_overrides,
                tool_timeout=tool_budget(config.tool_timeout),
            ),
        )
        self.set_state(status="ready", current_task=None, progress=None, error=None)

    def _sync(self, command: proto.SyncDocumentCommand) -> None:
        if command.reset or self.document is None:
            self.document = CadDocument()
        self.document.apply_update(command.updates)
        # What the owner has: only changes made here after this point go back.
        self._sent_vector = self.document.get_state()

    def _flush_document(self) -> None:
        if self.document is None:
            return
        vector = self.document.get_state()
        if vector == self._sent_vector:
            return
        update = self.document.get_update(self._sent_vector)
        self._sent_vector = vector
        self.emit(proto.DocumentUpdateEvent(updates=update, revision=self.document.revision))

    def _start_run(self, command: proto.ChatCommand) -> None:
        if self._runs:
            running = ", ".join(self._runs)
            self.emit(
                proto.ChatResponseEvent(
                    run_id=command.run_id,
                    event=agui.RunError(
                        message=f"the agent is busy with run {running}", code="busy"
                    ).to_wire(),
                    done=True,
                )
            )
            return
        from ..llm import CancelToken

        token = CancelToken()
        turn = AgentTurn(
            thread_id=command.thread_id,
            run_id=command.run_id,
            user_id=command.user_id,
            context=self.config.context if self.config else "editor",
            history=history_from_agui([agui.Message.model_validate(m) for m in command.history]),
            decisions=[_decision(d) for d in command.decisions],
            cancel=token,
            document=self.document,
            stored_results=[
                StoredResult(s.name, s.arguments, s.content, s.is_error)
                for s in command.stored_results
            ],
            tool_rounds=command.tool_rounds,
            selection=list(command.selection),
        )
        task = asyncio.ensure_future(self._run(turn))
        self._runs[command.run_id] = (task, token)

    async def _run(self, turn: AgentTurn) -> None:
        assert self._agent is not None
        self.set_state(status="busy", current_task=f"answering run {turn.run_id}", progress=0)
        done = False
        tools: dict[str, str] = {}
        try:
            async for event in self._agent.run(turn):
                if isinstance(event, agui.ToolCallStart):
                    tools[event.tool_call_id] = event.tool_call_name
                    self.emit(proto.ToolCallEvent(id=event.tool_call_id, name=event.tool_call_name))
                    self.set_state(current_task=f"calling {event.tool_call_name}", progress=None)
                if isinstance(event, agui.Custom) and event.name == agui.STATUS_EVENT:
                    value = event.value if isinstance(event.value, dict) else {}
                    self.set_state(
                        current_task=value.get("currentTask"), progress=value.get("progress")
                    )
                if isinstance(event, agui.ToolCallResult):
                    self._flush_document()
                    self.emit(proto.ToolResultEvent(id=event.tool_call_id, result=event.content))
                done = event.type in ("RUN_FINISHED", "RUN_ERROR")
                if done:  # the agent is ready again by the time the client sees the end
                    self._end_run(turn.run_id)
                    if turn.abandoned_tools:
                        # A stopped tool may go on in its thread: the host replaces us.
                        self.emit(
                            proto.ErrorEvent(
                                message=f"{', '.join(turn.abandoned_tools)} was stopped while "
                                "running and may still be running; this agent is replaced",
                                code=proto.TOOL_ABANDONED,
                            )
                        )
                self.emit(
                    proto.ChatResponseEvent(run_id=turn.run_id, event=event.to_wire(), done=done)
                )
        except Exception as exc:
            log.exception("solidtype agent: run %s failed", turn.run_id)
            if not done:
                self._end_run(turn.run_id)
                self.emit(
                    proto.ChatResponseEvent(
                        run_id=turn.run_id,
                        event=agui.RunError(
                            message=redact(f"agent error: {exc}"), code="internal"
                        ).to_wire(),
                        done=True,
                    )
                )
        finally:
            self._end_run(turn.run_id)

    def _end_run(self, run_id: str) -> None:
        self._flush_document()
        ended = self._runs.pop(run_id, None) is not None
        if ended and not self._runs and self.state.status == "busy":
            self.set_state(status="ready", current_task=None, progress=None)

    async def _execute_tool(self, command: proto.ExecuteToolCommand) -> None:
        assert self.registry is not None and self.config is not None
        self.emit(proto.ToolCallEvent(id=command.id, name=command.tool_name, args=command.args))
        previous = self.state
        self.set_state(status="busy", current_task=f"running {command.tool_name}", progress=0)
        try:
            result = await self.registry.execute(
                command.tool_name,
                command.args,
                ToolContext(
                    user_id=self.config.user_id,
                    document=self.document,
                    root_dir=Path(self.config.root_dir) if self.config.root_dir else None,
                ),
            )
        finally:
            self._flush_document()
            self.set_state(
                status=previous.status, current_task=previous.current_task, progress=None
            )
        wire = result.model_dump(mode="json", exclude_none=True)
        error = None if result.ok or result.error is None else result.error.message
        self.emit(proto.ToolResultEvent(id=command.id, result=wire, error=error))

    async def terminate(self) -> None:
        for task, token in list(self._runs.values()):
            token.cancel()
            task.cancel()
        for task, _ in list(self._runs.values()):
            with contextlib.suppress(BaseException):
                await task
        self.set_state(status="terminated", current_task=None, progress=None)
        self.emit(proto.AwarenessUpdateEvent(state=None))
        if self._on_terminate is not None:
            self._on_terminate()


def _decision(wire: proto.WireDecision) -> ApprovalDecision:
    return ApprovalDecision(
        PendingApproval(
            interrupt_id=wire.interrupt_id,
            tool_call_id=wire.tool_call_id,
            tool_name=wire.tool_name,
            arguments=wire.arguments,
            message_id=wire.message_id,
        ),
        approved=wire.approved,
        edited_args=wire.edited_args,
    )


def tool_budget(setting: float | None) -> float | None:
    """The seconds a tool call may take under ``AgentConfig.tool_timeout`` (``None``: the
    loop's default; 0: no limit, which ``LoopConfig`` spells ``None``)."""
    return DEFAULT_TOOL_TIMEOUT if setting is None else setting or None


def decision_to_wire(decision: ApprovalDecision) -> proto.WireDecision:
    p = decision.pending
    return proto.WireDecision(
        interrupt_id=p.interrupt_id,
        tool_call_id=p.tool_call_id,
        tool_name=p.tool_name,
        arguments=p.arguments,
        message_id=p.message_id,
        approved=decision.approved,
        edited_args=decision.edited_args,
    )
