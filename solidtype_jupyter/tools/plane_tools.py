"""Editor tools built on planes: named datum planes, mirror and split."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..cad.features import Number, Ref
from .editor_common import Args, add_feature, body_field, document_of, dump_args, editor_spec
from .registry import ToolContext, ToolSpec

Principal = Literal["XY", "YZ", "XZ"]
Point3 = tuple[Number, Number, Number]

_PLANE = "a principal plane through the origin (normals: XY +Z, YZ +X, XZ -Y)"
# mirror and split take no offset: the model reaches for one, so say where it is
_PLANE_OR_DATUM = f"{_PLANE}; for an offset or turned plane, make one with datum_plane"
_DATUM = "a datum plane made by datum_plane, e.g. 'datum1'"


class DatumPlaneArgs(Args):
    plane: Principal | None = Field(None, description=f"base: {_PLANE}")
    datum: str | None = Field(None, description=f"base: {_DATUM}")
    face: Ref | None = Field(None, description="base: a planar face of `body`")
    point: Point3 | None = Field(None, description="base: a point (mm) the plane goes through")
    normal: Point3 | None = Field(None, description="with point: the plane's normal")
    angle: Number = Field(
        0.0, description="degrees to turn the base about `axis` or `edge` (right-hand rule)"
    )
    axis: Literal["X", "Y", "Z"] | None = Field(
        None,
        description="turn about the line through the base's origin along this world axis (it "
        "must be parallel to the base)",
    )
    edge: Ref | None = Field(
        None, description="turn about this straight edge of `body` (it must lie in the base)"
    )
    offset: Number = Field(0.0, description="then move along the plane's normal (mm)")
    body: str | None = Field(None, description="body owning face/edge (default: the latest)")
    name: str | None = None


def datum_plane(args: DatumPlaneArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    data = {"type": "datum", **dump_args(args)}
    if args.face is not None or args.edge is not None:
        data["body"] = body_field(doc, args.body)
    out = add_feature(doc, data)
    datum_id = out["feature"]["id"]
    origin, normal = doc.result.steps[-1].planes[datum_id]
    return {"datum_id": datum_id, "origin": origin, "normal": normal, **out}


class _PlaneChoice(Args):
    plane: Principal | None = Field(None, description=_PLANE_OR_DATUM)
    datum: str | None = Field(None, description=_DATUM)
    face: Ref | None = Field(None, description="a planar face of `body`")


class MirrorArgs(_PlaneChoice):
    features: list[str] = Field(
        default_factory=list,
        description="ids of extrude, revolve, hole, pattern or mirror features to mirror "
        "(each joins or cuts its own body again); empty: mirror the whole body",
    )
    body: str | None = Field(
        None, description="the body to mirror whole, and the owner of `face` (default: latest)"
    )
    new_body: bool = Field(
        False, description="whole body only: keep the image as a new body instead of joining"
    )
    name: str | None = None


def mirror(args: MirrorArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    data: dict[str, Any] = {"type": "mirror", **dump_args(args, "new_body")}
    if not args.features or args.face is not None:
        data["body"] = body_field(doc, args.body)
    if args.new_body:
        data["new_body"] = doc.next_body()
    return add_feature(doc, data)


class SplitArgs(_PlaneChoice):
    body: str | None = Field(None, description="the body to split (default: the latest)")
    keep: Literal["positive", "negative", "both"] = Field(
        "both",
        description="positive: the side the plane's normal points to; negative: the other; "
        "both: two bodies (this body keeps the positive side, a new body the negative)",
    )
    name: str | None = None


def split(args: SplitArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    data: dict[str, Any] = {"type": "split", **dump_args(args)}
    data["body"] = body_field(doc, args.body)
    if args.keep == "both":
        data["new_body"] = doc.next_body()
    return add_feature(doc, data)


PLANE_TOOLS: list[ToolSpec] = [
    editor_spec(
        "datum_plane",
        "Make a named plane (returns its id, e.g. 'datum1', with origin and normal) to sketch "
        "on (create_sketch datum=...) or to mirror or split by. Give one base: a principal "
        "plane, another datum, a planar face, or a point with a normal. Optionally turn it by "
        "`angle` degrees (right-hand rule) about a line lying in the base: `axis` X/Y/Z is "
        "the line through the base's origin along that world axis, `edge` a straight edge "
        "(pointing along its largest positive component); then move it `offset` mm along its "
        "normal. The base's sketch axes and origin turn with it: XY turned 30 about X has "
        "normal (0, -0.5, 0.866). A face's plane has its origin at the centre of the face's "
        "bounding box and its normal out of the material. Through a point: the x axis is "
        "world X projected onto the plane (world Y when the normal is along X).",
        DatumPlaneArgs,
        datum_plane,
    ),
    editor_spec(
        "mirror",
        "Mirror across a plane (give one of plane, datum or face): either features (what "
        "extrudes, revolves, holes, patterns or mirrors added or removed; each image joins or "
        "cuts the same body) or, with features empty, a whole body, joined to it (touching "
        "halves fuse into one solid) or kept as a new body (new_body true).",
        MirrorArgs,
        mirror,
    ),
    editor_spec(
        "split",
        "Cut a body in two by a plane (give one of plane, datum or face). keep positive "
        "(the side the plane's normal points to), negative, or both: the body keeps the "
        "positive side and the negative side becomes a new body (its name is in the result's "
        "feature.new_body). The plane must cross the body.",
        SplitArgs,
        split,
    ),
]
