"""The viewer picture: the agent's selection read from tool calls, drawn in its colour."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.widgets.viewer import (
    Selection,
    render_selection,
    resolve,
    selection_of_call,
)


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


def pink_pixels(png: bytes) -> int:
    data = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    return sum(
        1 for i in range(0, len(data), 3) if data[i] > 120 and data[i + 2] > 60 and data[i + 1] < 80
    )


def test_a_selected_face_is_drawn_in_the_agent_colour(plate: CadDocument) -> None:
    shapes = resolve(plate, Selection("faces", (">Z",)))
    assert pink_pixels(render_selection(plate, shapes, "faces", width=320, height=240)) > 2000
    assert pink_pixels(plate.render("iso", 320, 240)) == 0
