"""The registry: schemas the providers accept, the seed's approval table, one entry point."""

from __future__ import annotations

import asyncio

import jsonschema
import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.tools import (
    ToolContext,
    ToolRegistry,
    approval_level,
    default_registry,
    editor_registry,
)
from solidtype_jupyter.tools.registry import ToolSpec

EDITOR_NAMES = {
    "create_sketch",
    "add_line",
    "add_arc",
    "add_circle",
    "add_rectangle",
    "add_polygon",
    "extrude",
    "revolve",
    "fillet",
    "chamfer",
    "hole",
    "shell",
    "boolean",
    "pattern",
    "set_parameter",
    "modify_feature",
    "delete_feature",
    "undo",
    "redo",
    "find_faces",
    "find_edges",
    "get_geometry",
    "get_current_selection",
    "list_features",
    "render_view",
    "export",
    "measure",
    "check_interference",
    "section",
    "verify",
    "add_slot",
    "add_spline",
    "sweep",
    "loft",
    "datum_plane",
    "mirror",
    "split",
}
DASHBOARD_NAMES = {
    "list_workspaces",
    "create_workspace",
    "list_projects",
    "create_project",
    "list_documents",
    "create_document",
    "open_project",
    "open_document",
}


def test_every_tool_is_registered_once() -> None:
    names = default_registry().names()
    assert len(names) == len(set(names))
    assert set(names) == EDITOR_NAMES | DASHBOARD_NAMES


def test_definitions_are_valid_json_schemas() -> None:
    for definition in default_registry().definitions():
        schema = definition.parameters
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert definition.description
        assert definition.approval in ("auto", "notify", "confirm")


def test_schema_accepts_what_the_model_sends() -> None:
    definitions = {d.name: d.parameters for d in editor_registry().definitions()}
    validator = jsonschema.Draft202012Validator(definitions["hole"])
    assert validator.is_valid({"face": {"type": "PLANE", "normal": [0, 0, 1]}, "diameter": 5})
    assert validator.is_valid({"positions": [[1, 2], ["w/2", 0]], "diameter": "d"})
    assert not validator.is_valid({"diameter": 5, "unknown": 1})
    assert "required" in definitions["extrude"] and definitions["extrude"]["required"] == [
        "sketch_id"
    ]


def test_approval_levels_follow_the_seed_table() -> None:
    # the seed's rules, in snake_case
    for name in (
        "list_workspaces",
        "list_projects",
        "list_documents",
        "get_current_selection",
        "find_faces",
        "find_edges",
        "get_geometry",
        "open_project",
        "open_document",
    ):
        assert approval_level(name) == "auto", name
    for name in ("create_workspace", "create_project", "create_sketch", "extrude"):
        assert approval_level(name) == "notify", name
    for name in ("modify_feature", "delete_feature"):
        assert approval_level(name) == "confirm", name
    assert approval_level("set_parameter") == "confirm"
    assert approval_level("something_new") == "confirm"  # unknown: ask
    registry = default_registry()
    levels = {d.name: d.approval for d in registry.definitions()}
    assert all(levels[n] == "auto" for n in ("list_features", "render_view"))
    assert registry.approval_level("made_up") == "confirm"
    client_side = {d.name for d in registry.definitions() if d.client_side}
    assert client_side == {"open_project", "open_document"}


async def test_execute_is_async_and_never_raises() -> None:
    registry = editor_registry()
    ctx = ToolContext(user_id="alice", document=CadDocument("p"))
    sketch = await registry.execute(
        "create_sketch", {"entities": [{"kind": "circle", "radius": 5}]}, ctx
    )
    assert sketch.ok and sketch.content["sketch_id"] == "sketch1"
    extruded, _ = await asyncio.gather(
        registry.execute("extrude", {"sketch_id": "sketch1", "distance": 2}, ctx),
        asyncio.sleep(0),
    )
    assert extruded.ok and extruded.content["geometry"]["valid"] is True
    bad = await registry.execute("extrude", {"sketch_id": 3}, ctx)  # type: ignore[dict-item]
    assert not bad.ok and bad.error and bad.error.code == "invalid_arguments"
    wrong_shape = await registry.execute("extrude", ["not", "a", "dict"], ctx)  # type: ignore[arg-type]
    assert wrong_shape.error and wrong_shape.error.code == "invalid_arguments"
    assert '"error"' in bad.model_text()


async def test_a_crashing_handler_is_an_internal_error() -> None:
    from pydantic import BaseModel

    class Empty(BaseModel):
        pass

    def boom(args: Empty, ctx: ToolContext) -> dict:
        raise RuntimeError("kaput")

    registry = ToolRegistry([ToolSpec("boom", "explodes", Empty, boom)])
    result = await registry.execute("boom", {}, ToolContext(user_id="u"))
    assert not result.ok and result.error
    assert result.error.code == "internal_error" and "kaput" in result.error.message
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ToolSpec("boom", "again", Empty, boom))


def test_get_current_selection_resolves_viewer_picks() -> None:
    registry = editor_registry()
    doc = CadDocument("p")
    ctx = ToolContext(user_id="u", document=doc)
    registry.execute_sync(
        "create_sketch", {"entities": [{"kind": "rectangle", "width": 10, "height": 10}]}, ctx
    )
    registry.execute_sync("extrude", {"sketch_id": "sketch1", "distance": 4}, ctx)
    ctx.selection = [
        {"kind": "face", "type": "PLANE", "normal": [0, 0, 1], "center": [0, 0, 4]},
        {"kind": "edge", "type": "CIRCLE"},
        {"kind": "face", "colour": "red"},
    ]
    out = registry.execute_sync("get_current_selection", {}, ctx).content
    assert out["count"] == 3
    assert "not a face/edge descriptor" in out["items"][2]["error"]
    assert out["items"][0]["resolved"]["center"] == (0.0, 0.0, 4.0)
    assert "matched no edge" in out["items"][1]["error"]
