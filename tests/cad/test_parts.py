"""Geometry suite: parts built through the tool API only, checked against independent values.

Expected figures come from closed-form formulas or from a hand-written CadQuery script in
the test; `to_script()` of every part is then run in one fresh interpreter and must
rebuild the same volume.
"""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from .conftest import Session
from .parts import Expect, Part, all_part_names, part_tests

PI = math.pi


def _plate(s: Session, w: float, h: float, t: float) -> None:
    s.call("create_sketch", plane="XY", entities=[{"kind": "rectangle", "width": w, "height": h}])
    s.call("extrude", sketch_id="sketch1", distance=t)


# --- the parts -------------------------------------------------------------------------


def plate(s: Session) -> Expect:
    _plate(s, 60, 40, 8)
    return Expect(19200, 6400, 6, (-30, -20, 0, 30, 20, 8))


def plate_four_holes(s: Session) -> Expect:
    _plate(s, 60, 40, 8)
    pts = [[20, 12], [-20, 12], [20, -12], [-20, -12]]
    s.call("hole", face=">Z", positions=pts, diameter=5)
    r = 2.5
    return Expect(19200 - 4 * PI * r * r * 8, 6400 - 8 * PI * r * r + 4 * 2 * PI * r * 8, 10)


def plate_hole_grid(s: Session) -> Expect:
    _plate(s, 100, 60, 5)
    pts = [[x, y] for x in (-40, -20, 0, 20, 40) for y in (-20, 0, 20)]
    s.call("hole", positions=pts, diameter=4)
    return Expect(30000 - 15 * PI * 4 * 5, 13600 - 30 * PI * 4 + 15 * 2 * PI * 2 * 5, 21)


def plate_linear_hole_pattern(s: Session) -> Expect:
    _plate(s, 100, 40, 6)
    s.call("hole", positions=[[-40, 0]], diameter=6)
    out = s.call("pattern", source="hole1", kind="linear", count=5, spacing=20)
    assert out["geometry"]["faces"] == 11
    return Expect(24000 - 5 * PI * 9 * 6, faces=11, bbox=(-50, -20, 0, 50, 20, 6))


def flange_bolt_circle(s: Session) -> Expect:
    s.call(
        "create_sketch",
        entities=[{"kind": "circle", "radius": 50}, {"kind": "circle", "radius": 15}],
    )
    s.call("extrude", sketch_id="sketch1", distance=10)
    s.call("hole", face=">Z", positions=[[35, 0]], diameter=8)
    s.call("pattern", source="hole1", kind="circular", count=6)
    area = (
        2 * PI * (2500 - 225)
        - 12 * PI * 16
        + 2 * PI * 50 * 10
        + 2 * PI * 15 * 10
        + 6 * 2 * PI * 4 * 10
    )
    return Expect(PI * (2500 - 225) * 10 - 6 * PI * 16 * 10, area, 10, (-50, -50, 0, 50, 50, 10))


def counterbored_block(s: Session) -> Expect:
    _plate(s, 40, 40, 20)
    s.call("hole", diameter=6, cbore_diameter=12, cbore_depth=5)
    volume = 32000 - PI * 9 * 15 - PI * 36 * 5
    area = 6400 - PI * 36 - PI * 9 + PI * 27 + 2 * PI * 3 * 15 + 2 * PI * 6 * 5
    return Expect(volume, area, 9)


def blind_hole(s: Session) -> Expect:
    _plate(s, 30, 30, 10)
    s.call("hole", diameter=8, depth=6)
    return Expect(9000 - PI * 16 * 6, 3000 + 2 * PI * 4 * 6, 8)


_L_PROFILE = [(0, 0), (50, 0), (50, 5), (5, 5), (5, 40), (0, 40)]


def _l_bracket(s: Session) -> None:
    s.call("create_sketch", plane="XZ")
    for a, b in zip(_L_PROFILE, _L_PROFILE[1:] + _L_PROFILE[:1], strict=True):
        s.call("add_line", sketch_id="sketch1", start=list(a), end=list(b))
    s.call("extrude", sketch_id="sketch1", distance=30, direction="symmetric")


def l_bracket(s: Session) -> Expect:
    _l_bracket(s)
    area = 2 * 425 + 30 * (50 + 5 + 45 + 35 + 5 + 40)
    return Expect(425 * 30, area, 8, (0, -15, 0, 50, 15, 40))


def l_bracket_with_holes(s: Session) -> Expect:
    _l_bracket(s)
    leg_top = {"type": "PLANE", "normal": [0, 0, 1], "center": [27.5, 0, 5]}
    s.call("hole", face=leg_top, positions=[[0, 0], [12, 0]], diameter=6)
    s.call("hole", face="<X", diameter=6)
    return Expect(425 * 30 - 3 * PI * 9 * 5, faces=11, bbox=(0, -15, 0, 50, 15, 40))


def flange_with_hub(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 40}])
    s.call("extrude", sketch_id="sketch1", distance=8)
    s.call("create_sketch", face="extrude1.top", entities=[{"kind": "circle", "radius": 15}])
    s.call("extrude", sketch_id="sketch2", distance=12)
    s.call("hole", face=">Z", diameter=10)
    volume = PI * 1600 * 8 + PI * 225 * 12 - PI * 25 * 20
    area = (
        PI * (1600 - 25)  # bottom
        + 2 * PI * 40 * 8
        + PI * (1600 - 225)
        + 2 * PI * 15 * 12
        + PI * (225 - 25)
        + 2 * PI * 5 * 20
    )
    return Expect(volume, area, 6, (-40, -40, 0, 40, 40, 20))


_SHAFT = [(0, 0), (10, 0), (10, 30), (6, 30), (6, 50), (0, 50)]


def stepped_shaft(s: Session) -> Expect:
    s.call("create_sketch", plane="XY")
    for a, b in zip(_SHAFT, _SHAFT[1:] + _SHAFT[:1], strict=True):
        s.call("add_line", sketch_id="sketch1", start=list(a), end=list(b))
    s.call("revolve", sketch_id="sketch1")
    volume = PI * 100 * 30 + PI * 36 * 20
    area = PI * 100 + 2 * PI * 10 * 30 + PI * (100 - 36) + 2 * PI * 6 * 20 + PI * 36
    reference = cq.Workplane("XY").polyline(_SHAFT).close().revolve(360, (0, 0, 0), (0, 1, 0))
    return Expect(volume, area, bbox=(-10, 0, -10, 10, 50, 10), reference=reference)


def half_revolve(s: Session) -> Expect:
    s.call(
        "create_sketch",
        entities=[{"kind": "rectangle", "center": [5, 10], "width": 10, "height": 20}],
    )
    s.call("revolve", sketch_id="sketch1", angle=180)
    return Expect(PI * 100 * 20 / 2, PI * 100 + 2 * 200 + PI * 10 * 20)


def sphere_by_arc(s: Session) -> Expect:
    s.call("create_sketch")
    s.call("add_line", sketch_id="sketch1", start=[0, -10], end=[0, 10])
    s.call("add_arc", sketch_id="sketch1", start=[0, 10], mid=[10, 0], end=[0, -10])
    s.call("revolve", sketch_id="sketch1")
    return Expect(4 / 3 * PI * 1000, 4 * PI * 100, bbox=(-10, -10, -10, 10, 10, 10))


def open_shelled_box(s: Session) -> Expect:
    _plate(s, 40, 30, 20)
    s.call("shell", faces=[">Z"], thickness=2)
    return Expect(24000 - 36 * 26 * 18, 7432, 11, (-20, -15, 0, 20, 15, 20))


def closed_hollow_box(s: Session) -> Expect:
    _plate(s, 40, 30, 20)
    s.call("shell", thickness=2)
    return Expect(24000 - 36 * 26 * 16, 5200 + 3856, 12, shells=2)  # the void is the point


def filleted_block(s: Session) -> Expect:
    _plate(s, 40, 30, 10)
    s.call("fillet", edges=["|Z"], radius=5)
    corner = 25 - 25 * PI / 4
    return Expect(12000 - 4 * corner * 10, 2 * (1200 - 4 * corner) + 1000 + 2 * PI * 5 * 10, 10)


def fully_rounded_block(s: Session) -> Expect:
    _plate(s, 40, 30, 20)
    s.call("fillet", edges=["|Z", "|X", "|Y"], radius=3)
    ref = cq.Workplane("XY").box(40, 30, 20, centered=(True, True, False)).edges().fillet(3)
    return Expect(faces=26, reference=ref)


def top_edges_by_feature_name(s: Session) -> Expect:
    _plate(s, 40, 30, 10)
    s.call("hole", diameter=6)  # the top face now has a circular edge too
    s.call("fillet", edges=["extrude1.top"], radius=1)
    ref = (
        cq.Workplane("XY")
        .box(40, 30, 10, centered=(True, True, False))
        .faces(">Z")
        .workplane()
        .hole(6)
        .faces(">Z")
        .edges()
        .fillet(1)
    )
    return Expect(faces=len(ref.val().Faces()), reference=ref)


def chamfered_corners(s: Session) -> Expect:
    _plate(s, 40, 30, 10)
    s.call("chamfer", edges=["|Z"], distance=4)
    area = 2 * (1200 - 4 * 8) + 2 * 32 * 10 + 2 * 22 * 10 + 4 * 4 * math.sqrt(2) * 10
    return Expect(12000 - 4 * 8 * 10, area, 10)


def chamfered_top(s: Session) -> Expect:
    _plate(s, 40, 30, 10)
    s.call("chamfer", edges=[">Z"], distance=2)
    ref = cq.Workplane("XY").box(40, 30, 10, centered=(True, True, False)).edges(">Z").chamfer(2)
    return Expect(faces=10, reference=ref)


def unequal_chamfer(s: Session) -> Expect:
    _plate(s, 40, 30, 10)
    s.call("chamfer", edges=["|Z and >X and >Y"], distance=2, distance2=4)
    ref = (
        cq.Workplane("XY")
        .box(40, 30, 10, centered=(True, True, False))
        .edges("|Z and >X and >Y")
        .chamfer(2, 4)
    )
    return Expect(12000 - 4 * 10, faces=7, reference=ref)


def parameter_edit(s: Session) -> Expect:
    s.call("set_parameter", name="w", value=50)
    s.call("set_parameter", name="t", value=6)
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": "w", "height": "w / 2"}])
    s.call("extrude", sketch_id="sketch1", distance="t")
    s.call("fillet", edges=["|Z"], radius=2)
    out = s.call("set_parameter", name="t", value=10)
    assert out["rebuilt"] == ["extrude1", "fillet1"]  # the sketch does not use t
    out = s.call("set_parameter", name="w", value=60)
    assert out["rebuilt"] == ["sketch1", "extrude1", "fillet1"]
    return Expect((60 * 30 - 4 * (4 - PI)) * 10, bbox=(-30, -15, 0, 30, 15, 10), faces=10)


def modified_hole(s: Session) -> Expect:
    _plate(s, 50, 50, 5)
    s.call("hole", diameter=10)
    out = s.call("modify_feature", feature_id="hole1", changes={"diameter": 20})
    assert out["rebuilt"] == ["hole1"]
    return Expect(12500 - PI * 100 * 5, faces=7)


def deleted_fillet_with_undo(s: Session) -> Expect:
    _plate(s, 30, 20, 10)
    s.call("fillet", edges=["|Z"], radius=3)
    filleted = s.volume()
    s.call("delete_feature", feature_id="fillet1")
    assert s.volume() == pytest.approx(6000)
    s.call("undo")
    assert s.volume() == pytest.approx(filleted)
    s.call("redo")
    return Expect(6000, 2 * 600 + 2 * 300 + 2 * 200, 6)


def _two_boxes(s: Session) -> None:
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 20, "height": 20}])
    s.call("extrude", sketch_id="sketch1", distance=10)
    s.call(
        "create_sketch",
        entities=[{"kind": "rectangle", "center": [10, 10], "width": 20, "height": 20}],
    )
    s.call("extrude", sketch_id="sketch2", distance=10, operation="new")
    assert list(s.doc.bodies) == ["body1", "body2"]


def boolean_union(s: Session) -> Expect:
    _two_boxes(s)
    s.call("boolean", body="body1", tools=["body2"], operation="union")
    assert list(s.doc.bodies) == ["body1"]
    return Expect(7000, faces=10, bbox=(-10, -10, 0, 20, 20, 10))


def boolean_cut(s: Session) -> Expect:
    _two_boxes(s)
    s.call("boolean", body="body1", tools=["body2"], operation="cut")
    return Expect(3000, faces=8, bbox=(-10, -10, 0, 10, 10, 10))


def boolean_intersect(s: Session) -> Expect:
    _two_boxes(s)
    s.call("boolean", body="body1", tools=["body2"], operation="intersect")
    return Expect(1000, 600, 6, (0, 0, 0, 10, 10, 10))


def hex_prism(s: Session) -> Expect:
    s.call("create_sketch")
    s.call("add_polygon", sketch_id="sketch1", sides=6, diameter=20)
    s.call("extrude", sketch_id="sketch1", distance=10)
    hexagon = 3 * math.sqrt(3) / 2 * 100
    return Expect(hexagon * 10, 2 * hexagon + 6 * 10 * 10, 8)


def slot_from_lines_and_arcs(s: Session) -> Expect:
    s.call("create_sketch")
    s.call("add_line", sketch_id="sketch1", start=[-15, -5], end=[15, -5])
    s.call("add_arc", sketch_id="sketch1", start=[15, -5], mid=[20, 0], end=[15, 5])
    s.call("add_line", sketch_id="sketch1", start=[15, 5], end=[-15, 5])
    s.call("add_arc", sketch_id="sketch1", start=[-15, 5], mid=[-20, 0], end=[-15, -5])
    s.call("extrude", sketch_id="sketch1", distance=4)
    face = 300 + 25 * PI
    return Expect(face * 4, 2 * face + (60 + 10 * PI) * 4, 6, (-20, -5, 0, 20, 5, 4))


def symmetric_extrude(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 10, "height": 10}])
    s.call("extrude", sketch_id="sketch1", distance=20, direction="symmetric")
    return Expect(2000, 200 + 800, 6, (-5, -5, -10, 5, 5, 10))


def pocket_on_top(s: Session) -> Expect:
    _plate(s, 40, 40, 10)
    s.call(
        "create_sketch",
        face="extrude1.top",
        entities=[{"kind": "rectangle", "width": 20, "height": 10}],
    )
    s.call("extrude", sketch_id="sketch2", distance=3, operation="cut")
    return Expect(16000 - 600, 4800 + 2 * (20 + 10) * 3, 11, (-20, -20, 0, 20, 20, 10))


def through_all_cut(s: Session) -> Expect:
    _plate(s, 40, 40, 10)
    s.call("create_sketch", face="extrude1.top", entities=[{"kind": "circle", "radius": 5}])
    s.call("extrude", sketch_id="sketch2", extent="through_all", operation="cut")
    return Expect(16000 - PI * 25 * 10, 4800 - 2 * PI * 25 + 2 * PI * 5 * 10, 7)


def boss_with_filleted_root(s: Session) -> Expect:
    _plate(s, 40, 40, 10)
    s.call("create_sketch", face="extrude1.top", entities=[{"kind": "circle", "radius": 8}])
    s.call("extrude", sketch_id="sketch2", distance=10)
    found = s.call("find_edges", type="CIRCLE")
    root = [e for e in found["items"] if e["center"][2] == 10 and e["radius"] == 8]
    assert len(root) == 1, found
    s.call("fillet", edges=[root[0]["ref"]], radius=2)
    ref = (
        cq.Workplane("XY")
        .box(40, 40, 10, centered=(True, True, False))
        .faces(">Z")
        .workplane()
        .circle(8)
        .extrude(10)
        .edges(cq.selectors.BoxSelector((-9, -9, 9.9), (9, 9, 10.1)))
        .fillet(2)
    )
    return Expect(faces=9, reference=ref)


def intersect_extrude(s: Session) -> Expect:
    _plate(s, 40, 40, 10)
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 15}])
    s.call("extrude", sketch_id="sketch2", distance=10, operation="intersect")
    return Expect(PI * 225 * 10, 2 * PI * 225 + 2 * PI * 15 * 10, 3)


def offset_plane(s: Session) -> Expect:
    s.call("create_sketch", offset=10, entities=[{"kind": "rectangle", "width": 10, "height": 10}])
    s.call("extrude", sketch_id="sketch1", distance=5)
    return Expect(500, bbox=(-5, -5, 10, 5, 5, 15), faces=6)


def yz_plane(s: Session) -> Expect:
    s.call("create_sketch", plane="YZ", entities=[{"kind": "rectangle", "width": 10, "height": 20}])
    s.call("extrude", sketch_id="sketch1", distance=30)
    return Expect(6000, bbox=(0, -5, -10, 30, 5, 10), faces=6)


def slotted_plate_pattern(s: Session) -> Expect:
    _plate(s, 100, 40, 5)
    slot = {"kind": "rectangle", "center": [-40, 0], "width": 4, "height": 20}
    s.call("create_sketch", face="extrude1.top", entities=[slot])
    s.call("extrude", sketch_id="sketch2", extent="through_all", operation="cut")
    s.call("pattern", source="extrude2", kind="linear", count=5, spacing=20)
    return Expect(20000 - 5 * 80 * 5, faces=26)


def chamfered_shaft_end(s: Session) -> Expect:
    s.call(
        "create_sketch",
        entities=[{"kind": "rectangle", "center": [5, 20], "width": 10, "height": 40}],
    )
    s.call("revolve", sketch_id="sketch1")
    s.call("chamfer", edges=[">Y"], distance=1)
    # Pappus: a 1x1 triangle (area 1/2) whose centroid is at radius 10 - 1/3
    return Expect(PI * 100 * 40 - 0.5 * 2 * PI * (10 - 1 / 3), faces=4)


def disc_with_bosses(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 30}])
    s.call("extrude", sketch_id="sketch1", distance=5)
    s.call(
        "create_sketch",
        face="extrude1.top",
        entities=[{"kind": "circle", "center": [20, 0], "radius": 3}],
    )
    s.call("extrude", sketch_id="sketch2", distance=5)
    s.call("pattern", source="extrude2", kind="circular", count=4)
    return Expect(PI * 900 * 5 + 4 * PI * 9 * 5, faces=11, bbox=(-30, -30, 0, 30, 30, 10))


def grooved_shaft(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 10}])
    s.call("extrude", sketch_id="sketch1", distance=40)
    s.call(
        "create_sketch",
        plane="XZ",
        entities=[{"kind": "rectangle", "center": [10, 20], "width": 4, "height": 4}],
    )
    s.call("revolve", sketch_id="sketch2", operation="cut")
    return Expect(PI * 100 * 40 - PI * (100 - 64) * 4, bbox=(-10, -10, 0, 10, 10, 40))


PARTS: dict[str, Part] = {
    f.__name__: f
    for f in (
        plate,
        plate_four_holes,
        plate_hole_grid,
        plate_linear_hole_pattern,
        flange_bolt_circle,
        counterbored_block,
        blind_hole,
        l_bracket,
        l_bracket_with_holes,
        flange_with_hub,
        stepped_shaft,
        half_revolve,
        sphere_by_arc,
        open_shelled_box,
        closed_hollow_box,
        filleted_block,
        fully_rounded_block,
        top_edges_by_feature_name,
        chamfered_corners,
        chamfered_top,
        unequal_chamfer,
        parameter_edit,
        modified_hole,
        deleted_fillet_with_undo,
        boolean_union,
        boolean_cut,
        boolean_intersect,
        hex_prism,
        slot_from_lines_and_arcs,
        symmetric_extrude,
        pocket_on_top,
        through_all_cut,
        boss_with_filleted_root,
        intersect_extrude,
        offset_plane,
        yz_plane,
        slotted_plate_pattern,
        chamfered_shaft_end,
        disc_with_bosses,
        grooved_shaft,
    )
}


built, test_part, test_scripts_rebuild_in_a_fresh_interpreter = part_tests(PARTS)


def test_the_suite_has_at_least_sixty_parts() -> None:
    names = all_part_names()
    assert len(names) == len(set(names)), "two parts share a name"
    assert len(names) >= 60, f"{len(names)} parts"
