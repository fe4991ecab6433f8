"""Errors and notes the model reads when a call does not do what it meant: an unknown argument
names the valid ones, a misspelt `modify_feature` field lists the feature's fields, and a
parameter no feature uses says so and how to use it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.cad.feature_set import FEATURE_TYPES
from solidtype_jupyter.cad.features import Circle, Descriptor
from solidtype_jupyter.llm.tool_executor import ToolBox
from solidtype_jupyter.tools import ToolContext, ToolRegistry, default_registry, editor_registry

REGISTRY = default_registry()


def call(registry: ToolRegistry, doc: CadDocument | None, tool: str, args: dict[str, Any]) -> Any:
    return registry.execute_sync(tool, args, ToolContext(user_id="u", document=doc))


def ok(registry: ToolRegistry, doc: CadDocument, tool: str, args: dict[str, Any]) -> Any:
    result = call(registry, doc, tool, args)
    assert result.ok, result.model_text()
    return result.content


def plate(registry: ToolRegistry) -> CadDocument:
    doc = CadDocument("plate")
    ok(
        registry,
        doc,
        "create_sketch",
        {"entities": [{"kind": "rectangle", "width": 40, "height": 20}]},
    )
    ok(registry, doc, "extrude", {"sketch_id": "sketch1", "distance": 5})
    return doc


def error_of(result: Any) -> str:
    assert not result.ok
    assert result.error.code == "invalid_arguments", result.model_text()
    return str(result.error.message)


# --- unknown arguments, for every tool ---------------------------------------------------


@pytest.mark.parametrize("tool", REGISTRY.names())
def test_an_unknown_argument_names_the_valid_ones(tool: str) -> None:
    fields = list(REGISTRY.spec(tool).args.model_fields)
    message = error_of(call(REGISTRY, None, tool, {"zzz_not_an_argument": 1}))
    assert "unknown argument 'zzz_not_an_argument'" in message
    assert message.endswith("valid: " + (", ".join(fields) or "none")), message
    assert "did you mean" not in message  # nothing is close to it


@pytest.mark.parametrize(
    "tool", [n for n in REGISTRY.names() if REGISTRY.spec(n).args.model_fields]
)
def test_a_misspelt_argument_gets_the_closest_name(tool: str) -> None:
    fields = list(REGISTRY.spec(tool).args.model_fields)
    longest = max(fields, key=len)
    typo = longest + "x"
    message = error_of(call(REGISTRY, None, tool, {typo: 1}))
    assert f"unknown argument {typo!r} (did you mean {longest!r}?)" in message, message


def test_a_misspelt_nested_argument_names_that_object_s_fields() -> None:
    registry = editor_registry()
    message = error_of(call(registry, None, "hole", {"diameter": 3, "face": {"typ": "PLANE"}}))
    assert "face.Descriptor.typ: unknown argument 'typ' (did you mean 'type'?)" in message
    assert "valid: " + ", ".join(Descriptor.model_fields) in message
    message = error_of(
        call(registry, None, "create_sketch", {"entities": [{"kind": "circle", "radiu": 3}]})
    )
    assert "entities.0.circle.radiu: unknown argument 'radiu' (did you mean 'radius'?)" in message
    assert "valid: " + ", ".join(Circle.model_fields) in message


# --- modify_feature ----------------------------------------------------------------------


def test_a_misspelt_feature_field_lists_the_feature_s_fields() -> None:
    registry = editor_registry()
    doc = plate(registry)
    revision = doc.revision
    message = error_of(
        call(
            registry, doc, "modify_feature", {"feature_id": "extrude1", "changes": {"distanse": 8}}
        )
    )
    fields = [f for f in FEATURE_TYPES["extrude"].model_fields if f not in ("id", "type")]
    assert "extrude1 is a feature of type extrude" in message
    assert "no field 'distanse' (did you mean 'distance'?)" in message
    assert message.endswith("valid: " + ", ".join(fields)), message
    assert "Extra inputs" not in message
    assert doc.revision == revision  # nothing changed


def test_a_misspelt_field_inside_a_changed_value_is_named_too() -> None:
    registry = editor_registry()
    doc = plate(registry)
    changes = {"entities": [{"kind": "circle", "radius": 3, "centre": [0, 0]}]}
    message = error_of(
        call(registry, doc, "modify_feature", {"feature_id": "sketch1", "changes": changes})
    )
    assert "changes to sketch1: entities.0.circle.centre: unknown field 'centre'" in message
    assert "(did you mean 'center'?)" in message
    assert "valid: " + ", ".join(Circle.model_fields) in message


def test_valid_changes_still_apply_sketch_id_included() -> None:
    registry = editor_registry()
    doc = CadDocument("disc")
    ok(
        registry,
        doc,
        "create_sketch",
        {"entities": [{"kind": "rectangle", "width": 4, "height": 2}]},
    )
    ok(registry, doc, "create_sketch", {"entities": [{"kind": "circle", "radius": 5}]})
    ok(registry, doc, "extrude", {"sketch_id": "sketch1", "distance": 5})
    content = ok(
        registry,
        doc,
        "modify_feature",
        {"feature_id": "extrude1", "changes": {"sketch_id": "sketch2", "distance": 10}},
    )
    assert content["feature"]["sketch"] == "sketch2"
    assert content["geometry"]["volume"] == pytest.approx(math.pi * 5**2 * 10, rel=1e-6)


# --- set_parameter -----------------------------------------------------------------------


def test_a_parameter_no_feature_uses_says_so_and_how_to_use_it() -> None:
    registry = editor_registry()
    doc = plate(registry)
    content = ok(registry, doc, "set_parameter", {"name": "thickness", "value": 8})
    assert content["used_by"] == [] and content["rebuilt"] == []
    note = content["note"]
    assert "no feature uses parameter 'thickness'" in note
    assert "modify_feature" in note and '"distance": "thickness"' in note and "/ 2" in note
    assert content["geometry"]["volume"] == pytest.approx(40 * 20 * 5)

    # following the note: the feature uses it, and the next change rebuilds it with no note
    ok(
        registry,
        doc,
        "modify_feature",
        {"feature_id": "extrude1", "changes": {"distance": "thickness"}},
    )
    content = ok(registry, doc, "set_parameter", {"name": "thickness", "value": 6})
    assert "note" not in content
    assert content["used_by"] == ["extrude1"] and content["rebuilt"] == ["extrude1"]
    assert content["geometry"]["volume"] == pytest.approx(40 * 20 * 6)


def test_a_parameter_used_inside_an_expression_or_a_point_counts_as_used() -> None:
    registry = editor_registry()
    doc = plate(registry)
    ok(registry, doc, "set_parameter", {"name": "offset_x", "value": 5})
    ok(registry, doc, "create_sketch", {"plane": "XY", "offset": 5})
    ok(
        registry,
        doc,
        "add_circle",
        {"sketch_id": "sketch2", "center": ["offset_x * 2", 0], "radius": 2},
    )
    content = ok(registry, doc, "set_parameter", {"name": "offset_x", "value": 4})
    assert content["used_by"] == ["sketch2"]
    assert "note" not in content
    content = ok(registry, doc, "set_parameter", {"name": "unused_one", "value": 1})
    assert content["used_by"] == [] and "note" in content


# --- the agent loop's own schema check says the same ---------------------------------------


def test_the_loop_s_schema_check_names_valid_arguments_too() -> None:
    """The loop checks arguments against the JSON Schema before the registry sees them."""
    box = ToolBox(editor_registry())
    fields = sorted(REGISTRY.spec("hole").args.model_fields)
    error = json.loads(box.check("hole", {"diameter": 3, "dept": 3}).error or "{}")
    assert error["problems"] == [
        "(root): unknown property 'dept' (did you mean 'depth'?); valid: " + ", ".join(fields)
    ]
    # inside a union, the branch the value was meant for (not "valid under no schema")
    error = json.loads(box.check("hole", {"diameter": 3, "face": {"typ": "PLANE"}}).error or "{}")
    assert error["problems"] == [
        "face: unknown property 'typ' (did you mean 'type'?); valid: "
        + ", ".join(sorted(Descriptor.model_fields))
    ]
    entity = {"kind": "circle", "radiuss": 3}
    error = json.loads(box.check("create_sketch", {"entities": [entity]}).error or "{}")
    assert "entities/0: 'radius' is a required property" in error["problems"]
    assert (
        "entities/0: unknown property 'radiuss' (did you mean 'radius'?); valid: "
        + ", ".join(sorted(Circle.model_fields))
    ) in error["problems"]
    error = json.loads(box.check("undo", {"x": 1}).error or "{}")
    assert error["problems"] == ["(root): unknown property 'x'; valid: none"]


def test_the_unused_parameter_note_gives_a_change_the_example_feature_accepts() -> None:
    # after a sweep (no 'distance' field) the note's example was {"distance": ...} on sweep1,
    # which modify_feature then refused; it names a feature type with a plain numeric field
    registry = editor_registry()
    doc = CadDocument("spring")
    circle = {"kind": "circle", "center": [10, 0], "radius": 1}
    ok(registry, doc, "create_sketch", {"plane": "XZ", "entities": [circle]})
    helix = {"pitch": 5, "turns": 3, "radius": 10}
    ok(registry, doc, "sweep", {"sketch_id": "sketch1", "helix": helix})
    ok(registry, doc, "datum_plane", {"plane": "XY", "offset": 4})
    note = ok(registry, doc, "set_parameter", {"name": "lift", "value": 8})["note"]
    assert '{"feature_id": "datum1", "changes": {"offset": "lift"}}' in note
    ok(registry, doc, "modify_feature", {"feature_id": "datum1", "changes": {"offset": "lift"}})
    assert doc.result.steps[-1].planes["datum1"][0] == (0, 0, 8)
