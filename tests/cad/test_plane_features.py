"""Datum planes, mirror, split and the extended extrude/hole/pattern/revolve refuse bad input
with a clear message and leave the document exactly as it was (`Session.refused`)."""

from __future__ import annotations

import math

import pytest

from .conftest import Session


def _plate(s: Session, w: float = 40, h: float = 30, t: float = 10) -> None:
    s.call("create_sketch", plane="XY", entities=[{"kind": "rectangle", "width": w, "height": h}])
    s.call("extrude", sketch_id="sketch1", distance=t)


@pytest.fixture
def plate() -> Session:
    s = Session()
    _plate(s)
    return s


# --- datum planes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "give exactly one of plane, datum or face (got: none)"),
        ({"plane": "XY", "face": ">Z"}, "got: plane, face"),
        ({"point": [0, 0, 5]}, "needs both point and normal"),
        ({"point": [0, 0, 5], "normal": [0, 0, 1], "plane": "XY"}, "not both"),
        ({"point": [0, 0, 5], "normal": [0, 0, 0]}, "normal must not be the zero vector"),
        ({"plane": "XY", "angle": 30}, "exactly one of axis (X, Y, Z) or edge"),
        ({"plane": "XY", "axis": "X"}, "axis/edge given without an angle"),
        ({"plane": "XY", "angle": 400, "axis": "X"}, "between -360 and 360"),
        ({"plane": "XY", "angle": 30, "axis": "Z"}, "the axis must lie in the base plane"),
        ({"datum": "datum7"}, "unknown datum plane 'datum7'"),
        ({"datum": "sketch1"}, "unknown datum plane 'sketch1'"),
        ({"face": "%CYLINDER"}, "matched no face"),
        ({"plane": "XY", "angle": 10, "edge": "|Z and >X and >Y"}, "must lie in the base"),
        ({"plane": "XY", "offset": "nope + 1"}, "offset"),
    ],
)
def test_bad_datum_planes_are_refused(plate: Session, args: dict, message: str) -> None:
    assert message in plate.refused("datum_plane", **args)


def test_a_datum_turned_about_an_edge_of_a_face(plate: Session) -> None:
    # the top face's edge along X at y = 15 lies in the top face: a hinge line
    edge = {"type": "LINE", "center": [0, 15, 10]}
    out = plate.call("datum_plane", face=">Z", angle=90, edge=edge)
    # the edge counts as +X: the face turns by the right-hand rule about +X, and its origin
    # (the face centre, 15 mm from the hinge) swings with it
    assert tuple(out["normal"]) == pytest.approx((0, -1, 0), abs=1e-9)
    assert tuple(out["origin"]) == pytest.approx((0, 15, -5), abs=1e-9)


def test_a_sketch_on_a_datum_plane_names_a_real_datum(plate: Session) -> None:
    circle = [{"kind": "circle", "radius": 2}]
    assert "unknown datum plane 'datum1'" in plate.refused(
        "create_sketch", datum="datum1", entities=circle
    )
    plate.call("datum_plane", plane="XY", offset=20)
    assert "not both" in plate.refused("create_sketch", datum="datum1", face=">Z", entities=circle)
    plate.call("create_sketch", datum="datum1", entities=circle)
    message = plate.refused("delete_feature", feature_id="datum1")
    assert "used by sketch2" in message


# --- mirror ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "give exactly one of plane, datum or face (got: none)"),
        ({"plane": "XY", "datum": "datum1"}, "got: plane, datum"),
        ({"plane": "YZ", "features": ["sketch1"]}, "cannot mirror 'sketch1'"),
        ({"plane": "YZ", "features": ["hole9"]}, "cannot mirror 'hole9'"),
        ({"plane": "YZ", "features": ["hole1", "hole1"]}, "listed twice"),
        ({"plane": "YZ", "features": ["hole1"], "new_body": True}, "new_body is for"),
        ({"plane": "YZ", "body": "body9"}, "unknown body 'body9'"),
        ({"face": "%CYLINDER"}, "is a CYLINDER face"),
    ],
)
def test_bad_mirrors_are_refused(plate: Session, args: dict, message: str) -> None:
    plate.call("hole", positions=[[10, 0]], diameter=4)
    assert message in plate.refused("mirror", **args)


# --- split -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "give exactly one of plane, datum or face (got: none)"),
        ({"datum": "datum1"}, "unknown datum plane 'datum1'"),
        ({"plane": "XY"}, "all of it lies on the positive side"),
        ({"face": ">Z", "keep": "positive"}, "all of it lies on the negative side"),
        ({"plane": "YZ", "body": "body3"}, "unknown body 'body3'"),
    ],
)
def test_bad_splits_are_refused(plate: Session, args: dict, message: str) -> None:
    assert message in plate.refused("split", **args)


def test_a_split_far_from_the_body_is_refused_on_the_right_side(plate: Session) -> None:
    plate.call("datum_plane", plane="XY", offset=500)
    assert "all of it lies on the negative side" in plate.refused("split", datum="datum1")


def test_new_bodies_after_a_split_take_the_next_free_name(plate: Session) -> None:
    plate.call("split", plane="YZ")
    plate.call("create_sketch", plane="XY", entities=[{"kind": "circle", "radius": 2}])
    out = plate.call("extrude", sketch_id="sketch2", distance=3, operation="new")
    assert out["feature"]["body"] == "body3"
    assert list(plate.doc.bodies) == ["body1", "body2", "body3"]


# --- holes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"csk_diameter": 12}, "needs both csk_diameter and csk_angle"),
        ({"csk_angle": 90}, "needs both csk_diameter and csk_angle"),
        ({"csk_diameter": 5, "csk_angle": 90}, "csk_diameter (5) must exceed diameter (6)"),
        ({"csk_diameter": 12, "csk_angle": 180}, "less than 180 degrees"),
        ({"csk_diameter": 12, "csk_angle": -10}, "csk_angle must be greater than 0"),
        (
            {"csk_diameter": 12, "csk_angle": 90, "cbore_diameter": 12, "cbore_depth": 2},
            "a counterbore or a countersink, not both",
        ),
        ({"csk_diameter": 12, "csk_angle": 90, "depth": 2}, "not less than the hole depth"),
        ({"csk_diameter": 40, "csk_angle": 60}, "deeper than the material under it"),
    ],
)
def test_bad_countersinks_are_refused(plate: Session, args: dict, message: str) -> None:
    assert message in plate.refused("hole", diameter=6, **args)


# --- extrude -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"distance": 5, "draft": 90}, "between -89 and 89"),
        ({"extent": "through_all", "operation": "cut", "draft": 3}, "needs a blind extrude"),
        ({"extent": "up_to_face", "operation": "join"}, "up_to_face needs `face`"),
        ({"extent": "up_to_face", "face": ">Z", "distance": 4}, "takes no distance"),
        ({"distance": 5, "face": ">Z"}, "only used with extent up_to_face"),
        ({"extent": "up_to_face", "face": ">X", "operation": "join"}, "parallel to the sketch"),
        ({"extent": "up_to_face", "face": "%CYLINDER"}, "matched no face"),
        ({"extent": "through_all", "operation": "new"}, "needs an existing body"),
    ],
)
def test_bad_extrudes_are_refused(plate: Session, args: dict, message: str) -> None:
    plate.call("create_sketch", plane="XY", offset=30, entities=[{"kind": "circle", "radius": 3}])
    assert message in plate.refused("extrude", sketch_id="sketch2", **args)


def test_up_to_a_face_in_the_sketch_plane_is_refused(plate: Session) -> None:
    plate.call("create_sketch", face=">Z", entities=[{"kind": "circle", "radius": 3}])
    message = plate.refused(
        "extrude", sketch_id="sketch2", extent="up_to_face", face=">Z", operation="join"
    )
    assert "lies in the sketch plane" in message


def test_a_draft_needs_a_profile_without_holes(plate: Session) -> None:
    ring = [{"kind": "circle", "radius": 8}, {"kind": "circle", "radius": 4}]
    plate.call("create_sketch", face=">Z", entities=ring)
    message = plate.refused("extrude", sketch_id="sketch2", distance=5, draft=3)
    assert "a draft needs profiles without holes" in message
    assert "then cut the hole" in message


@pytest.mark.parametrize(
    ("draft", "direction"), [(50, "normal"), (45, "normal"), (70, "symmetric")]
)
def test_a_draft_that_closes_the_profile_is_refused(
    plate: Session, draft: float, direction: str
) -> None:
    # a 20 x 12 boss 10 mm tall: 45 degrees closes the 12 mm side at 6 mm, before the end;
    # OCCT returned a valid solid anyway: a shorter roof (50), a wrong pyramid (45)
    rect = {"kind": "rectangle", "width": 20, "height": 12}
    plate.call("create_sketch", face=">Z", entities=[rect])
    message = plate.refused(
        "extrude", sketch_id="sketch2", distance=10, draft=draft, direction=direction
    )
    assert "the profile closes before the end of the extrusion" in message


def test_a_draft_that_just_stays_open_is_built_exactly(plate: Session) -> None:
    # 29 degrees over 10 mm moves each side in by 5.54 mm, less than the 6 mm half height
    plate.call(
        "create_sketch", face=">Z", entities=[{"kind": "rectangle", "width": 20, "height": 12}]
    )
    plate.call("extrude", sketch_id="sketch2", distance=10, draft=29)
    t = math.tan(math.radians(29))
    # the integral of (20 - 2 t z)(12 - 2 t z) dz from 0 to 10
    boss = 2400 - 32 * t * 100 + 4 * t * t * 1000 / 3
    assert plate.volume() == pytest.approx(12000 + boss, rel=1e-6)
    assert plate.doc.geometry()["bbox"]["max"][2] == pytest.approx(20, abs=1e-6)


def test_a_negative_draft_rounds_the_corners(plate: Session) -> None:
    # the kernel widens a profile like an offset with arcs: the section at height z has
    # area A + P d + pi d^2 (d = z tan 10), as the tool descriptions say
    rect = {"kind": "rectangle", "width": 20, "height": 12}
    plate.call("create_sketch", face=">Z", entities=[rect])
    plate.call("extrude", sketch_id="sketch2", distance=4, draft=-10)
    t = math.tan(math.radians(10))
    boss = 240 * 4 + 64 * t * 16 / 2 + math.pi * t * t * 64 / 3
    assert plate.volume() == pytest.approx(12000 + boss, rel=1e-6)


def test_a_negative_draft_widens(plate: Session) -> None:
    plate.call("create_sketch", face=">Z", entities=[{"kind": "circle", "radius": 5}])
    plate.call("extrude", sketch_id="sketch2", distance=4, draft=-10)
    big = 5 + 4 * math.tan(math.radians(10))
    frustum = math.pi * 4 / 3 * (25 + 5 * big + big * big)
    assert plate.volume() == pytest.approx(12000 + frustum, rel=1e-6)


# --- patterns and revolves ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"kind": "rectangular", "count": 3, "spacing": 5}, "needs count2 and spacing2"),
        ({"kind": "linear", "count": 3, "count2": 2}, "belong to a rectangular pattern"),
        (
            {
                "kind": "rectangular",
                "count": 2,
                "count2": 2,
                "spacing2": 5,
                "direction2": [2, 0, 0],
            },
            "must not be parallel",
        ),
        (
            {"kind": "rectangular", "count": 30, "count2": 30, "spacing": 1, "spacing2": 1},
            "at most 500",
        ),
        (
            {
                "kind": "rectangular",
                "count": 2,
                "count2": 2,
                "spacing2": 5,
                "direction2": [0, 0, 0],
            },
            "direction2 must not be the zero vector",
        ),
        ({"kind": "rectangular", "count": 2, "count2": 2, "spacing2": -1}, "spacing2 must be"),
    ],
)
def test_bad_rectangular_patterns_are_refused(plate: Session, args: dict, message: str) -> None:
    plate.call("hole", positions=[[-15, -10]], diameter=2)
    assert message in plate.refused("pattern", source="hole1", **args)


def test_a_pattern_of_a_sketch_is_refused() -> None:
    s = Session()
    _plate(s)
    message = s.refused("pattern", source="sketch1", kind="linear", count=2)
    assert "only extrude, revolve, hole, pattern and mirror" in message


@pytest.mark.parametrize(
    ("angle", "message"),
    [(0, "angle must be greater than 0"), (361, "at most 360"), (-90, "greater than 0")],
)
def test_revolve_angles_out_of_range_are_refused(angle: float, message: str) -> None:
    s = Session()
    rect = {"kind": "rectangle", "center": [15, 5], "width": 4, "height": 6}
    s.call("create_sketch", entities=[rect])
    assert message in s.refused("revolve", sketch_id="sketch1", angle=angle)


# --- behaviour the parts do not show ----------------------------------------------------


def test_a_datum_on_a_datum_adds_its_turn_and_offset(plate: Session) -> None:
    plate.call("datum_plane", plane="XZ")  # XZ's normal is -Y
    out = plate.call("datum_plane", datum="datum1", angle=90, axis="X", offset=2)
    # turned 90 degrees about +X the normal -Y becomes -Z; then 2 mm along it
    assert tuple(out["normal"]) == pytest.approx((0, 0, -1), abs=1e-9)
    assert tuple(out["origin"]) == pytest.approx((0, 0, -2), abs=1e-9)
    out = plate.call("datum_plane", datum="datum2", offset=3)
    assert tuple(out["origin"]) == pytest.approx((0, 0, -5), abs=1e-9)
    # the axis goes through the base's origin: datum3 turns about the line z = -5 along X
    out = plate.call("datum_plane", datum="datum3", angle=-90, axis="X")
    assert tuple(out["origin"]) == pytest.approx((0, 0, -5), abs=1e-9)
    assert tuple(out["normal"]) == pytest.approx((0, -1, 0), abs=1e-9)
    assert "must lie in the base plane" in plate.refused(
        "datum_plane", datum="datum4", angle=10, axis="Y"
    )


def test_through_all_from_a_plane_below_the_body() -> None:
    s = Session()
    _plate(s)
    hole = [{"kind": "circle", "radius": 2}]
    s.call("create_sketch", plane="XY", offset=-50, entities=hole)
    s.call(
        "extrude", sketch_id="sketch2", extent="through_all", direction="normal", operation="cut"
    )
    assert s.volume() == pytest.approx(12000 - math.pi * 4 * 10, rel=1e-9)


def test_a_split_whose_new_body_is_used_cannot_be_deleted(plate: Session) -> None:
    plate.call("split", plane="YZ")
    plate.call("hole", body="body2", face="<X", diameter=4)
    message = plate.refused("delete_feature", feature_id="split1")
    assert "cannot delete split1: it is used by hole1" in message
    plate.call("undo")  # the hole
    plate.call("delete_feature", feature_id="split1")
    assert list(plate.doc.bodies) == ["body1"]


def test_an_intersecting_feature_cannot_be_mirrored(plate: Session) -> None:
    plate.call("create_sketch", entities=[{"kind": "circle", "center": [5, 0], "radius": 12}])
    plate.call("extrude", sketch_id="sketch2", distance=10, operation="intersect")
    message = plate.refused("mirror", features=["extrude2"], plane="YZ")
    assert "cannot mirror 'extrude2': it intersects" in message


def test_an_intersecting_feature_cannot_be_patterned(plate: Session) -> None:
    plate.call("create_sketch", entities=[{"kind": "circle", "center": [5, 0], "radius": 12}])
    plate.call("extrude", sketch_id="sketch2", distance=10, operation="intersect")
    message = plate.refused("pattern", source="extrude2", kind="linear", count=2)
    assert "cannot pattern 'extrude2': it intersects" in message


def test_a_datum_made_after_a_feature_is_named_as_such(plate: Session) -> None:
    plate.call("mirror", plane="YZ")
    plate.call("datum_plane", plane="YZ", offset=-5)
    message = plate.refused(
        "modify_feature", feature_id="mirror1", changes={"plane": None, "datum": "datum1"}
    )
    assert "datum planes made before mirror1: none" in message
    assert "only use a datum made before it" in message


def test_parameters_cannot_take_the_names_of_the_new_features() -> None:
    # 'datum1' as a parameter was accepted: the exported script then assigned the datum plane
    # to the same variable, and an extrude using the parameter failed outside the editor
    from solidtype_jupyter.cad.feature_set import FEATURE_TYPES

    s = Session()
    for kind in FEATURE_TYPES:
        assert "reserved" in s.refused("set_parameter", name=f"{kind}1", value=5)
    assert "reserved" in s.refused("set_parameter", name="sweep1_path", value=5)


def test_modify_split_keep_names_or_drops_the_second_body(plate: Session) -> None:
    plate.call("datum_plane", plane="XY", offset=5)
    plate.call("split", datum="datum1", keep="positive")
    out = plate.call("modify_feature", feature_id="split1", changes={"keep": "both"})
    assert out["feature"]["new_body"] == "body2"
    assert plate.call("list_features")["bodies"] == ["body1", "body2"]
    out = plate.call("modify_feature", feature_id="split1", changes={"keep": "negative"})
    assert "new_body" not in out["feature"]
    assert plate.call("list_features")["bodies"] == ["body1"]
    assert plate.volume() == pytest.approx(40 * 30 * 5)


def test_modify_mirror_new_body_takes_true_or_false(plate: Session) -> None:
    plate.call("mirror", plane="XY")
    out = plate.call("modify_feature", feature_id="mirror1", changes={"new_body": True})
    assert out["feature"]["new_body"] == "body2"
    assert plate.call("list_features")["bodies"] == ["body1", "body2"]
    out = plate.call("modify_feature", feature_id="mirror1", changes={"new_body": False})
    assert "new_body" not in out["feature"]
    assert plate.call("list_features")["bodies"] == ["body1"]
    assert len(plate.doc.shape.solids().vals()) == 1


def test_a_pattern_of_a_pattern_is_bounded(plate: Session) -> None:
    # each instance is one more boolean: 1,500 holes took 26 s, a pattern of 500 x 500 hours
    plate.call("hole", positions=[[-15, -10]], diameter=0.5)
    plate.call(
        "pattern",
        source="hole1",
        kind="rectangular",
        count=25,
        count2=20,
        spacing=1,
        spacing2=1,
    )
    message = plate.refused(
        "pattern", source="pattern1", kind="linear", count=2, direction=[0, 0, 1], spacing=1
    )
    assert "500 solid(s) of pattern1 repeated 2 times make 1000 instances" in message


def test_a_mirror_of_mirrors_is_bounded(plate: Session) -> None:
    # every image is one more boolean and each mirror of a mirror doubles the count
    plate.call("hole", positions=[[-15, -10]], diameter=0.5)
    grid = {"kind": "rectangular", "count": 20, "count2": 15, "spacing": 1, "spacing2": 1}
    plate.call("pattern", source="hole1", **grid)
    plate.call("mirror", plane="XY", features=["pattern1"])  # 300 images, below the plate
    message = plate.refused("mirror", plane="XZ", features=["mirror1"])
    assert "the features to mirror hold 600 solids: at most 500 images" in message


def test_one_hole_feature_takes_at_most_500_positions(plate: Session) -> None:
    positions = [[-15 + (i % 25) * 1.2, -10 + (i // 25) * 0.9] for i in range(501)]
    message = plate.refused("hole", positions=positions, diameter=0.2)
    assert "positions: List should have at most 500 items" in message


def test_through_all_from_a_mid_plane_goes_one_way_unless_symmetric() -> None:
    # as the extrude tool says: one direction by default, both with direction symmetric
    for direction, walls in ((None, 1), ("symmetric", 2)):
        s = Session()
        s.call("create_sketch", entities=[{"kind": "circle", "radius": 10}])
        s.call("extrude", sketch_id="sketch1", distance=40)
        hole = {"kind": "circle", "center": [0, 20], "radius": 2}
        s.call("create_sketch", plane="XZ", entities=[hole])
        extra = {"direction": direction} if direction else {}
        s.call("extrude", sketch_id="sketch2", extent="through_all", operation="cut", **extra)
        found = s.call("measure", a={"body": "body1"})["a"]["holes"]
        assert found["count"] == 1
        # the bore's length along its axis: one wall (about 10 mm) or both (about 20 mm)
        assert found["list"][0]["length"] == pytest.approx(10 * walls, abs=0.3)
