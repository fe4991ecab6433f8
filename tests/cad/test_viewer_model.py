"""``cad.tessellate.viewer_model``: the 3D view's meshes and the reference of every face and
edge, part by part, in the mesh's order (issue 23), on shapes with several bodies and with
faces and edges ocp-tessellate meshes specially (a sphere's poles, a seam)."""

from __future__ import annotations

import base64
import math

import numpy as np

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.cad.script_helpers import select
from solidtype_jupyter.cad.tessellate import viewer_model


def _decoded(buffer: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(buffer["buffer"]), dtype=buffer["dtype"])


def _parts(shapes: dict) -> list[dict]:
    found = []
    for part in shapes["parts"]:
        found += _parts(part) if "parts" in part else [part]
    return found


def box_and_ball() -> CadDocument:
    document = CadDocument("two bodies")
    document.add_feature(
        {"type": "sketch", "entities": [{"kind": "rectangle", "width": 20, "height": 10}]}
    )
    document.add_feature({"type": "extrude", "sketch": "sketch1", "distance": 5})
    # A half disc turned about its straight side: a sphere of radius 4 centred at (30, 0, 0).
    half_disc = [
        {"kind": "arc", "start": [30, -4], "mid": [34, 0], "end": [30, 4]},
        {"kind": "line", "start": [30, 4], "end": [30, -4]},
    ]
    document.add_feature({"type": "sketch", "entities": half_disc})
    document.add_feature(
        {"type": "revolve", "sketch": "sketch2", "axis_start": [30, 0], "axis_end": [30, 1]}
    )
    return document


def test_every_body_is_a_part_with_references_in_mesh_order():
    document = box_and_ball()
    assert sorted(document.bodies) == ["body1", "body2"]
    model = viewer_model(document.bodies)
    parts = {part["name"]: part for part in _parts(model["shapes"])}
    assert sorted(parts) == ["body1", "body2"]
    assert sorted(model["references"]) == sorted(part["id"] for part in parts.values())
    for name, part in parts.items():
        mesh = {key: _decoded(value) for key, value in part["shape"].items()}
        references = model["references"][part["id"]]
        assert len(references["faces"]) == len(mesh["triangles_per_face"])
        assert len(references["edges"]) == len(mesh["segments_per_edge"])
        assert {item["body"] for item in references["faces"] + references["edges"]} == {name}
        # Each reference names its face or edge again, fail-closed, in the document (but a
        # sphere's poles: degenerate edges, meshed as a point, which CadQuery never lists).
        body = document.bodies[name]
        for kind, items in (("faces", references["faces"]), ("edges", references["edges"])):
            for item in items:
                if kind == "edges" and item["length"] == 0:
                    continue
                [found] = select(body, kind, item["ref"])
                assert found.geomType() == item["type"]
    ball = model["references"][parts["body2"]["id"]]
    [sphere] = ball["faces"]
    assert sphere["type"] == "SPHERE"
    assert math.isclose(sphere["area"], 4 * math.pi * 16, rel_tol=1e-6)
    poles = [edge for edge in ball["edges"] if edge["length"] == 0]
    assert len(poles) == 2 and sorted(p["center"][1] for p in poles) == [-4.0, 4.0]
    box = model["references"][parts["body1"]["id"]]
    assert len(box["faces"]) == 6 and len(box["edges"]) == 12


def test_no_solid_no_shapes():
    document = CadDocument("sketch only")
    document.add_feature({"type": "sketch", "entities": [{"kind": "circle", "radius": 5}]})
    assert viewer_model(document.bodies) == {"shapes": None, "references": {}}
