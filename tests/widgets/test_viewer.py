"""The viewer picture: the agent's selection read from tool calls, drawn in its colour."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from solidtype_jupyter.cad import CadDocument, Extrude, Rectangle, Sketch
from solidtype_jupyter.widgets.viewer import (
    Selection,
    render_selection,
    resolve,
    selection_of_call,
)


@pytest.fixture
def plate() -> CadDocument:
    document = CadDocument("plate")
    document.add_feature(
        Sketch(id="sketch1", plane="XY", entities=[Rectangle(width=60, height=40)])
    )
    document.add_feature(Extrude(id="extrude1", sketch="sketch1", distance=8))
    return document


def test_selection_from_find_results() -> None:
    result = {
        "body": "body1",
        "count": 1,
        "items": [{"ref": {"type": "PLANE", "center": [0, 0, 8]}}],
    }
    selection = selection_of_call("find_faces", "{}", json.dumps(result))
    assert selection == Selection("faces", ({"type": "PLANE", "center": [0, 0, 8]},), "body1")
    assert selection_of_call("find_edges", "{}", json.dumps({"items": []})) is None
    assert selection_of_call("find_edges", "{}", "not json") is None


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("fillet", {"edges": ["|Z"], "radius": 3}, Selection("edges", ("|Z",))),
        ("hole", {"face": ">Z", "diameter": 5}, Selection("faces", (">Z",))),
        ("shell", {"faces": [">Z"], "thickness": 1}, Selection("faces", (">Z",))),
        ("extrude", {"sketch_id": "sketch1", "distance": 8}, None),
        ("fillet", {"edges": []}, None),
    ],
)
def test_selection_from_arguments(name: str, arguments: dict[str, Any], expected: Any) -> None:
    assert selection_of_call(name, json.dumps(arguments), "{}") == expected


def test_unresolvable_references_are_skipped(plate: CadDocument) -> None:
    selection = Selection(
        "edges", ("|Z", "not a selector((", {"type": "CIRCLE", "center": [0, 0, 0]})
    )
    assert len(resolve(plate, selection)) == 4
    assert resolve(CadDocument("empty"), selection) == []


def test_selected_edges_are_drawn_in_the_agent_colour(plate: CadDocument) -> None:
    shapes = resolve(plate, Selection("faces", (">Z",)))
    png = render_selection(plate, shapes, "faces", width=320, height=240)
    pink = sum(
        1
        for r, g, b in Image.open(io.BytesIO(png)).convert("RGB").getdata()
        if r > 120 and b > 60 and g < 80
    )
    plain = Image.open(io.BytesIO(plate.render("iso", 320, 240))).convert("RGB").getdata()
    assert pink > 2000  # the top face
    assert sum(1 for r, g, b in plain if r > 120 and b > 60 and g < 80) == 0
