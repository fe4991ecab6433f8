"""The output schemas the MCP tools declare accept every result those tools give: a client
validates structured content against them and turns a mismatch into an exception (the SDK
raised "'bbox' is a required property" for get_geometry on a document with no solid yet).
Real registry, real CadQuery documents at each stage of a part.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.mcp import call_result, mcp_tools
from solidtype_jupyter.tools import ToolContext, editor_registry
from solidtype_jupyter.tools.registry import approval_level

STAGES: list[tuple[str, dict[str, Any]]] = [
    ("create_sketch", {"plane": "XY"}),  # a sketch, no solid
    ("add_rectangle", {"sketch_id": "sketch1", "width": 60, "height": 40}),
    ("extrude", {"sketch_id": "sketch1", "distance": 8}),  # one body
    ("create_sketch", {"plane": "XY"}),
    ("add_circle", {"sketch_id": "sketch2", "radius": 5, "center": [100, 0]}),
    ("extrude", {"sketch_id": "sketch2", "distance": 3, "operation": "new"}),  # two
]


async def test_declared_output_schemas_accept_every_stage_of_a_part() -> None:
    registry = editor_registry()
    tools = {
        t.name: t
        for t in mcp_tools(registry, {n: approval_level(n) for n in registry.names()})
        if t.output_schema is not None
    }
    assert {"get_geometry", "list_features"} <= set(tools)
    document = CadDocument("stages")
    context = ToolContext(user_id="u", document=document)
    checked = 0
    for step in [None, *STAGES]:
        if step is not None:
            made = await registry.execute(step[0], step[1], context)
            assert made.ok, made.model_text()
        for name, tool in tools.items():
            result = await registry.execute(name, {}, context)
            assert result.ok, result.model_text()
            structured = call_result(result).structured_content
            assert structured is not None
            jsonschema.validate(structured, tool.output_schema)  # raises on a mismatch
            checked += 1
    assert checked == len(tools) * (len(STAGES) + 1)
    assert len(document.bodies) == 2


def test_a_result_the_schema_does_not_describe_is_refused() -> None:
    """The check above can fail: a geometry without its volume is not accepted."""
    registry = editor_registry()
    [tool] = [t for t in mcp_tools(registry, {}) if t.name == "get_geometry"]
    broken = {"geometry": {"solids": 0, "valid": False, "area": 0.0, "bodies": {}}, "revision": "r"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, tool.output_schema)
