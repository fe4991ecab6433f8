"""Bad tool input: a clear error the model can act on, and the document exactly as it was.

`Session.refused` compares the saved JSON, the full Yjs update, the state vector, the undo
stack and the volume before and after every refused call.
"""

from __future__ import annotations

import pytest

from .conftest import Session


@pytest.fixture
def plate() -> Session:
    s = Session("plate")
    s.call("set_parameter", name="thickness", value=8)
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 60, "height": 40}])
    s.call("extrude", sketch_id="sketch1", distance="thickness")
    s.call("hole", positions=[[20, 10], [-20, 10]], diameter=5)
    return s


def test_unknown_feature_ids(plate: Session) -> None:
    msg = plate.refused("modify_feature", feature_id="fillet9", changes={"radius": 1})
    assert "unknown feature id 'fillet9'" in msg and "sketch1, extrude1, hole1" in msg
    msg = plate.refused("delete_feature", feature_id="nope1")
    assert "unknown feature id 'nope1'" in msg
    msg = plate.refused("extrude", sketch_id="sketch7", distance=3)
    assert "unknown sketch 'sketch7'" in msg and "sketch1" in msg
    msg = plate.refused("add_line", sketch_id="extrude1", start=[0, 0], end=[1, 1])
    assert "not a sketch" in msg
    msg = plate.refused("pattern", source="sketch1", kind="linear", count=3)
    assert "cannot pattern 'sketch1'" in msg
    msg = plate.refused("fillet", edges=["|Z"], radius=1, body="body7")
    assert "unknown body 'body7'" in msg


def test_impossible_fillets_and_chamfers(plate: Session) -> None:
    msg = plate.refused("fillet", edges=["|Z"], radius=25)
    assert "fillet" in msg and "radius" in msg
    msg = plate.refused("chamfer", edges=[">Z"], distance=30)
    assert "chamfer" in msg
    msg = plate.refused("shell", faces=[">Z"], thickness=30)
    assert "shell" in msg


def test_open_profiles(plate: Session) -> None:
    plate.call("create_sketch", face="extrude1.top")
    plate.call("add_line", sketch_id="sketch2", start=[0, 0], end=[10, 0])
    out = plate.call("add_line", sketch_id="sketch2", start=[10, 0], end=[10, 5])
    assert "ends at (10, 5)" in out["open_chain"]
    msg = plate.refused("extrude", sketch_id="sketch2", distance=2)
    assert "open profile" in msg and "(10, 5)" in msg
    msg = plate.refused("revolve", sketch_id="sketch2")
    assert "open profile" in msg
    plate.call("create_sketch")
    msg = plate.refused("extrude", sketch_id="sketch3", distance=2)
    assert "no closed profile" in msg


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("extrude", {"sketch_id": "sketch1", "distance": 0}, "distance must be greater than 0"),
        ("extrude", {"sketch_id": "sketch1", "distance": -5}, "distance must be greater than 0"),
        ("fillet", {"edges": ["|Z"], "radius": 0}, "radius must be greater than 0"),
        ("chamfer", {"edges": ["|Z"], "distance": -1}, "distance must be greater than 0"),
        ("hole", {"diameter": 0}, "diameter must be greater than 0"),
        ("hole", {"diameter": 5, "depth": -2}, "depth must be greater than 0"),
        ("hole", {"diameter": 8, "cbore_diameter": 6, "cbore_depth": 2}, "must exceed"),
        ("shell", {"thickness": 0}, "thickness must be greater than 0"),
        ("revolve", {"sketch_id": "sketch1", "angle": 400}, "at most 360"),
        ("pattern", {"source": "hole1", "kind": "linear", "count": 3, "spacing": 0}, "spacing"),
    ],
)
def test_zero_and_negative_sizes(plate: Session, tool: str, args: dict, needle: str) -> None:
    assert needle in plate.refused(tool, **args)


def test_hole_positions_must_be_on_the_face(plate: Session) -> None:
    msg = plate.refused("hole", positions=[[0, 0], [100, 0]], diameter=3)
    assert "hole position (100, 0) is not on the face" in msg
    msg = plate.refused("hole", positions=[[20, 10]], diameter=3)  # inside hole1
    assert "(20, 10) is not on the face" in msg


def test_zero_sized_sketch_entities(plate: Session) -> None:
    plate.call("create_sketch")
    assert "radius must be greater than 0" in plate.refused(
        "add_circle", sketch_id="sketch2", radius=0
    )
    assert "width must be greater than 0" in plate.refused(
        "add_rectangle", sketch_id="sketch2", width=-3, height=2
    )
    assert "zero length" in plate.refused("add_line", sketch_id="sketch2", start=[1, 1], end=[1, 1])


def test_parameter_that_breaks_a_feature_is_refused(plate: Session) -> None:
    assert "distance must be greater than 0" in plate.refused(
        "set_parameter", name="thickness", value=0
    )
    assert plate.doc.parameters == {"thickness": 8}


def test_ambiguous_and_empty_selectors_list_candidates(plate: Session) -> None:
    msg = plate.refused("hole", face="%PLANE", diameter=3)
    assert "ambiguous" in msg and "matched 6 faces" in msg
    assert "'normal': (0.0, 0.0, 1.0)" in msg  # the candidates, with their descriptors
    msg = plate.refused("fillet", edges=[{"type": "LINE", "direction": [0, 0, 1]}], radius=1)
    assert "ambiguous" in msg and "matched 6 edges" in msg  # 4 corners + 2 hole seams
    msg = plate.refused("fillet", edges=[{"type": "CIRCLE", "radius": 7}], radius=1)
    assert "matched no edge" in msg and "Candidates" in msg
    msg = plate.refused("chamfer", edges=["%BSPLINE"], distance=1)
    assert "matched no edge" in msg
    msg = plate.refused("chamfer", edges=["%SPLINE"], distance=1)
    assert "bad edge selector '%SPLINE': not a CadQuery selector" in msg
    msg = plate.refused("hole", face="extrude9.top", diameter=2)
    assert "unknown feature-relative reference" in msg


def test_invalid_arguments_are_tool_errors(plate: Session) -> None:
    result = plate.raw("extrude", distance=3)
    assert not result.ok and result.error and result.error.code == "invalid_arguments"
    assert "sketch_id" in result.error.message
    result = plate.raw("extrude", sketch_id="sketch1", distance=3, colour="red")
    assert result.error and "colour" in result.error.message
    result = plate.raw("no_such_tool")
    assert result.error and result.error.code == "unknown_tool"
    result = plate.raw("render_view", view="sideways")
    assert result.error and result.error.code == "invalid_arguments"


def test_expressions_are_arithmetic_only(plate: Session) -> None:
    msg = plate.refused("extrude", sketch_id="sketch1", distance="__import__('os').getcwd()")
    assert "only use numbers" in msg
    msg = plate.refused("extrude", sketch_id="sketch1", distance="width * 2")
    assert "unknown parameter" in msg and "thickness" in msg
    msg = plate.refused("set_parameter", name="body1", value=3)
    assert "reserved" in msg
    msg = plate.refused("set_parameter", name="not valid", value=3)
    assert "not a valid identifier" in msg


def test_delete_in_use_and_everything_removed(plate: Session) -> None:
    msg = plate.refused("delete_feature", feature_id="sketch1")
    assert "used by extrude1" in msg
    msg = plate.refused("delete_feature", feature_id="extrude1")
    assert "hole1" in msg
    plate.call("create_sketch", entities=[{"kind": "rectangle", "width": 100, "height": 100}])
    msg = plate.refused(
        "extrude", sketch_id="sketch2", distance=50, operation="cut", direction="symmetric"
    )
    assert "without any solid" in msg


def test_undo_with_nothing_to_undo_is_an_error() -> None:
    s = Session()
    assert "nothing to undo" in s.refused("undo")
    assert "nothing to redo" in s.refused("redo")


def test_editor_tools_need_a_document() -> None:
    s = Session()
    s.ctx.document = None
    result = s.raw("get_geometry")
    assert result.error and result.error.code == "no_document"


def test_nothing_reaches_the_generated_code_unchecked(plate: Session, tmp_path) -> None:
    """Every string that ends up in the script is validated, quoted or canonicalised."""
    msg = plate.refused(
        "extrude", sketch_id="sketch1", distance=2, operation="new", body="x = 1\nimport os"
    )
    assert "body" in msg and "pattern" in msg
    msg = plate.refused("boolean", body="body1", tools=["__import__('os')"], operation="union")
    assert "pattern" in msg
    # a comment inside an expression cannot swallow the rest of the generated line
    plate.call("modify_feature", feature_id="extrude1", changes={"distance": "thickness # x"})
    plate.call(
        "create_sketch",
        name="evil\nimport os; os.remove('x')",
        entities=[{"kind": "circle", "radius": 1}],
    )
    script = plate.doc.to_script()
    lines = [line.strip() for line in script.splitlines()]
    assert not any(line.startswith("import os") for line in lines)
    assert "extrude(thickness, combine=False)" in script
    plate.doc.rename("name\n\nimport os")
    lines = [line.strip() for line in plate.doc.to_script().splitlines()]
    assert not any(line.startswith("import os") for line in lines)


def test_a_sketch_holds_at_most_two_hundred_entities(plate: Session) -> None:
    circles = [{"kind": "circle", "center": [0, 0], "radius": 1}] * 201
    message = plate.refused("create_sketch", entities=circles)
    assert "200" in message
    result = plate.raw("create_sketch", entities=circles[:199])
    assert result.ok, result.error  # the largest sketch allowed builds
    plate.call("add_circle", sketch_id="sketch2", radius=1)
    message = plate.refused("add_circle", sketch_id="sketch2", radius=1)
    assert "200" in message
