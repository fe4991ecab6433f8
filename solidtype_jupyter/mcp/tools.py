"""Our tool registries seen as MCP tools, and our tool results as MCP call results.

The names, descriptions and input schemas are the registry's own (``definitions()``), so an
MCP client sees exactly what the chat's model sees. Annotations come from the approval
levels: ``auto`` tools are read-only, ``confirm`` tools change or delete existing things
(destructive), ``notify`` tools add undoable things (neither read-only nor destructive).
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
from pydantic import BaseModel, ConfigDict

from ..tools import ToolRegistry, ToolResult
from ..tools.registry import ApprovalLevel


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class BoundingBox(_Open):
    min: list[float]
    max: list[float]
    size: list[float]


class Figures(_Open):
    """What ``cad.queries.shape_figures`` measures of a body (and of the whole model). With
    no solid yet (an empty document, sketches only) only the first four are measured: the
    others are absent, not null (a client validates results against this schema)."""

    solids: int
    valid: bool
    volume: float
    area: float
    bbox: BoundingBox | None = None
    center_of_mass: list[float] | None = None
    faces: int | None = None
    edges: int | None = None


class Geometry(Figures):
    bodies: dict[str, Figures]


class GeometryOutput(_Open):
    """``get_geometry``'s result."""

    geometry: Geometry
    revision: str


class FeatureTreeOutput(_Open):
    """``list_features``'s result."""

    name: str
    parameters: dict[str, dict[str, Any]]
    features: list[dict[str, Any]]
    bodies: list[str]
    can_undo: bool
    can_redo: bool


#: Output schemas of the tools whose results have a fixed shape worth declaring; every
#: other successful result still comes as structured content (a JSON object).
OUTPUT_MODELS: dict[str, type[BaseModel]] = {
    "get_geometry": GeometryOutput,
    "list_features": FeatureTreeOutput,
}


def tool_annotations(level: ApprovalLevel) -> types.ToolAnnotations:
    if level == "auto":
        return types.ToolAnnotations(read_only_hint=True, destructive_hint=False)
    if level == "confirm":
        return types.ToolAnnotations(read_only_hint=False, destructive_hint=True)
    # notify: adds things and is undoable. The spec's default for destructiveHint is true,
    # so "not destructive" is said explicitly rather than left out.
    return types.ToolAnnotations(read_only_hint=False, destructive_hint=False)


def mcp_tools(registry: ToolRegistry, levels: dict[str, ApprovalLevel]) -> list[types.Tool]:
    """The registry's tools as MCP tools; ``levels``: each tool's approval level."""
    tools = []
    for definition in registry.definitions():
        if definition.client_side:
            continue  # the chat UI performs those (navigation); an MCP client has no UI of ours
        output = OUTPUT_MODELS.get(definition.name)
        tools.append(
            types.Tool(
                name=definition.name,
                description=definition.description,
                input_schema=definition.parameters,
                output_schema=output.model_json_schema() if output is not None else None,
                annotations=tool_annotations(levels.get(definition.name, definition.approval)),
            )
        )
    return tools


def call_result(result: ToolResult) -> types.CallToolResult:
    """A tool result as MCP content: the text the chat's model reads (the same JSON, errors
    included, with ``isError``), PNG pictures as image content, the result object as
    structured content."""
    content: list[types.ContentBlock] = [types.TextContent(text=result.model_text())]
    if not result.ok:
        return types.CallToolResult(content=content, is_error=True)
    for image in result.images:
        content.append(types.ImageContent(data=image.data_base64, mime_type=image.mime_type))
    structured = json.loads(result.model_text())
    return types.CallToolResult(content=content, structured_content=structured, is_error=False)


def error_result(message: str) -> types.CallToolResult:
    """A tool error that did not come from the registry (a refused approval, no document)."""
    text = json.dumps({"error": {"code": "refused", "message": message}})
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def plain_error(tool: str, code: str, message: str) -> types.CallToolResult:
    return call_result(ToolResult.failure(tool, code, message))
