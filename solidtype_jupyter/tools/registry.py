"""The tool registry: argument models -> JSON Schema, approval levels, one execute entry point.

A tool is a pydantic argument model plus a handler. `ToolRegistry.execute` validates the
raw arguments a model sent, runs the handler (CAD work in a worker thread, so an event loop
stays responsive), and always returns a `ToolResult`: a bad call, a refused edit or a crash
becomes a structured error the model can read, never an exception.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import difflib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..cad import CadDocument
from ..cad.errors import CadError, FeatureError
from ..cad.render import RenderError
from .arguments_schema import normalized_arguments, portable_schema

log = logging.getLogger(__name__)

ApprovalLevel = Literal["auto", "notify", "confirm"]

# The seed's table (section 10) in snake_case, extended to every tool we ship:
# read-only and navigation run at once, additive (undoable) changes notify,
# changes to existing things confirm. Anything not listed asks for confirmation.
APPROVAL_RULES: dict[str, ApprovalLevel] = {
    # read-only
    "list_workspaces": "auto",
    "list_projects": "auto",
    "list_documents": "auto",
    "get_current_selection": "auto",
    "find_faces": "auto",
    "find_edges": "auto",
    "get_geometry": "auto",
    "list_features": "auto",
    "render_view": "auto",
    "measure": "auto",
    "check_interference": "auto",
    "section": "auto",
    "verify": "auto",
    # navigation (the UI executes it)
    "open_project": "auto",
    "open_document": "auto",
    # creates things, non-destructive and undoable
    "create_workspace": "notify",
    "create_project": "notify",
    "create_document": "notify",
    "create_sketch": "notify",
    "add_line": "notify",
    "add_arc": "notify",
    "add_circle": "notify",
    "add_rectangle": "notify",
    "add_polygon": "notify",
    "extrude": "notify",
    "revolve": "notify",
    "fillet": "notify",
    "chamfer": "notify",
    "hole": "notify",
    "shell": "notify",
    "boolean": "notify",
    "pattern": "notify",
    "datum_plane": "notify",
    "mirror": "notify",
    "split": "notify",
    "add_slot": "notify",
    "add_spline": "notify",
    "sweep": "notify",
    "loft": "notify",
    "undo": "notify",
    "redo": "notify",
    "export": "notify",
    # modifies or deletes
    "set_parameter": "confirm",
    "modify_feature": "confirm",
    "delete_feature": "confirm",
}


def approval_level(name: str) -> ApprovalLevel:
    """The approval a call of `name` needs; unknown tools need confirmation."""
    return APPROVAL_RULES.get(name, "confirm")


class ToolError(BaseModel):
    code: Literal[
        "unknown_tool",
        "invalid_arguments",
        "no_document",
        "no_catalog",
        "cad_error",
        "not_found",
        "render_unavailable",
        "internal_error",
    ]
    message: str
    feature_id: str | None = None


class ToolImage(BaseModel):
    mime_type: Literal["image/png"] = "image/png"
    data_base64: str

    @classmethod
    def png(cls, data: bytes) -> ToolImage:
        return cls(data_base64=base64.b64encode(data).decode("ascii"))


class ToolAttachment(BaseModel):
    """A file produced by a tool, for the UI (not sent to the model)."""

    filename: str
    mime_type: str
    data_base64: str


class Navigation(BaseModel):
    """A client-side action: the UI opens this project or document."""

    kind: Literal["project", "document"]
    id: str
    name: str | None = None


class ToolResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str
    ok: bool
    content: dict[str, Any] = Field(default_factory=dict)
    error: ToolError | None = None
    images: list[ToolImage] = Field(default_factory=list)
    attachments: list[ToolAttachment] = Field(default_factory=list)
    navigation: Navigation | None = None

    @classmethod
    def failure(
        cls, tool: str, code: str, message: str, feature_id: str | None = None
    ) -> ToolResult:
        return cls(
            tool=tool,
            ok=False,
            error=ToolError(code=code, message=message, feature_id=feature_id),  # type: ignore[arg-type]
        )

    def model_text(self) -> str:
        """What the model reads back: the content, or the error, as JSON."""
        if self.error is not None:
            return json.dumps({"error": self.error.model_dump(exclude_none=True)})
        payload = dict(self.content)
        if self.navigation is not None:
            payload["navigation"] = self.navigation.model_dump(exclude_none=True)
        return json.dumps(payload, default=str)


class ToolDefinition(BaseModel):
    """What an LLM adapter needs to offer a tool to a model, plus our approval level."""

    name: str
    description: str
    parameters: dict[str, Any]
    approval: ApprovalLevel
    client_side: bool = False


@dataclass
class ToolContext:
    """Everything a tool may touch: the open document, the user, the catalog.

    `user_id` comes from the server's identity, never from a request body. `selection`
    holds the references the UI currently has selected (viewer picks). `workdir`, when set,
    is where `export` may write files; `root_dir`, when set, is the server's contents root,
    where the dashboard tools create folders and document files.
    """

    user_id: str
    document: CadDocument | None = None
    catalog: Any = None
    selection: list[dict[str, Any]] = field(default_factory=list)
    workdir: Path | None = None
    root_dir: Path | None = None


Handler = Callable[[Any, ToolContext], "ToolResult | dict[str, Any] | Awaitable[Any]"]


class ToolFailure(Exception):
    """Raised by a handler to return a structured error with a specific code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args: type[BaseModel]
    handler: Handler
    client_side: bool = False
    needs_document: bool = False
    needs_catalog: bool = False


class ToolRegistry:
    """Named tools with schemas and approval levels, executed through one entry point."""

    def __init__(self, tools: Iterable[ToolSpec] = ()) -> None:
        self._tools: dict[str, ToolSpec] = {}
        self._schemas: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {}
        for spec in tools:
            self.register(spec)

    def register(self, spec: ToolSpec) -> None:
        if spec.name in self._tools:
            raise ValueError(f"tool {spec.name!r} is already registered")
        self._tools[spec.name] = spec

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return list(self._tools)

    def spec(self, name: str) -> ToolSpec:
        return self._tools[name]

    def definitions(self) -> list[ToolDefinition]:
        return [
            ToolDefinition(
                name=spec.name,
                description=spec.description,
                parameters=self.schema(spec.name),
                approval=approval_level(spec.name),
                client_side=spec.client_side,
            )
            for spec in self._tools.values()
        ]

    def schema(self, name: str) -> dict[str, Any]:
        """The JSON Schema of a tool's arguments (`portable_schema`), the caller's copy."""
        return copy.deepcopy(self._shared_schema(name))

    def _shared_schema(self, name: str) -> dict[str, Any]:
        """`schema(name)`, computed once and shared: read it, never change it."""
        spec = self._tools[name]
        cached = self._schemas.get(name)
        if cached is None or cached[0] is not spec.args:
            cached = self._schemas[name] = (spec.args, portable_schema(spec.args))
        return cached[1]

    def approval_level(self, name: str) -> ApprovalLevel:
        return approval_level(name)

    async def execute(
        self, name: str, raw_args: dict[str, Any], context: ToolContext
    ) -> ToolResult:
        """Validate and run one tool call; every outcome is a ToolResult."""
        spec = self._tools.get(name)
        if spec is None:
            known = ", ".join(self._tools)
            return ToolResult.failure(
                name, "unknown_tool", f"unknown tool {name!r} (tools: {known})"
            )
        if not isinstance(raw_args, dict):
            return ToolResult.failure(name, "invalid_arguments", "arguments must be a JSON object")
        # What a strict-mode model sends (null for "leave unset", JSON text for a free-form
        # object) is normalized here, so the argument model is the one validation.
        raw_args = normalized_arguments(self._shared_schema(name), raw_args)
        try:
            args = spec.args.model_validate(raw_args)
        except ValidationError as exc:
            text = validation_text(exc, self._shared_schema(name))
            return ToolResult.failure(name, "invalid_arguments", text)
        if spec.needs_document and context.document is None:
            return ToolResult.failure(
                name, "no_document", "no CAD document is open; open or create one first"
            )
        if spec.needs_catalog and context.catalog is None:
            return ToolResult.failure(name, "no_catalog", "no project catalog is available here")
        try:
            if inspect.iscoroutinefunction(spec.handler):
                outcome = await spec.handler(args, context)
            else:
                outcome = await asyncio.to_thread(spec.handler, args, context)
        except FeatureError as exc:
            return ToolResult.failure(name, "cad_error", str(exc), exc.feature_id)
        except CadError as exc:
            return ToolResult.failure(name, "cad_error", str(exc))
        except RenderError as exc:
            return ToolResult.failure(name, "render_unavailable", str(exc))
        except ToolFailure as exc:
            return ToolResult.failure(name, exc.code, str(exc))
        except Exception as exc:  # a bug must not take the agent loop down with it
            log.exception("tool %s crashed", name)
            return ToolResult.failure(name, "internal_error", f"{type(exc).__name__}: {exc}")
        if isinstance(outcome, ToolResult):
            return outcome
        return ToolResult(tool=name, ok=True, content=outcome or {})

    def execute_sync(self, name: str, raw_args: dict[str, Any], context: ToolContext) -> ToolResult:
        """`execute` for synchronous callers (scripts, tests, a notebook cell).

        Under a running event loop (a Jupyter kernel) the call runs on a helper thread with
        its own loop, since the caller's loop cannot be re-entered.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.execute(name, raw_args, context))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="solidtype-tool") as pool:
            return pool.submit(asyncio.run, self.execute(name, raw_args, context)).result()

    def merged(self, other: ToolRegistry) -> ToolRegistry:
        return ToolRegistry([*self._tools.values(), *other._tools.values()])


def validation_text(exc: ValidationError, schema: dict[str, Any], unknown: str = "argument") -> str:
    """pydantic's reasons, one per problem; an unknown name comes with the valid names."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        text = f"{loc}: {err['msg']}"
        if err["type"] == "extra_forbidden":
            # a misspelt name: say which names that object takes, and the closest one
            valid = _valid_names(schema, err["loc"][:-1])
            if valid is not None:
                text = f"{loc}: unknown {unknown} {str(err['loc'][-1])!r}" + unknown_name_hint(
                    str(err["loc"][-1]), valid
                )
        parts.append(text)
    return "invalid arguments: " + "; ".join(parts)


def unknown_name_hint(name: str, valid: Iterable[str]) -> str:
    """' (did you mean 'x'?); valid: a, b, c' for a name that is not among `valid`."""
    names = list(valid)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{guess}; valid: {', '.join(names) or 'none'}"


def _valid_names(schema: dict[str, Any], path: tuple[int | str, ...]) -> list[str] | None:
    """Property names of the object at pydantic error location `path` in `schema`.

    A location holds field names, list indexes, and for unions the tag ('circle') or the
    branch's type name ('Descriptor'); None if a step cannot be followed.
    """
    defs = schema.get("$defs", {})
    node: Any = schema
    for step in path:
        node = _resolve(node, defs)
        branches = node.get("anyOf")
        if isinstance(branches, list):
            named = _named_branch(branches, defs, step)
            if named is not None:
                node = named  # the step named the union's branch: nothing to descend
                continue
            node = _only_branch(branches, defs, "items" if isinstance(step, int) else "properties")
            if node is None:
                return None
        child = node.get("items") if isinstance(step, int) else node.get("properties", {}).get(step)
        if not isinstance(child, dict):
            return None
        node = child
    node = _resolve(node, defs)
    if isinstance(node.get("anyOf"), list):
        node = _only_branch(node["anyOf"], defs, "properties") or {}
    properties = node.get("properties")
    return list(properties) if isinstance(properties, dict) else None


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    target = defs.get(str(node.get("$ref", "")).removeprefix("#/$defs/"))
    return target if isinstance(target, dict) else node


def _named_branch(branches: list[Any], defs: dict[str, Any], step: int | str) -> Any:
    """The union branch a location step names: by its tag (a `const`) or its type name."""
    for branch in branches:
        target = _resolve(branch, defs)
        tags = [p.get("const") for p in target.get("properties", {}).values() if "const" in p]
        if step in tags or str(branch.get("$ref", "")).endswith(f"/{step}"):
            return target
    return None


def _only_branch(branches: list[Any], defs: dict[str, Any], key: str) -> Any:
    found = [t for t in (_resolve(b, defs) for b in branches) if key in t]
    return found[0] if len(found) == 1 else None
