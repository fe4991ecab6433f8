"""Features built on planes: named datum planes, mirror and split.

A datum plane is a script variable holding a `cq.Plane` (named by its feature id, e.g.
`datum1`) and is recorded in `EmitContext.planes` under that id, so a later sketch, mirror
or split can stand on it. Mirror and split take their plane as a principal plane, a datum
plane or a planar face; the plane's normal decides which side of a split is "positive".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from .features import (
    FEATURE_REF,
    MAX_PATTERN_INSTANCES,
    BodyName,
    EmitContext,
    FeatureBase,
    Number,
    Ref,
    _vec,
)

Principal = Literal["XY", "YZ", "XZ"]
Point3 = tuple[Number, Number, Number]

_AXES = {"X": "(1, 0, 0)", "Y": "(0, 1, 0)", "Z": "(0, 0, 1)"}


def _face_feature(face: Any) -> set[str]:
    """The feature a cap reference ('extrude1.top') names, for delete checks."""
    if isinstance(face, str) and FEATURE_REF.match(face):
        return {face.split(".")[0]}
    return set()


def plane_source(
    ctx: EmitContext,
    plane: Principal | None,
    datum: str | None,
    face: Any,
    body: str | None,
    what: str,
) -> str:
    """Python source of a `cq.Plane`: a principal plane, a datum plane or a planar face."""
    given = [name for name, value in (("plane", plane), ("datum", datum), ("face", face)) if value]
    if len(given) != 1:
        got = ", ".join(given) or "none"
        raise ctx.fail(f"{what}: give exactly one of plane, datum or face (got: {got})")
    if plane is not None:
        return f'cq.Plane.named("{plane}")'
    if datum is not None:
        return ctx.datum(datum)
    return f"face_plane({ctx.body(body)}, {ctx.ref(face)})"


def _point3(ctx: EmitContext, values: Point3, what: str) -> tuple[str, tuple[float, ...]]:
    texts, numbers = [], []
    for axis, value in zip("xyz", values, strict=True):
        text, number = ctx.num(value, f"{what} {axis}")
        texts.append(text)
        numbers.append(number)
    return f"({', '.join(texts)})", tuple(numbers)


class DatumPlane(FeatureBase):
    """A named plane: a base plane, turned by `angle` about an axis lying in it, then moved
    `offset` along its normal. The base is a principal plane, another datum plane, a planar
    face, or the plane through `point` with `normal`."""

    type: Literal["datum"] = "datum"
    plane: Principal | None = Field(None, description="base: a principal plane")
    datum: str | None = Field(None, description="base: another datum plane, e.g. 'datum1'")
    face: Ref | None = Field(None, description="base: a planar face of `body`")
    point: Point3 | None = Field(None, description="base: a point the plane passes through")
    normal: Point3 | None = Field(None, description="with `point`: the plane's normal")
    body: BodyName | None = Field(None, description="body owning `face`/`edge` (default: latest)")
    angle: Number = Field(0.0, description="degrees about `axis` or `edge` (right-hand rule)")
    axis: Literal["X", "Y", "Z"] | None = Field(
        None,
        description="turn about the line through the base's origin along this world axis "
        "(it must be parallel to the base)",
    )
    edge: Ref | None = Field(
        None, description="turn about this straight edge of `body` (must lie in the base)"
    )
    offset: Number = Field(0.0, description="distance along the (turned) plane's normal, mm")

    def references(self) -> set[str]:
        refs = {self.body} if self.body else set()
        refs |= _face_feature(self.face) | _face_feature(self.edge)
        if self.datum:
            refs.add(self.datum)
        return refs

    def emit(self, ctx: EmitContext) -> str:
        if self.point is not None or self.normal is not None:
            if self.point is None or self.normal is None:
                raise ctx.fail("a plane through a point needs both point and normal")
            if self.plane or self.datum or self.face is not None:
                raise ctx.fail("give point and normal, or a base plane/datum/face, not both")
            pt, _ = _point3(ctx, self.point, "point")
            nt, n = _point3(ctx, self.normal, "normal")
            if max(abs(v) for v in n) < 1e-9:
                raise ctx.fail("normal must not be the zero vector")
            base = f"point_normal_plane({pt}, {nt})"
            where = f"through {pt} with normal {nt}"
        else:
            base = plane_source(ctx, self.plane, self.datum, self.face, self.body, "base")
            where = f"from {self.plane or self.datum or repr(self.face)}"
        at, angle = ctx.num(self.angle, "angle")
        if not -360 < angle < 360:
            raise ctx.fail(f"angle must be between -360 and 360 degrees (got {at})")
        ot, _ = ctx.num(self.offset, "offset")
        args = [base]
        if angle:
            if self.axis is not None and self.edge is None:
                axis = _AXES[self.axis]
            elif self.edge is not None and self.axis is None:
                axis = f"edge_axis({ctx.body(self.body)}, {ctx.ref(self.edge)})"
            else:
                raise ctx.fail("a turned plane needs exactly one of axis (X, Y, Z) or edge")
            args += [f"angle={at}", f"axis={axis}"]
            where += f", turned {at} degrees about {self.axis or repr(self.edge)}"
        elif self.axis is not None or self.edge is not None:
            raise ctx.fail("axis/edge given without an angle: give the angle to turn by")
        if ot != "0":
            args.append(f"offset={ot}")
            where += f", offset {ot}"
        label = f" ({self.name!r})" if self.name else ""
        return (
            f"# {self.id}: datum plane {where}{label}\n{self.id} = datum_plane({', '.join(args)})"
        )

    def after(self, ctx: EmitContext, ns: Mapping[str, Any]) -> None:
        plane = ns[self.id]
        ctx.planes[self.id] = (_vec(plane.origin), _vec(plane.zDir))


class Mirror(FeatureBase):
    """Mirror features (what extrudes, revolves, holes, patterns or mirrors added or removed)
    or a whole body across a principal plane, a datum plane or a planar face."""

    type: Literal["mirror"] = "mirror"
    features: list[str] = Field(
        default_factory=list,
        description="ids of the features to mirror; empty: mirror the whole `body`",
    )
    body: BodyName | None = Field(
        None, description="the body to mirror (whole-body mode) and the owner of `face`"
    )
    plane: Principal | None = None
    datum: str | None = None
    face: Ref | None = Field(None, description="a planar face of `body` to mirror across")
    new_body: BodyName | None = Field(
        None, description="whole body only: keep the image as this new body instead of joining"
    )

    def references(self) -> set[str]:
        refs = set(self.features) | _face_feature(self.face)
        refs |= {name for name in (self.body, self.datum) if name}
        return refs

    def emit(self, ctx: EmitContext) -> str:
        plane = plane_source(ctx, self.plane, self.datum, self.face, self.body, "mirror plane")
        where = self.plane or self.datum or repr(self.face)
        lines = [f"{self.id}_plane = {plane}"]
        if not self.features:
            body = ctx.body(self.body)
            lines.insert(0, f"# {self.id}: mirror {body} across {where}")
            if self.new_body is not None:
                if self.new_body in ctx.bodies:
                    raise ctx.fail(f"body {self.new_body!r} already exists")
                ctx.bodies.append(self.new_body)
                ctx.touched.add(self.new_body)
                lines.append(f"{self.new_body} = mirrored({self.id}_plane, {body})")
            else:
                ctx.touched.add(body)
                lines.append(f"{body} = fused({body}, mirrored({self.id}_plane, {body}))")
            return "\n".join(lines)
        if self.new_body is not None:
            raise ctx.fail("new_body is for mirroring a whole body; features join their body")
        if len(set(self.features)) != len(self.features):
            raise ctx.fail("a feature is listed twice in features")
        groups: dict[tuple[str, str], list[str]] = {}
        for feature_id in self.features:
            if feature_id not in ctx.tools:
                known = ", ".join(ctx.tools) or "none"
                raise ctx.fail(
                    f"cannot mirror {feature_id!r}: only extrude, revolve, hole, pattern and "
                    f"mirror features can be mirrored (candidates: {known})"
                )
            target, op = ctx.tools[feature_id]
            if op == "intersect":
                # intersecting again with the image would remove what the original kept
                raise ctx.fail(f"cannot mirror {feature_id!r}: it intersects; mirror the body")
            key = (ctx.body(target), "join" if op == "new" else op)
            groups.setdefault(key, []).append(f"{feature_id}_tool")
        # as for a pattern: every image is one more boolean, and mirrors of mirrors double
        images = sum(ctx.ns[f"{f}_tool"].solids().size() for f in self.features)
        if images > MAX_PATTERN_INSTANCES:
            raise ctx.fail(
                f"the features to mirror hold {images} solids: at most "
                f"{MAX_PATTERN_INSTANCES} images in one mirror (mirror the whole body instead)"
            )
        lines.insert(0, f"# {self.id}: mirror {', '.join(self.features)} across {where}")
        for index, ((target, op), tools) in enumerate(groups.items()):
            copies = f"{self.id}_copies" if len(groups) == 1 else f"{self.id}_copies{index + 1}"
            lines.append(f"{copies} = mirrored({self.id}_plane, {', '.join(tools)})")
            ctx.touched.add(target)
            if op == "join":
                lines.append(f"{target} = fused({target}, {copies})")
            else:
                lines.append(f"{target} = {target}.cut({copies})")
            if len(groups) == 1:
                # what a later pattern or mirror of this one repeats: originals and images
                ctx.tools[self.id] = (target, op)
                lines.append(f"{self.id}_tool = with_copies({', '.join(tools)}, {copies})")
        return "\n".join(lines)


class Split(FeatureBase):
    """Cut a body in two by a plane; keep the side the plane's normal points to (positive),
    the other side (negative), or both as two bodies."""

    type: Literal["split"] = "split"
    body: BodyName | None = Field(None, description="the body to split (default: latest)")
    plane: Principal | None = None
    datum: str | None = None
    face: Ref | None = Field(None, description="a planar face of `body` to split by")
    keep: Literal["positive", "negative", "both"] = "both"
    new_body: BodyName | None = Field(
        None,
        description="keep both: the name of the negative side's body (the body keeps "
        "the positive side)",
    )

    def references(self) -> set[str]:
        refs = _face_feature(self.face)
        return refs | {name for name in (self.body, self.datum) if name}

    def emit(self, ctx: EmitContext) -> str:
        body = ctx.body(self.body)
        plane = plane_source(ctx, self.plane, self.datum, self.face, self.body, "split plane")
        where = self.plane or self.datum or repr(self.face)
        lines = [
            f"# {self.id}: split {body} by {where}, keep {self.keep}",
            f"{self.id}_plane = {plane}",
            f"{self.id}_positive, {self.id}_negative = split_body({body}, {self.id}_plane)",
        ]
        ctx.touched.add(body)
        if self.keep == "both":
            if self.new_body is None:
                raise ctx.fail("keep both needs new_body: the name of the negative side's body")
            if self.new_body in ctx.bodies:
                raise ctx.fail(f"body {self.new_body!r} already exists")
            ctx.bodies.append(self.new_body)
            ctx.touched.add(self.new_body)
            lines += [f"{body} = {self.id}_positive", f"{self.new_body} = {self.id}_negative"]
        else:
            if self.new_body is not None:
                raise ctx.fail("new_body is only used when keep is both")
            lines.append(f"{body} = {self.id}_{self.keep}")
        return "\n".join(lines)
