"""The agent the chat service talks to, and the in-process one it uses today.

``ChatAgent`` is the seam: ``run(turn)`` streams the AG-UI events of one run. The in-process
agent runs the ``llm`` loop on the server's event loop with the tool registry of the chat's
context; a later runtime (a kernel, a remote server) implements the same protocol.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..cad import CadDocument
from ..llm import (
    AgentLoop,
    ApprovalDecision,
    CancelToken,
    ChatMessage,
    LoopConfig,
    ModelAdapter,
    ModelNotConfigured,
    not_configured_run,
    system_prompt_source,
)
from ..llm.tool_executor import ToolResult as PlainResult
from ..protocol import agui
from ..tools import ToolContext, ToolRegistry, dashboard_registry, editor_registry


@dataclass(frozen=True)
class StoredResult:
    """A tool call whose result is already in the stream (a run recovered after a restart
    must not run it twice): matched by tool name and arguments."""

    name: str
    arguments: dict[str, Any]
    content: str
    is_error: bool


@dataclass
class AgentTurn:
    thread_id: str
    run_id: str
    user_id: str
    context: str  # "editor" | "dashboard"
    history: Sequence[ChatMessage]
    decisions: Sequence[ApprovalDecision] = ()
    cancel: CancelToken = field(default_factory=CancelToken)
    document: CadDocument | None = None
    document_path: str | None = None  # the document's contents path, when it is a file
    stored_results: Sequence[StoredResult] = ()
    tool_rounds: int = 0  # rounds the run already did (a run finished after a restart)
    # False when the user may not write files: the dashboard's create tools then record in
    # the catalog only, without making folders or files under the server's root.
    may_write_files: bool = True
    # The faces and edges the user picked in the 3D viewer (``ShapeReference.as_selection``):
    # what the run's ``get_current_selection`` returns.
    selection: list[dict[str, Any]] = field(default_factory=list)
    # Filled by the run: tools stopped while still running (the agent should be replaced).
    abandoned_tools: list[str] = field(default_factory=list)


class ChatAgent(Protocol):
    def run(self, turn: AgentTurn) -> AsyncIterator[agui.AguiEvent]: ...


def document_summary(document: CadDocument) -> Callable[[], str]:
    """The editor prompt's view of the document, read fresh before every model turn."""

    def summary() -> str:
        lines = [f"name: {document.name}", f"revision: {document.revision}"]
        if document.parameters:
            lines.append("parameters: " + json.dumps(document.parameters))
        features = [f"{f.id} ({getattr(f, 'type', type(f).__name__)})" for f in document.features]
        lines.append("features: " + (", ".join(features) if features else "(none yet)"))
        if features:
            try:
                lines.append("geometry: " + json.dumps(document.geometry(), default=str))
            except Exception as exc:  # a summary must never break the turn
                lines.append(f"geometry: unavailable ({exc})")
        return "\n".join(lines)

    return summary


class _Tools:
    """The registry with its definitions computed once (every run asks for them), and,
    for a run finished after a restart, the calls already answered in the stream
    returning that answer instead of running again."""

    def __init__(
        self, registry: ToolRegistry, definitions: Any, stored: Sequence[StoredResult] = ()
    ) -> None:
        self.registry = registry
        self._definitions = definitions
        self.stored = list(stored)

    def definitions(self) -> Any:
        return self._definitions

    def approval_level(self, name: str) -> str:
        return self.registry.approval_level(name)

    async def execute(self, name: str, args: dict[str, Any], context: Any) -> Any:
        for index, item in enumerate(self.stored):
            if item.name == name and item.arguments == args:
                del self.stored[index]
                return PlainResult(item.content, item.is_error)
        return await self.registry.execute(name, args, context)


class InProcessAgent:
    """The llm loop in this process. ``model()`` makes the adapter of a run (raising
    ``ModelNotConfigured`` when there is none: the run then says how to configure one)."""

    def __init__(
        self,
        model: Callable[[], ModelAdapter],
        *,
        catalog: Any = None,
        root_dir: Path | None = None,
        config: LoopConfig | None = None,
        registries: Mapping[str, ToolRegistry] | None = None,
    ) -> None:
        self.model = model
        self.catalog = catalog
        self.root_dir = root_dir
        self.config = config or LoopConfig()
        self.registries = dict(registries or {})
        self._definitions: dict[str, Any] = {}

    def registry(self, context: str) -> ToolRegistry:
        if context not in self.registries:
            self.registries[context] = (
                editor_registry() if context == "editor" else dashboard_registry()
            )
        return self.registries[context]

    def run(self, turn: AgentTurn) -> AsyncIterator[agui.AguiEvent]:
        try:
            adapter = self.model()
        except ModelNotConfigured as exc:
            return not_configured_run(turn.thread_id, turn.run_id, str(exc))
        registry = self.registry(turn.context)
        if turn.context not in self._definitions:
            self._definitions[turn.context] = registry.definitions()
        tools = _Tools(registry, self._definitions[turn.context], turn.stored_results)
        summary = document_summary(turn.document) if turn.document is not None else None
        loop = AgentLoop(
            adapter,
            tools,
            system_prompt=system_prompt_source(
                "editor" if turn.context == "editor" else "dashboard", summary
            ),
            config=self.config,
            tool_context=ToolContext(
                user_id=turn.user_id,
                document=turn.document,
                catalog=self.catalog,
                selection=list(turn.selection),
                root_dir=self.root_dir if turn.may_write_files else None,
            ),
        )
        run = loop.run(
            thread_id=turn.thread_id,
            run_id=turn.run_id,
            history=turn.history,
            cancel=turn.cancel,
            decisions=turn.decisions,
        )
        run.tool_rounds = turn.tool_rounds
        run.abandoned_tools = turn.abandoned_tools
        return aiter(run)
