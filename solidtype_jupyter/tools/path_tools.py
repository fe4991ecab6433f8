"""Editor tools for solids made along paths and between profiles (sweep, loft) and the sketch
entities they need (add_slot, add_spline).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..cad import CadDocument
from ..cad.features import Number, Point2, Slot, Spline
from ..cad.path_features import Helix, PathSegment, Point3
from .editor_common import Args, add_feature, body_field, document_of, dump_args, editor_spec
from .registry import ToolContext, ToolSpec

Operation = Literal["new", "join", "cut", "intersect"]


# --- sketch entities ---------------------------------------------------------------------


class AddSlotArgs(Args):
    sketch_id: str = Field(description="id of the sketch to draw in (from create_sketch)")
    center: Point2 = Field((0.0, 0.0), description="centre of the slot (sketch coordinates)")
    length: Number = Field(
        description="OVERALL length in mm, end to end including both round ends (not between "
        "the centres of the ends); must exceed width"
    )
    width: Number = Field(description="width in mm = diameter of the round ends")
    angle: Number = Field(0.0, description="degrees from the sketch x axis, counterclockwise")


def _add_entity(ctx: ToolContext, sketch_id: str, entity: BaseModel) -> dict[str, Any]:
    from .editor import _add_entity as add_entity  # editor imports this module

    return add_entity(ctx, sketch_id, entity)


def add_slot(args: AddSlotArgs, ctx: ToolContext) -> dict[str, Any]:
    entity = Slot(center=args.center, length=args.length, width=args.width, angle=args.angle)
    return _add_entity(ctx, args.sketch_id, entity)


class AddSplineArgs(Args):
    sketch_id: str = Field(description="id of the sketch to draw in (from create_sketch)")
    points: list[Point2] = Field(
        min_length=2, max_length=200, description="points the curve passes through, in order"
    )
    periodic: bool = Field(
        False,
        description="true: a smooth closed curve through all points (a profile by itself; do "
        "not repeat the first point); false: an open curve from the first to the last point",
    )


def add_spline(args: AddSplineArgs, ctx: ToolContext) -> dict[str, Any]:
    return _add_entity(ctx, args.sketch_id, Spline(points=args.points, periodic=args.periodic))


# --- solids ------------------------------------------------------------------------------


def _solid(doc: CadDocument, data: dict[str, Any]) -> dict[str, Any]:
    operation = data.get("operation") or ("join" if doc.bodies else "new")
    data["operation"] = operation
    if operation != "new":
        data["body"] = body_field(doc, data.get("body"))
    return add_feature(doc, data)


class SweepArgs(Args):
    sketch_id: str = Field(description="the sketch whose closed profile is swept")
    path_start: Point3 = Field(
        (0.0, 0.0, 0.0), description="where the path begins (mm, model coordinates)"
    )
    path: list[PathSegment] = Field(
        default_factory=list,
        max_length=100,
        description="segments in order, each starting where the previous ends: "
        "{kind: line, end}, {kind: arc, mid, end} (three-point arc), {kind: spline, points} "
        "(through the points; the last is its end). Omit when sweeping along a helix",
    )
    helix: Helix | None = Field(None, description="sweep along a helix instead of a path")
    profile_placement: Literal["as_drawn", "normal_to_path"] = Field(
        "as_drawn",
        description="as_drawn: the profile stays where it is drawn (its plane must contain the "
        "path's start); normal_to_path: the sketch's origin is moved to the path's start and "
        "its plane turned square to the path",
    )
    transition: Literal["right", "round"] = Field(
        "right", description="how the profile turns at sharp corners of the path"
    )
    operation: Operation | None = Field(
        None, description="default: new for the first solid, join afterwards"
    )
    body: str | None = Field(None, description="body to change (default: the latest)")
    name: str | None = None


def sweep(args: SweepArgs, ctx: ToolContext) -> dict[str, Any]:
    data = {"type": "sweep", "sketch": args.sketch_id, **dump_args(args, "sketch_id")}
    return _solid(document_of(ctx), data)


class LoftArgs(Args):
    sections: list[str] = Field(
        min_length=2,
        max_length=50,
        description="ids of two or more sketches, in order; each holds exactly one closed "
        "profile without holes",
    )
    ruled: bool = Field(False, description="true: straight faces between sections; false: smooth")
    operation: Operation | None = Field(
        None, description="default: new for the first solid, join afterwards"
    )
    body: str | None = Field(None, description="body to change (default: the latest)")
    name: str | None = None


def loft(args: LoftArgs, ctx: ToolContext) -> dict[str, Any]:
    return _solid(document_of(ctx), {"type": "loft", **dump_args(args)})


PATH_TOOLS: list[ToolSpec] = [
    editor_spec(
        "add_slot",
        "Add a slot (an obround: two half circles joined by straight sides; a closed profile) "
        "to a sketch. length is the OVERALL length, end to end (CadQuery's slot2D convention): "
        "the centres of the round ends are length - width apart. Sizes in mm, angle in "
        "degrees counterclockwise from the sketch's x axis.",
        AddSlotArgs,
        add_slot,
    ),
    editor_spec(
        "add_spline",
        "Add a smooth curve through points to a sketch. Open (periodic false): it chains with "
        "lines and arcs by its first and last points, like a line, to close a profile. "
        "Periodic: a smooth closed profile by itself (at least 3 points; do not repeat the "
        "first point).",
        AddSplineArgs,
        add_spline,
    ),
    editor_spec(
        "sweep",
        "Sweep a sketch's closed profile along a 3D path of lines, three-point arcs and "
        "splines (starting at path_start), or along a helix (pitch and height or turns, "
        "radius, right or left hand; the axis goes through helix.origin along helix.axis, "
        "default Z, and the path starts radius away towards +X), into a solid: springs, bent "
        "rods, handles, grooves. Lengths in mm, model coordinates. The profile is swept as "
        "drawn (draw it on a plane through the path's start, across the path: for a spring "
        "about Z, a circle on XZ at (radius, 0)) or, with profile_placement normal_to_path, "
        "moved from the sketch's origin to the path's start and turned square to the path. "
        "Refused: coils closer than the profile (pitch not more than the profile's size "
        "along the axis), bends tighter than the profile, a profile touching the helix axis. "
        "operation: new, join, cut or intersect, as for extrude.",
        SweepArgs,
        sweep,
    ),
    editor_spec(
        "loft",
        "Loft a solid through the closed profiles of two or more sketches, in order: on "
        "parallel offset planes (a tapered boss, a circle-to-square transition) or on planes "
        "at an angle (datum planes, faces). ruled: straight faces between sections; smooth "
        "otherwise. Each sketch holds exactly one closed profile without holes. Profiles are "
        "joined from their start points along their drawing direction, so draw them with "
        "matching orientation. Later features can name the caps '<loft id>.start' (first "
        "section) and '.end' (last). operation: new, join, cut or intersect.",
        LoftArgs,
        loft,
    ),
]
