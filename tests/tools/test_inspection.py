"""The verification tools (measure, check_interference, section, verify) on parts built through
the tool API, against closed-form answers."""

from __future__ import annotations

import base64
import math
import struct
import time
import zlib
from typing import Any

import pytest

from solidtype_jupyter.cad import CadDocument
from solidtype_jupyter.tools import ToolContext, ToolResult, editor_registry

REGISTRY = editor_registry()
INSPECTION = ("measure", "check_interference", "section", "verify")


class Part:
    """One document edited through the registry, as the agent does."""

    def __init__(self) -> None:
        self.doc = CadDocument("part")
        self.ctx = ToolContext(user_id="tester", document=self.doc)

    def raw(self, tool: str, **args: Any) -> ToolResult:
        return REGISTRY.execute_sync(tool, args, self.ctx)

    def call(self, tool: str, **args: Any) -> dict[str, Any]:
        result = self.raw(tool, **args)
        assert result.ok, f"{tool}({args}) failed: {result.error}"
        return result.content

    def error(self, tool: str, **args: Any) -> tuple[str, str]:
        result = self.raw(tool, **args)
        assert not result.ok and result.error is not None, result.content
        return result.error.code, result.error.message

    def figures(self, a: dict[str, Any], b: dict[str, Any] | None = None) -> dict[str, float]:
        out = self.call("measure", a=a, **({"b": b} if b is not None else {}))
        return {name: figure["value"] for name, figure in out["figures"].items()}

    def block(self, width: float, height: float, depth: float, at=(0.0, 0.0), new=False) -> None:
        sketch = self.call(
            "create_sketch",
            plane="XY",
            entities=[{"kind": "rectangle", "center": list(at), "width": width, "height": height}],
        )["sketch_id"]
        self.call(
            "extrude", sketch_id=sketch, distance=depth, **({"operation": "new"} if new else {})
        )

    def cylinder(self, radius: float, height: float, at=(0.0, 0.0), new=False) -> None:
        sketch = self.call(
            "create_sketch",
            plane="XY",
            entities=[{"kind": "circle", "center": list(at), "radius": radius}],
        )["sketch_id"]
        self.call(
            "extrude", sketch_id=sketch, distance=height, **({"operation": "new"} if new else {})
        )


@pytest.fixture(scope="module")
def plate() -> Part:
    """60 x 40 x 10 plate on XY (z 0..10) with a 10 mm through hole at (10, 5)."""
    part = Part()
    part.block(60, 40, 10)
    part.call("hole", face=">Z", positions=[[10, 5]], diameter=10)
    return part


# --- measure -------------------------------------------------------------------------------


def test_parallel_faces_of_a_plate(plate):
    f = plate.figures({"face": "extrude1.top"}, {"face": "extrude1.bottom"})
    assert f["plane_distance"] == pytest.approx(10)
    assert f["min_distance"] == pytest.approx(10)
    assert f["angle"] == pytest.approx(0)
    assert f["normal_angle"] == pytest.approx(180)


def test_plane_distance_differs_from_min_distance_when_the_faces_do_not_face_each_other():
    part = Part()
    part.block(10, 10, 10)  # x -5..5
    part.block(10, 10, 10, at=(20, 30), new=True)  # x 15..25, y 25..35: a gap in x and y
    f = part.figures({"body": "body1", "face": ">X"}, {"body": "body2", "face": "<X"})
    assert f["plane_distance"] == pytest.approx(10)
    assert f["min_distance"] == pytest.approx(math.hypot(10, 20))
    assert f["normal_angle"] == pytest.approx(180)
    bodies = part.figures({"body": "body1"}, {"body": "body2"})
    assert bodies["min_distance"] == pytest.approx(math.hypot(10, 20))
    assert bodies["center_distance"] == pytest.approx(math.hypot(20, 30))
    # a body's centre of mass is no point of it: no distance from it to a plane
    assert "plane_distance" not in part.figures({"body": "body1"}, {"face": "<X"})


def test_coplanar_faces_measure_as_one_plane():
    part = Part()
    part.block(60, 40, 10)
    slot = part.call(
        "create_sketch",
        face=">Z",
        entities=[{"kind": "rectangle", "width": 10, "height": 50}],
    )["sketch_id"]
    part.call("extrude", sketch_id=slot, distance=4, operation="cut")
    top = part.call("measure", a={"face": ">Z"}, b={"face": "<Z"})
    assert top["a"]["count"] == 2
    assert top["a"]["figures"]["area"]["value"] == pytest.approx(2 * 25 * 40)
    assert "2 coplanar faces" in top["a"]["figures"]["area"]["meaning"]
    assert top["figures"]["plane_distance"]["value"] == pytest.approx(10)
    floor = part.figures({"face": {"type": "PLANE", "center": [0, 0, 6]}}, {"face": ">Z"})
    assert floor["plane_distance"] == pytest.approx(4)  # the slot's depth
    code, message = part.error("measure", a={"face": "#Z"})  # the sides: not one plane
    assert code == "not_found" and "ambiguous" in message


def test_face_area_edge_length_and_the_angle_between_square_faces(plate):
    top = plate.call("measure", a={"face": ">Z"})
    assert top["a"]["type"] == "PLANE" and top["a"]["normal"] == [0, 0, 1]
    assert top["figures"]["area"]["value"] == pytest.approx(60 * 40 - math.pi * 25)
    assert top["figures"]["area"]["unit"] == "mm2"
    edge = {"type": "LINE", "center": [30, 20, 5]}
    assert plate.figures({"edge": edge})["length"] == pytest.approx(10)
    side = plate.figures({"face": ">Z"}, {"face": ">X"})
    assert side["angle"] == pytest.approx(90) and side["normal_angle"] == pytest.approx(90)
    assert plate.figures({})["volume"] == pytest.approx((2400 - math.pi * 25) * 10)


def test_hole_diameter_from_its_face_and_from_its_rim(plate):
    bore = plate.call("measure", a={"face": "%CYLINDER"})
    assert bore["a"]["hole"] is True
    assert bore["figures"]["diameter"]["value"] == pytest.approx(10)
    assert "hole" in bore["figures"]["diameter"]["meaning"]
    rim = plate.figures({"edge": {"type": "CIRCLE", "center": [10, 5, 10]}})
    assert rim["diameter"] == pytest.approx(10)
    assert rim["length"] == pytest.approx(10 * math.pi)
    # the hole's axis to a side face: the plate's half width plus the hole's offset
    to_side = plate.figures({"face": "%CYLINDER"}, {"face": "<X"})
    assert to_side["plane_distance"] == pytest.approx(40)
    assert to_side["min_distance"] == pytest.approx(35)
    assert to_side["angle"] == pytest.approx(0)  # the axis is parallel to that face
    to_top = plate.figures({"face": "%CYLINDER"}, {"face": ">Z"})
    assert to_top["angle"] == pytest.approx(90)
    # rim circle to the bottom face: the hole's depth
    depth = plate.figures({"edge": {"type": "CIRCLE", "center": [10, 5, 10]}}, {"face": "<Z"})
    assert depth["plane_distance"] == pytest.approx(10)


def test_vertices_by_coordinates_and_by_selector(plate):
    f = plate.figures({"vertex": [30, 20, 10]}, {"vertex": "<X and <Y and <Z"})
    assert f["min_distance"] == pytest.approx(math.sqrt(60**2 + 40**2 + 10**2))
    to_plane = plate.figures({"vertex": [30, 20, 10]}, {"face": "<Z"})
    assert to_plane["plane_distance"] == pytest.approx(10)
    to_axis = plate.figures({"vertex": [30, 20, 10]}, {"face": "%CYLINDER"})
    assert to_axis["axis_distance"] == pytest.approx(math.hypot(20, 15))


def test_hole_spacing_and_the_angle_between_hexagon_sides():
    part = Part()
    part.block(80, 30, 8)
    part.call("hole", face=">Z", positions=[[-15, 0], [15, 0]], diameter=6)
    left = {"face": {"type": "CYLINDER", "center": [-15, 0, 4]}}
    right = {"face": {"type": "CYLINDER", "center": [15, 0, 4]}}
    f = part.figures(left, right)
    assert f["axis_distance"] == pytest.approx(30)
    assert f["min_distance"] == pytest.approx(30 - 6)
    assert f["angle"] == pytest.approx(0)

    hexagon = Part()
    sketch = hexagon.call(
        "create_sketch", plane="XY", entities=[{"kind": "polygon", "sides": 6, "diameter": 20}]
    )["sketch_id"]
    hexagon.call("extrude", sketch_id=sketch, distance=5)
    sides = hexagon.call("find_faces", selector="#Z")["items"]  # normals square to Z
    assert len(sides) == 6
    first = sides[0]
    by_angle: dict[int, list[dict[str, Any]]] = {}
    for other in sides[1:]:
        f = hexagon.figures({"face": first["ref"]}, {"face": other["ref"]})
        by_angle.setdefault(round(f["normal_angle"]), []).append(f)
    assert sorted(by_angle) == [60, 120, 180]
    assert all(f["angle"] == pytest.approx(60) for f in by_angle[60] + by_angle[120])
    (opposite,) = by_angle[180]
    assert opposite["plane_distance"] == pytest.approx(20 * math.cos(math.pi / 6))  # across flats


def test_bad_references_are_named(plate):
    code, message = plate.error("measure", a={"face": "%CIRCLE"})
    assert code == "not_found" and message.startswith("a.face (in body1)")
    code, message = plate.error("measure", a={"face": ">Z"}, b={"edge": "%CIRCLE"})
    assert code == "not_found" and message.startswith("b.edge") and "ambiguous" in message
    assert "Candidates" in message
    code, message = plate.error("measure", a={"body": "body7"})
    assert code == "not_found" and "unknown body 'body7'" in message and "body1" in message
    code, message = plate.error("measure", a={"face": "extrude9.top"})
    assert code == "not_found" and "extrude9.top" in message and "extrude1.top" in message
    code, message = plate.error("measure", a={"vertex": [31, 20, 10]})
    assert "no vertex within 0.01 mm" in message and "[30.0, 20.0, 10.0]" in message
    code, message = plate.error("measure", a={"vertex": ">Z"})
    assert "matched 5 vertices" in message  # the top's 4 corners and the hole's seam vertex
    assert "[5.0, 5.0, 10.0]" in message
    code, message = plate.error("measure", a={"face": ">Z", "edge": "%CIRCLE"})
    assert code == "invalid_arguments" and "at most one of face, edge, vertex" in message
    code, message = plate.error("measure", a={"face": "not a selector ("})
    assert code == "not_found" and "bad face selector" in message
    code, message = Part().error("measure", a={})
    assert code == "not_found" and "no solid yet" in message


# --- check_interference --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "shared", "touching", "gap"),
    [
        ((6, 4), (10 - 6) * (10 - 4) * 10, False, 0.0),  # overlapping boxes
        ((10, 0), 0.0, True, 0.0),  # face to face
        ((10, 10), 0.0, True, 0.0),  # edge to edge
        ((13, 0), 0.0, False, 3.0),  # apart
    ],
)
def test_interference_of_two_boxes(offset, shared, touching, gap):
    part = Part()
    part.block(10, 10, 10)
    part.block(10, 10, 10, at=offset, new=True)
    out = part.call("check_interference", a="body1", b="body2")
    assert out["shared_volume"] == pytest.approx(shared, abs=1e-6)
    assert out["interferes"] is (shared > 0)
    assert out["touching"] is touching
    assert out["min_distance"] == pytest.approx(gap, abs=1e-9)


def test_interference_of_two_cylinders_is_the_lens_volume():
    part = Part()
    part.cylinder(5, 10)
    part.cylinder(5, 10, at=(6, 0), new=True)
    r, d = 5.0, 6.0
    lens = 2 * r**2 * math.acos(d / (2 * r)) - (d / 2) * math.sqrt(4 * r**2 - d**2)
    out = part.call("check_interference", a="body1", b="body2")
    assert out["shared_volume"] == pytest.approx(lens * 10, rel=1e-6)
    assert out["interferes"] is True


def test_interference_of_every_pair_and_its_errors():
    part = Part()
    part.block(10, 10, 10)
    part.block(10, 10, 10, at=(5, 0), new=True)
    part.block(10, 10, 10, at=(40, 0), new=True)
    out = part.call("check_interference")
    assert [[p["a"], p["b"]] for p in out["pairs"]] == [
        ["body1", "body2"],
        ["body1", "body3"],
        ["body2", "body3"],
    ]
    assert out["interfering"] == [["body1", "body2"]]
    assert out["pairs"][0]["shared_volume"] == pytest.approx(500)
    code, message = part.error("check_interference", a="body1")
    assert code == "invalid_arguments" and "give both bodies a and b" in message
    code, message = part.error("check_interference", a="body1", b="body1")
    assert "same body" in message
    code, message = part.error("check_interference", a="body1", b="body9")
    assert code == "not_found" and "unknown body 'body9'" in message
    single = Part()
    single.block(5, 5, 5)
    assert single.error("check_interference")[0] == "not_found"


# --- section -------------------------------------------------------------------------------


def png_pixels(result: ToolResult) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of the result's PNG (8-bit RGB, unfiltered rows)."""
    (image,) = result.images
    data = base64.b64decode(image.data_base64)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    rows = [raw[i * stride : (i + 1) * stride] for i in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def pixel(rows: list[bytes], x: int, y: int) -> tuple[int, ...]:
    return tuple(rows[y][3 * x : 3 * x + 3])


WHITE = (255, 255, 255)


def test_section_of_a_tube_across_and_along_its_axis():
    part = Part()
    sketch = part.call(
        "create_sketch",
        plane="XY",
        entities=[{"kind": "circle", "radius": 10}, {"kind": "circle", "radius": 5}],
    )["sketch_id"]
    part.call("extrude", sketch_id=sketch, distance=30)
    across = part.raw("section", plane="XY", offset=15, width=200, height=200)
    assert across.ok
    assert across.content["area"] == pytest.approx(math.pi * (10**2 - 5**2), rel=1e-6)
    assert across.content["regions"] == 1
    assert across.content["region_list"][0]["holes"] == 1
    assert across.content["in_plane"]["size"] == pytest.approx([20, 20])
    assert across.content["bbox"]["min"] == pytest.approx([-10, -10, 15])
    width, height, rows = png_pixels(across)
    assert (width, height) == (200, 200)
    assert pixel(rows, 100, 100) == WHITE  # the bore
    assert pixel(rows, 100 + 68, 100) != WHITE  # in the wall (radius 7.5 of 10, ~90 px)
    assert pixel(rows, 2, 2) == WHITE

    along = part.raw("section", plane="XZ", width=300, height=200)
    assert along.content["area"] == pytest.approx(2 * 5 * 30)  # two walls, 5 mm x 30 mm
    assert along.content["regions"] == 2
    assert along.content["plane"]["normal"] == [0, -1, 0]
    assert along.content["in_plane"]["size"] == pytest.approx([20, 30])


def test_section_of_a_cylinder_by_a_tilted_plane_and_by_a_datum_plane():
    part = Part()
    part.cylinder(10, 30)
    tilted = part.call("section", origin=[0, 0, 15], normal=[0, 1, 1])
    # an ellipse: the circle stretched by 1 / cos(45 deg) along the tilt
    assert tilted["area"] == pytest.approx(math.pi * 100 * math.sqrt(2), rel=1e-6)
    assert tilted["in_plane"]["size"] == pytest.approx([20, 20 * math.sqrt(2)])
    assert tilted["bbox"]["size"] == pytest.approx([20, 20, 20])
    part.call("datum_plane", plane="XY", offset=12)
    datum = part.call("section", datum="datum1")
    assert datum["area"] == pytest.approx(math.pi * 100, rel=1e-6)
    assert datum["plane"]["origin"] == pytest.approx([0, 0, 12])


def test_a_plane_that_misses_the_model_and_bad_planes():
    part = Part()
    part.block(10, 10, 10)
    missed = part.raw("section", plane="XY", offset=50)
    assert missed.ok and missed.content["area"] == 0 and missed.content["regions"] == 0
    assert missed.images == [] and "empty" in missed.content["note"]
    code, message = part.error("section", plane="XY", normal=[0, 0, 1])
    assert code == "invalid_arguments" and "not plane and normal" in message
    assert "zero vector" in part.error("section", normal=[0, 0, 0])[1]
    assert "origin needs a normal" in part.error("section", origin=[0, 0, 1])[1]
    code, message = part.error("section", datum="datum4")
    assert code == "not_found" and "unknown datum plane 'datum4'" in message
    assert "width" in part.error("section", width=5000)[1]


# --- verify --------------------------------------------------------------------------------


def test_verify_reports_what_holds_and_by_how_much_the_rest_misses(plate):
    volume = (2400 - math.pi * 25) * 10
    out = plate.call(
        "verify",
        checks=[
            {"kind": "volume", "expected": volume},
            {"kind": "volume", "name": "off by 1%", "expected": volume * 1.01},
            {"kind": "volume", "name": "1% allowed", "expected": volume * 1.01, "rel_tol": 0.02},
            {"kind": "area", "expected": 2 * (2400 - math.pi * 25) + 200 * 10 + math.pi * 100},
            {"kind": "bbox", "size": [60, 40, 10], "min": [-30, None, 0]},
            {"kind": "bbox", "name": "too thin", "size": [None, None, 12]},
            {"kind": "count", "of": "holes", "expected": 1},
            {"kind": "count", "of": "faces", "expected": 7},
            {"kind": "count", "of": "solids", "expected": 1},
            {"kind": "count", "of": "shells", "expected": 1},
            {
                "kind": "measure",
                "name": "wall",
                "a": {"face": "%CYLINDER"},
                "b": {"face": ">X"},
                "figure": "min_distance",
                "at_least": 12,
            },
            {
                "kind": "measure",
                "name": "too close",
                "a": {"face": "%CYLINDER"},
                "b": {"face": ">X"},
                "figure": "min_distance",
                "at_most": 10,
                "tol": 1,
            },
            {"kind": "valid"},
        ],
    )
    results = out["checks"]
    holds = [r["holds"] for r in results]
    assert holds == [
        True,
        False,
        True,
        True,
        True,
        False,
        True,
        True,
        True,
        True,
        True,
        False,
        True,
    ]
    assert out["all_hold"] is False and out["held"] == 10 and out["missed"] == 3
    off = results[1]
    assert off["deviation"] == pytest.approx(-0.01 * volume, rel=1e-6)
    assert off["relative_deviation"] == pytest.approx(-0.01 / 1.01, rel=1e-4)
    assert off["tolerance"] == pytest.approx(1e-3 * volume * 1.01, rel=1e-6)  # 0.1% default
    assert off["miss"] == pytest.approx(off["deviation"] + off["tolerance"], rel=1e-6)
    assert results[5]["size"]["deviation"] == [None, None, pytest.approx(-2)]
    assert results[6]["actual"] == 1 and "concave" in results[6]["definition"]
    assert results[10]["actual"] == pytest.approx(15) and results[10]["unit"] == "mm"
    too_close = results[11]
    assert too_close["at_most"] == 10 and too_close["tolerance"] == 1
    assert too_close["miss"] == pytest.approx(15 - 11)
    assert out["failures"] == [
        f"check 2 (off by 1%) misses: {off['actual']} mm3, expected {off['expected']} "
        f"(tolerance {off['tolerance']}; beyond it by {off['miss']})",
        "check 6 (too thin) misses: size [60.0, 40.0, 10.0] vs [null, null, 12.0] "
        "(tolerance 0.01 mm)",
        "check 12 (too close) misses: 15.0 mm, at most 10.0 (tolerance 1.0; beyond it by 4.0)",
    ]


@pytest.mark.parametrize(
    ("bounds", "holds", "tolerance", "miss"),
    [
        ({"at_least": 16, "at_most": 20, "rel_tol": 0.05}, False, 0.8, 15 - 15.2),
        ({"at_least": 15.5, "at_most": 20, "rel_tol": 0.05}, True, 1.0, None),
        ({"at_least": 10, "at_most": 14, "tol": 0.5}, False, 0.5, 15 - 14.5),
        ({"at_least": 10, "at_most": 15}, True, 0.01, None),
    ],
)
def test_bounds_take_their_own_tolerance(plate, bounds, holds, tolerance, miss):
    wall = {"a": {"face": "%CYLINDER"}, "b": {"face": ">X"}, "figure": "min_distance"}
    (result,) = plate.call("verify", checks=[{"kind": "measure", **wall, **bounds}])["checks"]
    assert result["actual"] == pytest.approx(15)
    assert result["holds"] is holds
    assert result["tolerance"] == pytest.approx(tolerance)
    assert result.get("miss") == (None if miss is None else pytest.approx(miss))


def test_hole_count_groups_counterbores_and_ignores_fillets_and_bosses():
    part = Part()
    part.block(60, 40, 10)
    part.call("hole", face=">Z", positions=[[-15, 0]], diameter=6, cbore_diameter=11, cbore_depth=3)
    part.call("hole", face=">Z", positions=[[15, 0]], diameter=5, depth=6)
    part.call("fillet", edges=["|Z"], radius=4)  # convex: outer part-cylinders
    boss = part.call(
        "create_sketch", face=">Z", entities=[{"kind": "circle", "center": [0, 12], "radius": 4}]
    )["sketch_id"]
    part.call("extrude", sketch_id=boss, distance=5)
    counted = part.call("verify", checks=[{"kind": "count", "of": "holes", "expected": 2}])
    assert counted["all_hold"] is True
    listed = part.call("measure", a={})["a"]["holes"]
    assert listed["count"] == 2
    by_x = {round(h["center"][0]): h for h in listed["list"]}
    assert by_x[-15]["diameters"] == [6, 11] and by_x[-15]["length"] == pytest.approx(10)
    assert by_x[15]["diameters"] == [5] and by_x[15]["length"] == pytest.approx(6)
    assert by_x[15]["center"] == pytest.approx([15, 0, 7])  # a blind hole 6 deep from z = 10

    bracket = Part()  # an L-shaped block with a concave fillet inside the corner
    sketch = bracket.call("create_sketch", plane="XZ")["sketch_id"]
    for start, end in [
        ((0, 0), (30, 0)),
        ((30, 0), (30, 5)),
        ((30, 5), (5, 5)),
        ((5, 5), (5, 30)),
        ((5, 30), (0, 30)),
        ((0, 30), (0, 0)),
    ]:
        bracket.call("add_line", sketch_id=sketch, start=list(start), end=list(end))
    bracket.call("extrude", sketch_id=sketch, distance=20)
    inner = bracket.call("find_edges", selector="|Y", type="LINE")["items"]
    corner = next(e for e in inner if e["center"][0] == 5 and e["center"][2] == 5)
    bracket.call("fillet", edges=[corner["ref"]], radius=3)
    assert bracket.call("measure", a={"face": "%CYLINDER"})["a"]["hole"] is True  # concave
    out = bracket.call("verify", checks=[{"kind": "count", "of": "holes", "expected": 0}])
    assert out["all_hold"] is True


def test_verify_reads_parameter_expressions_and_shared_volumes():
    part = Part()
    part.call("set_parameter", name="t", value=4)
    part.block(20, 20, "t")
    part.block(20, 20, 4, at=(10, 0), new=True)
    out = part.call(
        "verify",
        checks=[
            {"kind": "volume", "body": "body1", "expected": "20 * 20 * t"},
            {"kind": "bbox", "body": "body2", "min": [0, -10, 0], "max": [20, 10, 4]},
            {"kind": "shared_volume", "a": "body1", "b": "body2", "expected": 0},
            {"kind": "shared_volume", "a": "body1", "b": "body2", "expected": "10 * 20 * t"},
        ],
    )
    assert [c["holds"] for c in out["checks"]] == [True, True, False, True]
    assert out["checks"][2]["actual"] == pytest.approx(800)
    assert out["checks"][2]["miss"] == pytest.approx(800, rel=1e-6)


def test_a_bad_check_spoils_only_itself(plate):
    out = plate.call(
        "verify",
        checks=[
            {"kind": "measure", "a": {"face": "%SPHERE"}, "figure": "diameter", "expected": 1},
            {"kind": "measure", "a": {"face": ">Z"}, "figure": "diameter", "expected": 1},
            {"kind": "volume", "body": "body5", "expected": 1},
            {"kind": "volume", "expected": "depth * 2"},
            {"kind": "count", "of": "solids", "expected": 1},
        ],
    )
    first, second, third, fourth, fifth = out["checks"]
    assert "a.face" in first["error"]
    assert "figure 'diameter' does not exist" in second["error"] and "area" in second["error"]
    assert "unknown body 'body5'" in third["error"]
    assert "unknown parameter(s) ['depth']" in fourth["error"]
    assert fifth["holds"] is True
    assert out["errors"] == 4 and out["held"] == 1 and out["all_hold"] is False
    assert out["failures"][2].startswith("check 3 (volume) could not be evaluated: ")


@pytest.mark.parametrize(
    ("checks", "wanted"),
    [
        ([], "at least 1 item"),
        ([{"kind": "count", "of": "solids", "expected": 1}] * 51, "at most 50 items"),
        ([{"kind": "weight", "expected": 1}], "'weight'"),
        ([{"kind": "volume"}], "give expected, or at_least and/or at_most"),
        ([{"kind": "volume", "expected": 1, "at_least": 0}], "not both"),
        ([{"kind": "volume", "expected": 1, "tol": -1}], "greater than or equal to 0"),
        ([{"kind": "bbox", "size": [None, None, None]}], "at least one number"),
        ([{"kind": "count", "of": "bolts", "expected": 1}], "holes"),
        ([{"kind": "measure", "a": {}, "figure": "weight", "expected": 1}], "diameter"),
        ([{"kind": "volume", "expected": 1, "colour": "red"}], "colour"),
    ],
)
def test_verify_refuses_malformed_checks_with_the_reason(plate, checks, wanted):
    code, message = plate.error("verify", checks=checks)
    assert code == "invalid_arguments"
    assert wanted in message


def test_the_verification_tools_are_read_only_and_run_without_approval(plate):
    levels = {d.name: d.approval for d in REGISTRY.definitions()}
    assert {name: levels[name] for name in INSPECTION} == dict.fromkeys(INSPECTION, "auto")
    before = (plate.doc.revision, plate.doc.can_undo, [f.id for f in plate.doc.features])
    plate.call("measure", a={"face": ">Z"}, b={"face": "<Z"})
    plate.call("section", plane="YZ")
    plate.call("verify", checks=[{"kind": "valid"}])
    assert (plate.doc.revision, plate.doc.can_undo, [f.id for f in plate.doc.features]) == before


def test_a_sphere_measures_its_diameter_and_its_centre_to_a_plane():
    part = Part()
    sketch = part.call(
        "create_sketch",
        plane="XZ",
        entities=[
            {"kind": "line", "start": [0, -10], "end": [0, 10]},
            {"kind": "arc", "start": [0, 10], "mid": [10, 0], "end": [0, -10]},
        ],
    )["sketch_id"]
    part.call("revolve", sketch_id=sketch)
    part.block(10, 10, 5, at=(30, 0), new=True)  # z 0..5
    ball = part.call("measure", a={"body": "body1", "face": "%SPHERE"})
    assert ball["figures"]["diameter"]["value"] == pytest.approx(20)
    assert ball["a"]["center"] == pytest.approx([0, 0, 0])
    to_top = part.figures({"body": "body1", "face": "%SPHERE"}, {"body": "body2", "face": ">Z"})
    assert to_top["plane_distance"] == pytest.approx(5)  # from the ball's centre
    assert to_top["min_distance"] == pytest.approx(math.hypot(25, 5) - 10)
    assert part.figures({"body": "body1"})["volume"] == pytest.approx(4 / 3 * math.pi * 1000)


def test_overlapping_bodies_make_one_section_region_counted_once():
    part = Part()
    part.block(10, 10, 10)
    part.block(10, 10, 10, at=(5, 0), new=True)
    part.block(10, 10, 10, at=(30, 0), new=True)
    cut = part.call("section", plane="XY", offset=5)
    assert cut["area"] == pytest.approx(15 * 10 + 10 * 10)
    assert cut["regions"] == 2
    assert cut["in_plane"]["size"] == pytest.approx([40, 10])
    only = part.call("section", plane="XY", offset=5, body="body2")
    assert only["area"] == pytest.approx(100) and only["regions"] == 1


def test_verify_measures_of_a_holed_body_do_not_list_its_holes_each_time():
    # a body reference used to list the body's holes on every measure check (about 7 ms a
    # hole): 50 checks on a plate with 300 holes took minutes; verify names no hole figure
    part = Part()
    part.block(200, 200, 5)
    part.call("hole", face=">Z", positions=[[-95, -95]], diameter=2)
    grid = {"kind": "rectangular", "count": 20, "count2": 15, "spacing": 10, "spacing2": 10}
    part.call("pattern", source="hole1", **grid)
    started = time.monotonic()
    check = {"kind": "measure", "a": {"body": "body1"}, "figure": "volume", "expected": 1}
    out = part.call("verify", checks=[check] * 50)
    assert time.monotonic() - started < 30
    assert out["missed"] == 50
    assert part.call("measure", a={"body": "body1"})["a"]["holes"]["count"] == 300


def test_section_offsets_and_bbox_checks_take_parameter_expressions():
    # every other number of the tools may name parameters; these two refused 'h / 2'
    part = Part()
    part.call("set_parameter", name="h", value=30)
    sketch = part.call(
        "create_sketch", entities=[{"kind": "rectangle", "width": 20, "height": 10}]
    )["sketch_id"]
    part.call("extrude", sketch_id=sketch, distance="h")
    cut = part.call("section", plane="XY", offset="h / 2")
    assert cut["plane"]["origin"] == [0, 0, 15]
    assert cut["area"] == pytest.approx(200)
    out = part.call(
        "verify",
        checks=[{"kind": "bbox", "size": [20, 10, "h"], "max": [None, None, "h - 1"]}],
    )
    assert out["checks"][0]["size"]["expected"] == [20, 10, 30]
    assert out["failures"] == [
        "check 1 (bbox) misses: size [20.0, 10.0, 30.0] vs [20.0, 10.0, 30.0]; "
        "max [10.0, 5.0, 30.0] vs [null, null, 29.0] (tolerance 0.01 mm)"
    ]
    code, message = part.error("section", plane="XY", offset="depth / 2")
    assert code == "invalid_arguments" and "unknown parameter" in message
