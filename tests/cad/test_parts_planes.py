"""Parts made with planes (datum planes, mirror, split) and the extended tools (countersinks,
drafts, up_to_face, rectangular patterns, partial revolves), through the tool API only.

Expected figures are closed forms where one exists (Pappus, frustums, oblique cylinders,
the convex hull of two circles); a cross-drilled shaft has none and is compared with a
hand-written CadQuery solid.
"""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from .conftest import Session
from .parts import Expect, Part, part_tests

PI = math.pi


def _plate(s: Session, w: float, h: float, t: float) -> None:
    s.call("create_sketch", plane="XY", entities=[{"kind": "rectangle", "width": w, "height": h}])
    s.call("extrude", sketch_id="sketch1", distance=t)


def _polygon_sketch(s: Session, plane: str, points: list[tuple[float, float]]) -> str:
    sketch_id = s.call("create_sketch", plane=plane)["sketch_id"]
    for a, b in zip(points, points[1:] + points[:1], strict=True):
        s.call("add_line", sketch_id=sketch_id, start=list(a), end=list(b))
    return str(sketch_id)


_L_PROFILE = [(0.0, 0.0), (50.0, 0.0), (50.0, 5.0), (5.0, 5.0), (5.0, 40.0), (0.0, 40.0)]
_L_AREA = 50 * 5 + 5 * 35


def _l_bracket(s: Session) -> None:
    sketch_id = _polygon_sketch(s, "XZ", _L_PROFILE)
    s.call("extrude", sketch_id=sketch_id, distance=30, direction="symmetric")


# --- mirror ------------------------------------------------------------------------------


def mirrored_bracket(s: Session) -> Expect:
    """Half an inverted-T bracket, mirrored across YZ: the touching halves fuse."""
    _l_bracket(s)
    out = s.call("mirror", plane="YZ")
    assert out["feature"]["body"] == "body1"
    # the T profile: a 100 x 5 foot and a 10 x 35 web
    perimeter = 100 + 5 + 45 + 35 + 10 + 35 + 45 + 5
    area = 2 * 2 * _L_AREA + perimeter * 30
    return Expect(2 * _L_AREA * 30, area, 10, (-50, -15, 0, 50, 15, 40))


def channel_by_face_mirror(s: Session) -> Expect:
    """An L bracket mirrored across its own top face (a planar face reference): a channel."""
    _l_bracket(s)
    s.call("mirror", face=">Z")
    # the C profile: 50 x 5 flanges at z 0..5 and 75..80, a 5 mm web
    perimeter = 50 + 5 + 45 + 70 + 45 + 5 + 50 + 80
    area = 2 * 2 * _L_AREA + perimeter * 30
    return Expect(2 * _L_AREA * 30, area, 10, (0, -15, 0, 50, 15, 80))


def mirrored_features(s: Session) -> Expect:
    """A boss and a hole on one side of a plate, mirrored to the other side."""
    _plate(s, 100, 40, 6)
    boss = {"kind": "circle", "center": [30, 10], "radius": 5}
    s.call("create_sketch", face="extrude1.top", entities=[boss])
    s.call("extrude", sketch_id="sketch2", distance=5)
    s.call("hole", face="<Z", positions=[[30, 10]], diameter=6)
    out = s.call("mirror", features=["extrude2", "hole1"], plane="YZ")
    assert out["geometry"]["faces"] == 12
    volume = 24000 + 2 * PI * 25 * 5 - 2 * PI * 9 * 6
    area = 2 * 4000 + 2 * 140 * 6 + 2 * 2 * PI * 5 * 5 + 2 * (2 * PI * 3 * 6 - 2 * PI * 9)
    return Expect(volume, area, 12, (-50, -20, 0, 50, 20, 11))


def _cam_hull(r_big: float, r_small: float, d: float) -> tuple[float, float, float, float]:
    """Convex hull of two circles: (area, perimeter, tangent angle phi, tangent length)."""
    phi = math.acos((r_big - r_small) / d)
    tangent = math.sqrt(d * d - (r_big - r_small) ** 2)
    area = r_big**2 * (PI - phi) + r_small**2 * phi + (r_big + r_small) * tangent
    perimeter = 2 * (r_big * (PI - phi) + r_small * phi + tangent)
    return area, perimeter, phi, tangent


def cam_by_mirror(s: Session) -> Expect:
    """A pear cam: the half above y = 0 drawn with lines and arcs, mirrored across XZ."""
    big, small, d, thickness = 15.0, 5.0, 25.0, 8.0
    area, perimeter, phi, _ = _cam_hull(big, small, d)
    p_big = (big * math.cos(phi), big * math.sin(phi))
    p_small = (d + small * math.cos(phi), small * math.sin(phi))
    mid_big = (big * math.cos((PI + phi) / 2), big * math.sin((PI + phi) / 2))
    mid_small = (d + small * math.cos(phi / 2), small * math.sin(phi / 2))
    sketch_id = s.call("create_sketch", plane="XY")["sketch_id"]
    s.call("add_line", sketch_id=sketch_id, start=[-big, 0], end=[d + small, 0])
    s.call("add_arc", sketch_id=sketch_id, start=[d + small, 0], mid=list(mid_small), end=p_small)
    s.call("add_line", sketch_id=sketch_id, start=list(p_small), end=list(p_big))
    s.call("add_arc", sketch_id=sketch_id, start=list(p_big), mid=list(mid_big), end=[-big, 0])
    s.call("extrude", sketch_id=sketch_id, distance=thickness)
    s.call("mirror", plane="XZ")
    return Expect(
        area * thickness,
        2 * area + perimeter * thickness,
        bbox=(-big, -big, 0, d + small, big, thickness),
    )


def lever_mirrored_to_a_new_body(s: Session) -> Expect:
    """A hub with one arm; its mirror across a datum plane kept as a second body."""
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 10}])
    s.call("extrude", sketch_id="sketch1", distance=10)
    arm = {"kind": "rectangle", "center": [27.5, 0], "width": 45, "height": 8}
    s.call("create_sketch", entities=[arm])
    s.call("extrude", sketch_id="sketch2", distance=6)
    out = s.call("datum_plane", plane="YZ", offset=60)
    assert out["datum_id"] == "datum1"
    assert tuple(out["normal"]) == (1, 0, 0) and tuple(out["origin"]) == (60, 0, 0)
    out = s.call("mirror", datum="datum1", new_body=True)
    assert out["feature"]["new_body"] == "body2"
    assert list(s.doc.bodies) == ["body1", "body2"]
    # the arm (x 5..50, |y| <= 4) enters the hub where x >= 5 inside the circle
    overlap = 4 * math.sqrt(84) + 100 * math.asin(0.4) - 8 * 5
    one = PI * 100 * 10 + 45 * 8 * 6 - overlap * 6
    return Expect(2 * one, solids=2, bbox=(-10, -10, 0, 130, 10, 10))


# --- split -------------------------------------------------------------------------------


def split_keeping_one_side(s: Session) -> Expect:
    """A block cut at a datum plane 12 mm up; the part below is kept."""
    _plate(s, 40, 30, 20)
    s.call("datum_plane", plane="XY", offset=12)
    s.call("split", datum="datum1", keep="negative")
    return Expect(40 * 30 * 12, 2 * 1200 + 2 * 70 * 12, 6, (-20, -15, 0, 20, 15, 12))


def split_into_two_bodies(s: Session) -> Expect:
    """A shaft cut by a plane tilted 30 degrees through its middle: two bodies."""
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 10}])
    s.call("extrude", sketch_id="sketch1", distance=40)
    tilt = math.radians(30)
    s.call("datum_plane", point=[0, 0, 20], normal=[0, -math.sin(tilt), math.cos(tilt)])
    out = s.call("split", datum="datum1")
    assert out["feature"]["new_body"] == "body2"
    halves = [b.val().Volume() for b in s.doc.bodies.values()]
    assert halves[0] == pytest.approx(
        halves[1], rel=1e-9
    )  # the plane passes through the centre: equal halves
    ellipse = PI * 10 * 10 / math.cos(tilt)
    area = 2 * PI * 100 + 2 * PI * 10 * 40 + 2 * ellipse
    return Expect(PI * 100 * 40, area, 6, (-10, -10, 0, 10, 10, 40), solids=2)


def split_bracket_by_face(s: Session) -> Expect:
    """The foot of an L bracket split off along the plane of its inner face."""
    _l_bracket(s)
    leg_top = {"type": "PLANE", "normal": [0, 0, 1], "center": [27.5, 0, 5]}
    s.call("split", face=leg_top, keep="positive")
    return Expect(5 * 35 * 30, 2 * 175 + 2 * 40 * 30, 6, (0, -15, 5, 5, 15, 40))


# --- holes and patterns ------------------------------------------------------------------


def countersunk_plate(s: Session) -> Expect:
    """Four M6 countersunk holes: 6.6 through, 12.4 x 90 degrees."""
    _plate(s, 80, 40, 10)
    pts = [[30, 12], [-30, 12], [30, -12], [-30, -12]]
    s.call("hole", positions=pts, diameter=6.6, csk_diameter=12.4, csk_angle=90)
    r, big = 3.3, 6.2
    sink = (big - r) / math.tan(math.radians(45))
    removed = PI * r * r * (10 - sink) + PI * sink / 3 * (big * big + big * r + r * r)
    cone = PI * (big + r) * math.hypot(sink, big - r)
    area = 2 * 3200 + 2 * 120 * 10 + 4 * (cone + 2 * PI * r * (10 - sink) - PI * (big**2 + r**2))
    return Expect(32000 - 4 * removed, area, 14, (-40, -20, 0, 40, 20, 10))


def angled_hole_from_a_datum(s: Session) -> Expect:
    """A hole drilled at 30 degrees to the vertical, sketched on a turned datum plane."""
    _plate(s, 60, 40, 10)
    out = s.call("datum_plane", plane="XY", angle=30, axis="X")
    tilt = math.radians(30)
    assert tuple(out["normal"]) == (0, -0.5, round(math.cos(tilt), 9))
    s.call("create_sketch", datum="datum1", entities=[{"kind": "circle", "radius": 3}])
    s.call(
        "extrude",
        sketch_id="sketch2",
        extent="through_all",
        direction="symmetric",
        operation="cut",
    )
    # every horizontal slice of the hole is an ellipse of area pi r^2 / cos(tilt)
    ellipse = PI * 9 / math.cos(tilt)
    area = 2 * 2400 + 2 * 100 * 10 - 2 * ellipse + 2 * PI * 3 * 10 / math.cos(tilt)
    return Expect(24000 - ellipse * 10, area, 7, (-30, -20, 0, 30, 20, 10))


def angled_hole_into_the_top_face(s: Session) -> Expect:
    """The top face's plane turned 20 degrees about its own centre line along Y."""
    _plate(s, 60, 40, 12)
    out = s.call("datum_plane", face="extrude1.top", angle=20, axis="Y")
    assert tuple(out["origin"]) == (0, 0, 12)
    s.call("create_sketch", datum="datum1", entities=[{"kind": "circle", "radius": 4}])
    s.call(
        "extrude", sketch_id="sketch2", extent="through_all", direction="symmetric", operation="cut"
    )
    tilt = math.radians(20)
    ellipse = PI * 16 / math.cos(tilt)
    area = 2 * 2400 + 2 * 100 * 12 - 2 * ellipse + 2 * PI * 4 * 12 / math.cos(tilt)
    return Expect(28800 - ellipse * 12, area, 7, (-30, -20, 0, 30, 20, 12))


def rectangular_hole_grid(s: Session) -> Expect:
    _plate(s, 100, 60, 5)
    s.call("hole", positions=[[-40, -20]], diameter=4)
    s.call(
        "pattern", source="hole1", kind="rectangular", count=5, spacing=20, count2=3, spacing2=20
    )
    return Expect(30000 - 15 * PI * 4 * 5, 13600 - 30 * PI * 4 + 15 * 2 * PI * 2 * 5, 21)


def hole_grid_by_pattern_of_pattern(s: Session) -> Expect:
    """A row of 5 holes patterned 3 times is the whole 5 x 3 grid (it gave 13 holes)."""
    _plate(s, 100, 60, 5)
    s.call("hole", positions=[[-40, -20]], diameter=4)
    s.call("pattern", source="hole1", kind="linear", count=5, spacing=20)
    s.call("pattern", source="pattern1", kind="linear", count=3, spacing=20, direction=[0, 1, 0])
    return Expect(30000 - 15 * PI * 4 * 5, 13600 - 30 * PI * 4 + 15 * 2 * PI * 2 * 5, 21)


def _ten_holes() -> Expect:
    """A 100 x 40 x 6 plate with two rows of five 5 mm holes."""
    r = 2.5
    area = 2 * 4000 + 2 * 140 * 6 - 20 * PI * r * r + 10 * 2 * PI * r * 6
    return Expect(24000 - 10 * PI * r * r * 6, area, 16, (-50, -20, 0, 50, 20, 6))


def mirrored_hole_pattern(s: Session) -> Expect:
    """A row of five holes, mirrored as a whole across XZ: ten holes."""
    _plate(s, 100, 40, 6)
    s.call("hole", positions=[[-40, 12]], diameter=5)
    s.call("pattern", source="hole1", kind="linear", count=5, spacing=20)
    s.call("mirror", features=["pattern1"], plane="XZ")
    return _ten_holes()


def pattern_of_a_mirror(s: Session) -> Expect:
    """A hole and its mirror image, patterned as a pair: the same ten holes."""
    _plate(s, 100, 40, 6)
    s.call("hole", positions=[[-40, 12]], diameter=5)
    s.call("mirror", features=["hole1"], plane="XZ")
    s.call("pattern", source="mirror1", kind="linear", count=5, spacing=20)
    return _ten_holes()


def hole_in_a_split_off_body(s: Session) -> Expect:
    """A block split in two at mid-height; the lower body (the new one) gets a hole."""
    _plate(s, 40, 30, 20)
    s.call("datum_plane", plane="XY", offset=10)
    s.call("split", datum="datum1")
    s.call("hole", body="body2", face=">Z", diameter=6)
    lower, upper = 12000 - PI * 9 * 10, 12000
    area = 2 * (2 * 1200 + 2 * 70 * 10) - 2 * PI * 9 + 2 * PI * 3 * 10
    return Expect(lower + upper, area, 6 + 7, (-20, -15, 0, 20, 15, 20), solids=2)


# --- extrude and revolve -----------------------------------------------------------------


def drafted_boss(s: Session) -> Expect:
    """A boss with a 5 degree draft: a frustum from r 8 down to r 8 - 10 tan 5."""
    _plate(s, 40, 40, 10)
    s.call("create_sketch", face="extrude1.top", entities=[{"kind": "circle", "radius": 8}])
    s.call("extrude", sketch_id="sketch2", distance=10, draft=5)
    big = 8.0
    small = big - 10 * math.tan(math.radians(5))
    frustum = PI * 10 / 3 * (big * big + big * small + small * small)
    side = PI * (big + small) * math.hypot(10, big - small)
    area = 4800 - PI * big * big + PI * small * small + side
    return Expect(16000 + frustum, area, 8, (-20, -20, 0, 20, 20, 20))


def post_up_to_an_inclined_face(s: Session) -> Expect:
    """A post from a plane 40 mm up down to the sloping top of a wedge (up_to_face)."""
    wedge = [(-20.0, 0.0), (20.0, 0.0), (20.0, 10.0), (-20.0, 20.0)]
    sketch_id = _polygon_sketch(s, "XZ", wedge)
    s.call("extrude", sketch_id=sketch_id, distance=30, direction="symmetric")
    s.call("create_sketch", plane="XY", offset=40, entities=[{"kind": "circle", "radius": 4}])
    slope = {"type": "PLANE", "normal": [0.25, 0, 1]}
    s.call("extrude", sketch_id="sketch2", extent="up_to_face", face=slope, operation="join")
    # the slope is z = 15 - x / 4; over a disc centred at x = 0 the post averages 25 mm
    return Expect(30 * 40 * 15 + PI * 16 * 25, bbox=(-20, -15, 0, 20, 15, 40))


def pin_from_a_datum_above_a_cap(s: Session) -> Expect:
    """A pin sketched on a datum 15 mm above a plate's top cap, extruded down to that cap."""
    _plate(s, 40, 40, 10)
    out = s.call("datum_plane", face="extrude1.top", offset=15)
    assert tuple(out["origin"]) == (0, 0, 25) and tuple(out["normal"]) == (0, 0, 1)
    s.call("create_sketch", datum="datum1", entities=[{"kind": "circle", "radius": 3}])
    s.call(
        "extrude", sketch_id="sketch2", extent="up_to_face", face="extrude1.top", operation="join"
    )
    area = 4800 + 2 * PI * 3 * 15
    return Expect(16000 + PI * 9 * 15, area, 8, (-20, -20, 0, 20, 20, 25))


def pocket_down_to_a_step(s: Session) -> Expect:
    """A pocket in the high step of a block, cut down to the plane of the low step."""
    step = [(0.0, 0.0), (60.0, 0.0), (60.0, 10.0), (30.0, 10.0), (30.0, 30.0), (0.0, 30.0)]
    sketch_id = _polygon_sketch(s, "XZ", step)
    s.call("extrude", sketch_id=sketch_id, distance=30, direction="symmetric")
    s.call("create_sketch", face=">Z", entities=[{"kind": "rectangle", "width": 10, "height": 10}])
    low = {"type": "PLANE", "normal": [0, 0, 1], "center": [45, 0, 10]}
    s.call("extrude", sketch_id="sketch2", extent="up_to_face", face=low, operation="cut")
    section = 60 * 10 + 30 * 20
    area = 2 * section + (60 + 10 + 30 + 20 + 30 + 30) * 30 + 4 * 10 * 20
    return Expect(section * 30 - 10 * 10 * 20, area, 13, (0, -15, 0, 60, 15, 30))


def cross_hole_through_a_shaft(s: Session) -> Expect:
    """A shaft cross-drilled from its mid-plane (XZ): symmetric through_all cut."""
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 10}])
    s.call("extrude", sketch_id="sketch1", distance=40)
    hole = {"kind": "circle", "center": [0, 25], "radius": 3}
    s.call("create_sketch", plane="XZ", entities=[hole])
    s.call(
        "extrude",
        sketch_id="sketch2",
        extent="through_all",
        direction="symmetric",
        operation="cut",
    )
    shaft = cq.Solid.makeCylinder(10, 40)
    drill = cq.Solid.makeCylinder(3, 40, cq.Vector(0, -20, 25), cq.Vector(0, 1, 0))
    reference = cq.Workplane("XY").newObject([shaft.cut(drill).clean()])
    # OCCT integrates the saddle-shaped hole wall numerically: two constructions of the
    # same solid agree to about 3e-6, so this part asks 1e-5
    # faces: the two ends, the shaft wall and one hole wall (a prism glued from two halves
    # at the mid-plane split it in two)
    return Expect(faces=4, reference=reference, bbox=(-10, -10, 0, 10, 10, 40), rel=1e-5)


def quarter_ring_by_partial_revolve(s: Session) -> Expect:
    """A 4 x 6 rectangle 5 mm from an axis off the origin, revolved 90 degrees (Pappus)."""
    rect = {"kind": "rectangle", "center": [15, 5], "width": 4, "height": 6}
    s.call("create_sketch", entities=[rect])
    s.call("revolve", sketch_id="sketch1", angle=90, axis_start=[10, 0], axis_end=[10, 1])
    quarter = PI / 2
    # right-hand rule about +Y: the profile at +X turns towards -Z
    return Expect(24 * 5 * quarter, 2 * 24 + 20 * 5 * quarter, 6, (10, 2, -7, 17, 8, 0))


def three_quarter_revolve_on_xz(s: Session) -> Expect:
    """A disc profile on XZ revolved 270 degrees about the sketch's y axis (world Z)."""
    s.call(
        "create_sketch", plane="XZ", entities=[{"kind": "circle", "center": [20, 0], "radius": 4}]
    )
    s.call("revolve", sketch_id="sketch1", angle=270)
    part = 0.75
    return Expect(
        PI * 16 * 2 * PI * 20 * part,
        2 * PI * 16 + 2 * PI * 4 * 2 * PI * 20 * part,
        bbox=(-24, -24, -4, 24, 24, 4),
    )


PARTS: dict[str, Part] = {
    f.__name__: f
    for f in (
        mirrored_bracket,
        channel_by_face_mirror,
        mirrored_features,
        cam_by_mirror,
        lever_mirrored_to_a_new_body,
        split_keeping_one_side,
        split_into_two_bodies,
        split_bracket_by_face,
        countersunk_plate,
        angled_hole_from_a_datum,
        angled_hole_into_the_top_face,
        rectangular_hole_grid,
        hole_grid_by_pattern_of_pattern,
        mirrored_hole_pattern,
        pattern_of_a_mirror,
        hole_in_a_split_off_body,
        pin_from_a_datum_above_a_cap,
        pocket_down_to_a_step,
        drafted_boss,
        post_up_to_an_inclined_face,
        cross_hole_through_a_shaft,
        quarter_ring_by_partial_revolve,
        three_quarter_revolve_on_xz,
    )
}


built, test_part, test_scripts_rebuild_in_a_fresh_interpreter = part_tests(PARTS)
