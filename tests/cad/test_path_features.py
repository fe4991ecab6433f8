"""Sweep, loft, slots and splines refuse bad input with a clear message and leave the document
exactly as it was (`Session.refused`); the refusals that guard against OCCT's "valid" but
self-intersecting solids are shown to be needed."""

from __future__ import annotations

import math

import cadquery as cq
import pytest

from solidtype_jupyter.cad.script_helpers import helix_path, profile

from .conftest import Session

R2 = math.sqrt(2)


@pytest.fixture
def coil() -> Session:
    """A 2 mm wire section on XZ at 10 mm from the Z axis, ready to sweep along a helix."""
    s = Session()
    s.call(
        "create_sketch", plane="XZ", entities=[{"kind": "circle", "center": [10, 0], "radius": 1}]
    )
    return s


@pytest.fixture
def rod() -> Session:
    """A 4 mm radius section on XY at the origin, ready to sweep along a path from there."""
    s = Session()
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 4}])
    return s


# --- helix sweeps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("helix", "message"),
    [
        # coils 1.5 apart, wire 2 thick: the turns would overlap
        ({"pitch": 1.5, "height": 30, "radius": 10}, "spans 2 mm along the helix axis"),
        ({"pitch": 2, "height": 30, "radius": 10}, "not less than the pitch (2 mm)"),
        ({"pitch": 5, "height": 30, "turns": 6, "radius": 10}, "exactly one of height or turns"),
        ({"pitch": 5, "radius": 10}, "exactly one of height or turns"),
        ({"pitch": 0, "height": 30, "radius": 10}, "helix pitch must be greater than 0"),
        ({"pitch": 5, "height": 30, "radius": -1}, "helix radius must be greater than 0"),
        ({"pitch": 5, "turns": 0, "radius": 10}, "helix turns must be greater than 0"),
        ({"pitch": 0.01, "height": 30, "radius": 10}, "at most 500 are supported"),
        ({"pitch": 5, "height": 30, "radius": 10, "axis": [0, 0, 0]}, "zero vector"),
        (
            {"pitch": 5, "height": 30, "radius": 10, "start_direction": [1, 0, 1]},
            "perpendicular to the axis",
        ),
        ({"pitch": "coil_pitch", "height": 30, "radius": 10}, "coil_pitch"),
    ],
)
def test_bad_helix_sweeps_are_refused(coil: Session, helix: dict, message: str) -> None:
    assert message in coil.refused("sweep", sketch_id="sketch1", helix=helix)


def test_a_profile_across_the_helix_axis_is_refused() -> None:
    s = Session()
    s.call(
        "create_sketch", plane="XZ", entities=[{"kind": "circle", "center": [1, 0], "radius": 2}]
    )
    message = s.refused("sweep", sketch_id="sketch1", helix={"pitch": 8, "turns": 2, "radius": 1})
    assert "reaches the helix axis" in message


def test_occt_returns_a_valid_solid_for_overlapping_coils() -> None:
    """Why the pitch is checked: the kernel does not notice coils passing through each other."""
    section = profile(cq.Workplane("XZ").pushPoints([(10, 0)]).circle(1))
    path = helix_path(1.0, 3.0, 10, (0, 0, 0), (0, 0, 1), (1, 0, 0))
    solid = section.sweep(path, isFrenet=True, combine=False).val()
    assert solid.isValid()
    # and reports the volume of three separate turns although they overlap
    assert solid.Volume() == pytest.approx(3 * 2 * math.pi * 10 * math.pi, rel=1e-4)


def test_a_coil_exactly_as_thick_as_the_pitch_apart_but_shorter_than_a_turn_is_accepted(
    coil: Session,
) -> None:
    # less than one turn cannot meet itself, whatever the pitch
    coil.call("sweep", sketch_id="sketch1", helix={"pitch": 1, "height": 0.5, "radius": 10})
    assert coil.solid().isValid()


# --- path sweeps -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "give a path (path_start and segments) or a helix"),
        (
            {
                "path": [{"kind": "line", "end": [0, 0, 5]}],
                "helix": {"pitch": 5, "height": 9, "radius": 9},
            },
            "not both",
        ),
        ({"path": [{"kind": "line", "end": [0, 0, 0]}]}, "the same point"),
        (
            {"path": [{"kind": "arc", "mid": [0, 0, 5], "end": [0, 0, 10]}]},
            "start, mid and end lie on one line",
        ),
        ({"path": [{"kind": "spline", "points": [[0, 0, 5], [0, 0, 5]]}]}, "the same point"),
        # the path runs in the profile's plane: the profile would sweep edge-on
        ({"path": [{"kind": "line", "end": [30, 0, 0]}]}, "sweep edge-on"),
        (
            {"path_start": [0, 0, 5], "path": [{"kind": "line", "end": [0, 0, 50]}]},
            "5 mm off the plane",
        ),
        # a bend of radius 3 around a section of radius 4 would fold the tube into itself
        (
            {
                "path": [
                    {"kind": "line", "end": [0, 0, 20]},
                    {"kind": "arc", "mid": [3 - 3 / R2, 0, 20 + 3 / R2], "end": [3, 0, 23]},
                ]
            },
            "path segment 2 bends with a radius of 3 mm",
        ),
        (
            {"path": [{"kind": "spline", "points": [[0, 0, 10], [2, 0, 12], [0, 0, 14]]}]},
            "bends with a radius of",
        ),
        ({"path": [{"kind": "line", "end": [0, 0, "2 *"]}]}, "path segment 1 (line) end z"),
        ({"path": [{"kind": "line", "end": [0, 0, 20]}], "operation": "cut"}, "no body yet"),
    ],
)
def test_bad_path_sweeps_are_refused(rod: Session, args: dict, message: str) -> None:
    assert message in rod.refused("sweep", sketch_id="sketch1", **args)


def test_occt_returns_a_valid_solid_for_a_bend_tighter_than_the_profile() -> None:
    """Why bends are checked: a radius 4 tube bent about radius 3 passes through itself."""
    section = profile(cq.Workplane("XY").circle(4))
    c = cq.Vector(3, 0, 20)
    path = cq.Wire.assembleEdges(
        [
            cq.Edge.makeLine(cq.Vector(0, 0, 0), cq.Vector(0, 0, 20)),
            cq.Edge.makeThreePointArc(
                cq.Vector(0, 0, 20), c + cq.Vector(-3, 0, 3) / math.sqrt(2), c + cq.Vector(0, 0, 3)
            ),
        ]
    )
    assert section.sweep(path, combine=False).val().isValid()


def test_sweep_needs_a_closed_profile() -> None:
    s = Session()
    s.call("create_sketch", entities=[{"kind": "line", "start": [0, 0], "end": [10, 0]}])
    message = s.refused("sweep", sketch_id="sketch1", path=[{"kind": "line", "end": [0, 0, 9]}])
    assert "sketch1 has an open profile" in message
    assert "unknown sketch 'sketch9'" in s.refused(
        "sweep", sketch_id="sketch9", path=[{"kind": "line", "end": [0, 0, 9]}]
    )
    s.call("create_sketch")
    assert "no closed profile" in s.refused(
        "sweep", sketch_id="sketch2", path=[{"kind": "line", "end": [0, 0, 9]}]
    )


def test_a_path_spline_is_rebuilt_when_a_parameter_changes(rod: Session) -> None:
    rod.call("set_parameter", name="rise", value=40)
    path = [{"kind": "spline", "points": [[5, 0, 20], [0, 5, "rise"]]}]
    rod.call("sweep", sketch_id="sketch1", path=path, profile_placement="normal_to_path")
    before = rod.volume()
    out = rod.call("set_parameter", name="rise", value=60)
    assert out["rebuilt"] == ["sweep1"]
    assert rod.volume() > before * 1.2
    assert "rise" in rod.doc.to_script().split("# --- features ---")[1]


# --- lofts -------------------------------------------------------------------------------


@pytest.fixture
def sections() -> Session:
    s = Session()
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 40, "height": 40}])  # 1
    s.call("create_sketch", offset=30, entities=[{"kind": "circle", "radius": 10}])  # 2
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 5}])  # 3: plane of 1
    s.call(  # 4: two profiles
        "create_sketch",
        offset=60,
        entities=[
            {"kind": "circle", "radius": 5},
            {"kind": "circle", "center": [20, 0], "radius": 5},
        ],
    )
    s.call(  # 5: a ring
        "create_sketch",
        offset=60,
        entities=[{"kind": "circle", "radius": 10}, {"kind": "circle", "radius": 5}],
    )
    s.call(
        "create_sketch", plane="XZ", entities=[{"kind": "rectangle", "width": 20, "height": 20}]
    )  # 6
    s.call(
        "create_sketch", offset=90, entities=[{"kind": "line", "start": [0, 0], "end": [5, 0]}]
    )  # 7
    return s


@pytest.mark.parametrize(
    ("sections_", "message"),
    [
        (["sketch1"], "at least 2"),
        (["sketch1", "sketch1"], "sketch1 follows itself"),
        (["sketch1", "sketch3"], "sketch1 and sketch3 lie on the same plane"),
        (["sketch1", "sketch4"], "sketch4 has 2 (circle, circle)"),
        (["sketch1", "sketch5"], "loft section sketch5 has a hole"),
        (["sketch1", "sketch6"], "sketch1 and sketch6 touch or cross each other"),
        (["sketch1", "sketch7"], "sketch7 has an open profile"),
        (["sketch1", "sketch8"], "unknown sketch 'sketch8'"),
    ],
)
def test_bad_lofts_are_refused(sections: Session, sections_: list, message: str) -> None:
    assert message in sections.refused("loft", sections=sections_)


def test_a_twisted_loft_is_refused() -> None:
    # a square on XY and one on YZ drawn with its first side along Y: the loft turns inside out
    s = Session()
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 20, "height": 20}])
    s.call(
        "create_sketch",
        plane="YZ",
        offset=40,
        entities=[{"kind": "rectangle", "center": [0, 40], "width": 20, "height": 20}],
    )
    assert "inside-out" in s.refused("loft", sections=["sketch1", "sketch2"])


# --- slots and splines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"length": 10, "width": 10}, "overall length, end to end, and must exceed the width"),
        ({"length": 8, "width": 10}, "must exceed the width"),
        ({"length": 20, "width": 0}, "slot width must be greater than 0"),
        ({"length": "len", "width": 4}, "slot length"),
    ],
)
def test_bad_slots_are_refused(args: dict, message: str) -> None:
    s = Session()
    s.call("create_sketch")
    assert message in s.refused("add_slot", sketch_id="sketch1", **args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"points": [[0, 0]]}, "at least 2"),
        ({"points": [[0, 0], [5, 5], [5, 5], [9, 0]]}, "points 2 and 3 are the same point"),
        ({"points": [[0, 0], [0, 0]]}, "the same point"),
        ({"points": [[0, 0], [5, 5]], "periodic": True}, "needs at least 3 points"),
        (
            {"points": [[0, 0], [10, 0], [5, 8], [0, 0]], "periodic": True},
            "do not repeat the first point",
        ),
    ],
)
def test_bad_splines_are_refused(args: dict, message: str) -> None:
    s = Session()
    s.call("create_sketch")
    assert message in s.refused("add_spline", sketch_id="sketch1", **args)


def test_entities_go_into_sketches_only() -> None:
    s = Session()
    s.call("create_sketch", entities=[{"kind": "rectangle", "width": 10, "height": 10}])
    s.call("extrude", sketch_id="sketch1", distance=5)
    assert "not a sketch" in s.refused("add_slot", sketch_id="extrude1", length=10, width=4)
    assert "sketch9" in s.refused("add_spline", sketch_id="sketch9", points=[[0, 0], [1, 1]])


def test_an_open_spline_reversed_in_a_chain_keeps_its_shape() -> None:
    # the spline is drawn from (-25, 0) to (30, 0) but the chain meets it at (30, 0) first
    forward = Session()
    forward.call("create_sketch")
    forward.call("add_line", sketch_id="sketch1", start=[-25, 0], end=[30, 0])
    forward.call("add_spline", sketch_id="sketch1", points=[[30, 0], [10, 15], [-25, 0]])
    backward = Session()
    backward.call("create_sketch")
    backward.call("add_line", sketch_id="sketch1", start=[-25, 0], end=[30, 0])
    backward.call("add_spline", sketch_id="sketch1", points=[[-25, 0], [10, 15], [30, 0]])
    for s in (forward, backward):
        s.call("extrude", sketch_id="sketch1", distance=2)
    assert forward.volume() == pytest.approx(backward.volume(), rel=1e-6)
    assert forward.volume() > 2 * 0.5 * 55 * 15 * 0.9  # about the triangle it bulges over


def test_faces_of_a_swept_body_can_be_listed_and_drilled(rod: Session) -> None:
    # a swept tube's straight runs are cylinders wrapped in trimmed surfaces: describing them
    # failed (AttributeError: no 'Cylinder') in find_faces and in every face selection
    rod.call("sweep", sketch_id="sketch1", path=[{"kind": "line", "end": [0, 0, 30]}])
    found = rod.call("find_faces", type="CYLINDER")
    assert [(f["radius"], tuple(f["axis"])) for f in found["items"]] == [(4.0, (0.0, 0.0, 1.0))]
    before = rod.volume()
    rod.call("hole", face=">Z", diameter=2, depth=10)
    assert rod.volume() == pytest.approx(before - math.pi * 10, rel=1e-9)


def test_a_sweep_is_modified_and_protected_like_an_extrude(coil: Session) -> None:
    coil.call(
        "create_sketch", plane="XZ", entities=[{"kind": "circle", "center": [10, 0], "radius": 2}]
    )
    coil.call("sweep", sketch_id="sketch1", helix={"pitch": 5, "turns": 4, "radius": 10})
    volume = 4 * 2 * math.pi * 10 * math.pi
    assert coil.volume() == pytest.approx(volume, rel=1e-6)
    out = coil.call(
        "modify_feature",
        feature_id="sweep1",
        changes={"helix": {"pitch": 8, "turns": 4, "radius": 10}},
    )
    assert out["rebuilt"] == ["sweep1"]
    assert out["geometry"]["bbox"]["max"][2] == pytest.approx(33, abs=1e-2)  # 4 turns of 8
    assert coil.volume() == pytest.approx(volume, rel=1e-6)  # a screw keeps the volume
    coil.call("create_sketch", plane="XZ", entities=[{"kind": "circle", "radius": 1}])
    message = coil.refused("modify_feature", feature_id="sweep1", changes={"sketch_id": "sketch3"})
    assert "unknown sketch 'sketch3'" in message  # drawn after the sweep: not visible to it
    coil.call("modify_feature", feature_id="sweep1", changes={"sketch_id": "sketch2"})
    assert coil.volume() == pytest.approx(4 * volume, rel=1e-6)
    assert "sweep1" in coil.refused("delete_feature", feature_id="sketch2")
    # the overlap check follows the change: a 4 mm wire on a 3 mm pitch is refused
    changes = {"helix": {"pitch": 3, "turns": 4, "radius": 10}}
    assert "spans 4 mm" in coil.refused("modify_feature", feature_id="sweep1", changes=changes)


def test_shelling_a_circle_to_square_loft_says_how_to_hollow_it() -> None:
    # OCCT cannot offset these lofted faces at any thickness; the refusal names the way that
    # works (a loft cut through smaller sections), checked here too
    s = Session()
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 15}])
    square = {"kind": "rectangle", "width": 30, "height": 30}
    s.call("create_sketch", offset=40, entities=[square])
    s.call("loft", sections=["sketch1", "sketch2"])
    message = s.refused("shell", faces=["loft1.start", "loft1.end"], thickness=1)
    assert "cut a loft through smaller sections" in message
    outside = s.volume()
    s.call("create_sketch", entities=[{"kind": "circle", "radius": 13}])
    s.call("create_sketch", offset=40, entities=[{**square, "width": 26, "height": 26}])
    s.call("loft", sections=["sketch3", "sketch4"], operation="cut")
    inside = cq.Solid.makeLoft(
        [
            cq.Wire.makeCircle(13, cq.Vector(0, 0, 0), cq.Vector(0, 0, 1)),
            cq.Workplane("XY").workplane(offset=40).rect(26, 26).wire().val(),
        ]
    )
    assert s.volume() == pytest.approx(outside - inside.Volume(), rel=1e-6)
    assert len(s.solid().Shells()) == 1
