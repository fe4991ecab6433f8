"""Parts made with sweep, loft, slots and splines, built through the tool API only.

Expected figures are closed forms wherever one exists: a screw motion of a meridian section
sweeps N * 2 pi * r_centroid * A (the Jacobian of (r, z, t) -> (r cos t, r sin t, z + c t)
is r); a tube swept square to its path has volume A * L and, for a circle of radius a,
lateral area 2 pi a L (while the bend radius exceeds a); a ruled loft between similar
parallel sections is a frustum h/3 (A1 + A2 + sqrt(A1 A2)). Where there is none (a smooth
loft, a spline profile), the reference is a hand-written CadQuery script. `to_script()` of
every part is rerun in a fresh interpreter and must rebuild the same volume.
"""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from .conftest import Session
from .parts import Expect, Part, part_tests

PI = math.pi


def _helix_area(turns: float, radius: float, pitch: float, a: float) -> float:
    """Lateral area of a circle of radius `a` in a meridian plane, at `radius` from the axis,
    screwed along `turns` turns of `pitch`: N 2 pi int sqrt(r^2 + c^2 r'^2) ds, c = p/2pi,
    integrated by the trapezoid rule (exponentially accurate for a periodic integrand)."""
    c = pitch / (2 * PI)
    n = 4000
    total = 0.0
    for k in range(n):
        t = 2 * PI * k / n
        r = radius + a * math.cos(t)
        total += math.sqrt(r * r + (c * math.sin(t)) ** 2) * a
    return turns * 2 * PI * total * (2 * PI / n)


def _plate(s: Session, w: float, h: float, t: float) -> None:
    s.call("create_sketch", plane="XY", entities=[{"kind": "rectangle", "width": w, "height": h}])
    s.call("extrude", sketch_id="sketch1", distance=t)


def _slot_area(length: float, width: float) -> float:
    return (length - width) * width + PI * width * width / 4


def _slot_perimeter(length: float, width: float) -> float:
    return 2 * (length - width) + PI * width


def _frustum(h: float, a1: float, a2: float) -> float:
    return h / 3 * (a1 + a2 + math.sqrt(a1 * a2))


# --- sweeps along a helix ------------------------------------------------------------------


def compression_spring(s: Session) -> Expect:
    # wire 2 mm thick, coil radius 10, pitch 5, 6 turns: the section drawn on XZ at (10, 0)
    s.call(
        "create_sketch", plane="XZ", entities=[{"kind": "circle", "center": [10, 0], "radius": 1}]
    )
    out = s.call("sweep", sketch_id="sketch1", helix={"pitch": 5, "height": 30, "radius": 10})
    assert out["feature"]["operation"] == "new"
    volume = 6 * 2 * PI * 10 * PI * 1
    area = _helix_area(6, 10, 5, 1) + 2 * PI
    # the right-hand helix goes from +X towards +Y: a quarter turn up, the wire is at +Y
    assert s.solid().isInside(cq.Vector(0, 10, 1.25))
    assert not s.solid().isInside(cq.Vector(0, -10, 1.25))
    return Expect(volume, area, bbox=(-11, -11, -1, 11, 11, 31), rel=1e-6)


def left_hand_spring_by_turns_with_parameter(s: Session) -> Expect:
    s.call("set_parameter", name="pitch", value=4)
    s.call("set_parameter", name="coil", value=8)
    s.call(
        "create_sketch",
        plane="XZ",
        entities=[{"kind": "circle", "center": ["coil", 0], "radius": 1.2}],
    )
    helix = {"pitch": "pitch", "turns": 5, "radius": "coil", "hand": "left"}
    s.call("sweep", sketch_id="sketch1", helix=helix)
    solid = s.solid()
    assert solid.isInside(cq.Vector(0, -8, 1)) and not solid.isInside(cq.Vector(0, 8, 1))
    volume = 5 * 2 * PI * 8 * PI * 1.2**2
    assert s.volume() == pytest.approx(volume, rel=1e-6)
    # a screw motion's volume does not depend on the pitch: only the height changes
    out = s.call("set_parameter", name="pitch", value=6)
    assert out["rebuilt"] == ["sweep1"]
    area = _helix_area(5, 8, 6, 1.2) + 2 * PI * 1.44
    return Expect(volume, area, bbox=(-9.2, -9.2, -1.2, 9.2, 9.2, 31.2))


def spring_with_profile_normal_to_the_helix(s: Session) -> Expect:
    # the section drawn at the origin of XY, moved to the helix start and turned square to it
    s.call("create_sketch", plane="XY", entities=[{"kind": "circle", "radius": 1}])
    s.call(
        "sweep",
        sketch_id="sketch1",
        helix={"pitch": 6, "turns": 3, "radius": 10},
        profile_placement="normal_to_path",
    )
    turn = math.hypot(2 * PI * 10, 6)
    length = 3 * turn
    dz = 2 * PI * 10 / turn  # the start disc leans back by the helix angle
    return Expect(
        PI * length,
        2 * PI * length + 2 * PI,
        bbox=(-11, -11, -dz, 11, 11, 18 + dz),
    )


# --- sweeps along paths --------------------------------------------------------------------


def _quarter(
    centre: tuple[float, float, float], r: float, u: tuple[float, ...], v: tuple[float, ...]
) -> list[float]:
    """The midpoint of the quarter arc about `centre` from direction u to direction v."""
    k = r / math.sqrt(2)
    return [centre[i] + k * (u[i] + v[i]) for i in range(3)]


def bent_rod(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 4}])
    path = [
        {"kind": "line", "end": [0, 0, 50]},
        {
            "kind": "arc",
            "mid": _quarter((20, 0, 50), 20, (-1, 0, 0), (0, 0, 1)),
            "end": [20, 0, 70],
        },
        {"kind": "line", "end": [60, 0, 70]},
    ]
    s.call("sweep", sketch_id="sketch1", path=path)
    length = 50 + PI * 20 / 2 + 40
    return Expect(16 * PI * length, 8 * PI * length + 32 * PI, bbox=(-4, -4, 0, 60, 4, 74))


def swept_handle_on_a_block(s: Session) -> Expect:
    _plate(s, 80, 40, 10)
    s.call(
        "create_sketch",
        plane="XY",
        offset=10,
        entities=[{"kind": "circle", "center": [-30, 0], "radius": 4}],
    )
    path = [
        {"kind": "line", "end": [-30, 0, 30]},
        {
            "kind": "arc",
            "mid": _quarter((-20, 0, 30), 10, (-1, 0, 0), (0, 0, 1)),
            "end": [-20, 0, 40],
        },
        {"kind": "line", "end": [20, 0, 40]},
        {"kind": "arc", "mid": _quarter((20, 0, 30), 10, (1, 0, 0), (0, 0, 1)), "end": [30, 0, 30]},
        {"kind": "line", "end": [30, 0, 10]},
    ]
    out = s.call("sweep", sketch_id="sketch2", path_start=[-30, 0, 10], path=path)
    assert out["feature"]["operation"] == "join"  # the default once a body exists
    length = 80 + 10 * PI
    area = 8800 - 32 * PI + 8 * PI * length
    return Expect(32000 + 16 * PI * length, area, bbox=(-40, -20, 0, 40, 20, 44))


def sweep_cut_groove(s: Session) -> Expect:
    # a round groove (r 3) centred in the top face, entering at x=-50, turning 90 degrees
    # about (-10, 0) and leaving at y=30: half a tube removed
    _plate(s, 100, 60, 10)
    s.call(
        "create_sketch",
        plane="YZ",
        offset=-50,
        entities=[{"kind": "circle", "center": [-10, 10], "radius": 3}],
    )
    path = [
        {"kind": "line", "end": [-10, -10, 10]},
        {
            "kind": "arc",
            "mid": _quarter((-10, 0, 10), 10, (0, -1, 0), (1, 0, 0)),
            "end": [0, 0, 10],
        },
        {"kind": "line", "end": [0, 30, 10]},
    ]
    s.call("sweep", sketch_id="sketch2", path_start=[-50, -10, 10], path=path, operation="cut")
    length = 40 + 5 * PI + 30
    volume = 60000 - 4.5 * PI * length
    area = 15200 - 6 * length + 3 * PI * length - 9 * PI
    return Expect(volume, area, bbox=(-50, -30, 0, 50, 30, 10))


def rod_along_a_spline(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 2}])
    points = [[10, 5, 20], [0, 15, 40], [-10, 10, 60]]
    s.call(
        "sweep",
        sketch_id="sketch1",
        path=[{"kind": "spline", "points": points}],
        profile_placement="normal_to_path",
    )
    # the same curve made independently: the volume is the section times its length
    curve = cq.Edge.makeSpline([cq.Vector(0, 0, 0), *(cq.Vector(*p) for p in points)])
    length = curve.Length()
    return Expect(4 * PI * length, 4 * PI * length + 8 * PI)


def mitred_rectangular_frame(s: Session) -> Expect:
    # a 6 x 4 bar along a U with sharp corners: mitred ("right") corners keep A * L exactly
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 6, "height": 4}])
    path = [
        {"kind": "line", "end": [0, 0, 40]},
        {"kind": "line", "end": [30, 0, 40]},
        {"kind": "line", "end": [30, 0, 0]},
    ]
    s.call("sweep", sketch_id="sketch1", path=path, transition="right")
    return Expect(24 * 110, faces=10, bbox=(-3, -2, 0, 33, 2, 43))


def slot_bar_swept_along_a_line(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "slot", "length": 20, "width": 8}])
    s.call("sweep", sketch_id="sketch1", path=[{"kind": "line", "end": [0, 0, 50]}])
    area = 2 * _slot_area(20, 8) + 50 * _slot_perimeter(20, 8)
    return Expect(50 * _slot_area(20, 8), area, 6, (-10, -4, 0, 10, 4, 50))


# --- lofts ---------------------------------------------------------------------------------


def lofted_circle_to_square_transition(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 40, "height": 40}])
    s.call("create_sketch", offset=30, entities=[{"kind": "circle", "radius": 15}])
    s.call("loft", sections=["sketch1", "sketch2"])
    volume = s.volume()
    assert 30 * PI * 225 < volume < 30 * 1600  # between the two prisms
    reference = cq.Workplane("XY").rect(40, 40).workplane(offset=30).circle(15).loft()
    return Expect(reference=reference, bbox=(-20, -20, 0, 20, 20, 30))


def tapered_boss_on_a_plate_with_a_hole(s: Session) -> Expect:
    _plate(s, 80, 80, 10)
    s.call("create_sketch", offset=10, entities=[{"kind": "rectangle", "width": 40, "height": 40}])
    s.call("create_sketch", offset=40, entities=[{"kind": "rectangle", "width": 20, "height": 20}])
    s.call("loft", sections=["sketch2", "sketch3"], ruled=True)
    s.call("hole", face="loft1.end", diameter=8)  # the loft's last section is a named cap
    slant = math.hypot(30, 10)
    volume = 64000 + _frustum(30, 1600, 400) - 16 * PI * 40
    area = 16000 - 1600 + 4 * 30 * slant + 400 - 32 * PI + 8 * PI * 40
    return Expect(volume, area, 12, (-40, -40, 0, 40, 40, 40))


def ruled_loft_through_three_squares(s: Session) -> Expect:
    for size, z in ((40, 0), (20, 30), (40, 60)):
        s.call(
            "create_sketch",
            offset=z,
            entities=[{"kind": "rectangle", "width": size, "height": size}],
        )
    s.call("loft", sections=["sketch1", "sketch2", "sketch3"], ruled=True)
    slant = math.hypot(30, 10)
    area = 2 * 1600 + 2 * 4 * 30 * slant
    return Expect(2 * _frustum(30, 1600, 400), area, 10, (-20, -20, 0, 20, 20, 60))


def conical_loft(s: Session) -> Expect:
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 20}])
    s.call("create_sketch", offset=25, entities=[{"kind": "circle", "radius": 10}])
    s.call("loft", sections=["sketch1", "sketch2"], ruled=True)
    volume = PI * 25 / 3 * (400 + 200 + 100)
    area = PI * 400 + PI * 100 + PI * 30 * math.hypot(25, 10)
    return Expect(volume, area, 3, (-20, -20, 0, 20, 20, 25))


def tapered_pocket_by_loft_cut(s: Session) -> Expect:
    _plate(s, 60, 60, 30)
    s.call("create_sketch", offset=30, entities=[{"kind": "rectangle", "width": 40, "height": 40}])
    s.call("create_sketch", offset=10, entities=[{"kind": "rectangle", "width": 20, "height": 20}])
    s.call("loft", sections=["sketch2", "sketch3"], ruled=True, operation="cut")
    slant = math.hypot(20, 10)
    area = 2 * 3600 + 4 * 60 * 30 - 1600 + 4 * 30 * slant + 400
    return Expect(108000 - _frustum(20, 1600, 400), area, 11, (-30, -30, 0, 30, 30, 30))


def smooth_lofted_vase(s: Session) -> Expect:
    for radius, z in ((10, 0), (15, 20), (10, 40)):
        s.call("create_sketch", offset=z, entities=[{"kind": "circle", "radius": radius}])
    s.call("loft", sections=["sketch1", "sketch2", "sketch3"])
    reference = (
        cq.Workplane("XY")
        .circle(10)
        .workplane(offset=20)
        .circle(15)
        .workplane(offset=20)
        .circle(10)
        .loft()
    )
    return Expect(reference=reference, bbox=(-15, -15, 0, 15, 15, 40))


def loft_to_an_inclined_datum_plane(s: Session) -> Expect:
    # square 20 on XY to square 20 on a plane turned 30 degrees about X, 40 along its normal:
    # every side face is planar and x-extrusion-like, so V = 20 * (area of the y-z section)
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 20, "height": 20}])
    out = s.call("datum_plane", plane="XY", axis="X", angle=30, offset=40)
    s.call(
        "create_sketch",
        datum=out["datum_id"],
        entities=[{"kind": "rectangle", "width": 20, "height": 20}],
    )
    s.call("loft", sections=["sketch1", "sketch2"])
    t = math.radians(30)
    centre = (-40 * math.sin(t), 40 * math.cos(t))  # (y, z)
    along = (math.cos(t), math.sin(t))
    quad = [
        (-10.0, 0.0),
        (10.0, 0.0),
        (centre[0] + 10 * along[0], centre[1] + 10 * along[1]),
        (centre[0] - 10 * along[0], centre[1] - 10 * along[1]),
    ]
    section = 0.5 * abs(
        sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(quad, quad[1:] + quad[:1], strict=True))
    )
    ys = [p[0] for p in quad]
    zs = [p[1] for p in quad]
    return Expect(20 * section, faces=6, bbox=(-10, min(ys), 0, 10, max(ys), max(zs)))


# --- slots and splines ---------------------------------------------------------------------


def slotted_plate(s: Session) -> Expect:
    _plate(s, 80, 40, 6)
    s.call(
        "create_sketch",
        offset=6,
        entities=[
            {"kind": "slot", "center": [-15, 0], "length": 30, "width": 8},
            {"kind": "slot", "center": [25, 0], "length": 20, "width": 6, "angle": 90},
        ],
    )
    s.call("extrude", sketch_id="sketch2", distance=6, operation="cut")
    slots = _slot_area(30, 8) + _slot_area(20, 6)
    area = 2 * (3200 - slots) + 2 * 120 * 6 + 6 * (_slot_perimeter(30, 8) + _slot_perimeter(20, 6))
    return Expect(6 * (3200 - slots), area, 14, (-40, -20, 0, 40, 20, 6))


def angled_slot_by_tool(s: Session) -> Expect:
    s.call("create_sketch")
    out = s.call("add_slot", sketch_id="sketch1", length=30, width=10, angle=30)
    assert out["closed_profiles"] == ["slot"]
    s.call("extrude", sketch_id="sketch1", distance=5)
    # overall length 30: the end centres are 20 apart, 10 along x * cos 30 either side
    hx = 10 * math.cos(math.radians(30)) + 5
    hy = 10 * math.sin(math.radians(30)) + 5
    area = 2 * _slot_area(30, 10) + 5 * _slot_perimeter(30, 10)
    return Expect(5 * _slot_area(30, 10), area, 6, (-hx, -hy, 0, hx, hy, 5))


_CAM_SPLINE = [[30, 0], [20, 18], [0, 24], [-20, 14], [-25, 0]]


def spline_profile_cam(s: Session) -> Expect:
    # the cam's lift side is a spline from (30, 0) to (-25, 0); a half circle closes it
    s.call("create_sketch")
    out = s.call("add_spline", sketch_id="sketch1", points=_CAM_SPLINE)
    assert out["open_chain"] is not None and out["closed_profiles"] == []
    out = s.call("add_arc", sketch_id="sketch1", start=[-25, 0], mid=[2.5, -27.5], end=[30, 0])
    assert out["closed_profiles"] == ["profile of 2 segments"] and out["open_chain"] is None
    s.call("extrude", sketch_id="sketch1", distance=12)
    s.call("hole", face=">Z", positions=[[0, 0]], diameter=10)
    # the hole is placed on the face's bounding-box centre: recompute it the same way
    reference = (
        cq.Workplane("XY")
        .moveTo(30, 0)
        .spline([(20, 18), (0, 24), (-20, 14), (-25, 0)], includeCurrent=True)
        .threePointArc((2.5, -27.5), (30, 0))
        .close()
        .extrude(12)
    )
    box = reference.val().BoundingBox()
    bore = cq.Workplane("XY").center(box.center.x, box.center.y).circle(5).extrude(12)
    # OCCT integrates volumes bounded by B-spline faces to a few 1e-4 (the same solid built
    # two ways differs by 1e-6 here, 5e-5 for the knob, whose 12 x section area is 4e-4 off)
    return Expect(reference=reference.cut(bore), rel=1e-3)


def periodic_spline_knob(s: Session) -> Expect:
    # eight lobes: a periodic spline alternating between radius 20 and 16, extruded 12 mm,
    # with a 6 mm bore
    points = [
        [
            (20 if k % 2 == 0 else 16) * math.cos(k * PI / 4),
            (20 if k % 2 == 0 else 16) * math.sin(k * PI / 4),
        ]
        for k in range(8)
    ]
    s.call("create_sketch")
    out = s.call("add_spline", sketch_id="sketch1", points=points, periodic=True)
    assert out["closed_profiles"] == ["periodic spline"]
    s.call("add_circle", sketch_id="sketch1", radius=3)
    s.call("extrude", sketch_id="sketch1", distance=12)
    volume = s.volume()
    assert 12 * PI * (256 - 9) < volume < 12 * PI * (400 - 9)
    reference = (
        cq.Workplane("XY")
        .spline([tuple(p) for p in points], periodic=True)
        .close()
        .extrude(12)
        .faces(">Z")
        .workplane()
        .hole(6)
    )
    return Expect(reference=reference, rel=1e-3)  # B-spline volume integration, see the cam


PARTS: dict[str, Part] = {
    f.__name__: f
    for f in (
        compression_spring,
        left_hand_spring_by_turns_with_parameter,
        spring_with_profile_normal_to_the_helix,
        bent_rod,
        swept_handle_on_a_block,
        sweep_cut_groove,
        rod_along_a_spline,
        mitred_rectangular_frame,
        slot_bar_swept_along_a_line,
        lofted_circle_to_square_transition,
        tapered_boss_on_a_plate_with_a_hole,
        ruled_loft_through_three_squares,
        conical_loft,
        tapered_pocket_by_loft_cut,
        smooth_lofted_vase,
        loft_to_an_inclined_datum_plane,
        slotted_plate,
        angled_slot_by_tool,
        spline_profile_cam,
        periodic_spline_knob,
    )
}


built, test_part, test_scripts_rebuild_in_a_fresh_interpreter = part_tests(PARTS)
