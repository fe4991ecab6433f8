"""Features made along a path or between profiles: sweep and loft.

A sweep moves a sketch's closed profile along a 3D path (lines, three-point arcs and splines,
each starting where the previous one ends) or along a helix; a loft skins a solid through the
single closed profiles of two or more sketches. Both check their inputs before the kernel
runs, because OCCT returns solids that `isValid()` accepts although they pass through
themselves: a helix whose pitch is not more than the profile's size along the axis (the
coils overlap), a bend tighter than the profile's reach, sections that cross. Those are
refused here with the numbers that decide them.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Annotated, Any, Literal

import cadquery as cq
from pydantic import BaseModel, ConfigDict, Field

from . import script_helpers
from .expressions import number_text
from .features import (
    BodyName,
    EmitContext,
    FeatureBase,
    Number,
    Operation,
    Vec3,
    _combine,
    _vec,
)
from .queries import solids_of

Point3 = tuple[Number, Number, Number]

# distances below this (mm) count as zero when checking points and planes
_TOL = 1e-6
# samples per profile edge when measuring how far a profile reaches from the path
_SAMPLES = 64
# inputs whose geometric checks passed, per profile sketch (a Workplane kept by the rebuild's
# cache): a sweep or loft taken from the cache is not measured again
_CHECKED: weakref.WeakKeyDictionary[cq.Workplane, set[Any]] = weakref.WeakKeyDictionary()
_CHECKED_FIELDS = {"path_start", "path", "helix", "profile_placement"}


class PathLine(BaseModel):
    """A straight segment from the end of the previous segment (or path_start) to `end`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["line"] = "line"
    end: Point3 = Field(description="end point (mm, model coordinates)")


class PathArc(BaseModel):
    """A three-point arc from the end of the previous segment through `mid` to `end`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["arc"] = "arc"
    mid: Point3 = Field(description="a point on the arc between its start and end")
    end: Point3


class PathSpline(BaseModel):
    """A smooth curve from the end of the previous segment through `points`; the last point
    is its end."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["spline"] = "spline"
    points: list[Point3] = Field(min_length=1, max_length=200)


PathSegment = Annotated[PathLine | PathArc | PathSpline, Field(discriminator="kind")]


class Helix(BaseModel):
    """A helical path about an axis: give `height` or `turns` (height = turns * pitch)."""

    model_config = ConfigDict(extra="forbid")
    pitch: Number = Field(description="rise per turn along the axis (mm)")
    height: Number | None = Field(None, description="total rise along the axis (mm)")
    turns: Number | None = Field(None, description="number of turns (may be fractional)")
    radius: Number = Field(description="distance from the axis to the path (mm)")
    hand: Literal["right", "left"] = Field(
        "right", description="right: counterclockwise seen from the axis tip, rising"
    )
    origin: Point3 = Field((0.0, 0.0, 0.0), description="a point on the axis: the path's foot")
    axis: Vec3 = Field((0.0, 0.0, 1.0), description="direction the helix rises along")
    start_direction: Vec3 | None = Field(
        None,
        description="direction from the axis to the path's start, perpendicular to the axis "
        "(default: towards +X, or +Y when the axis is along X)",
    )


class Sweep(FeatureBase):
    """A sketch's closed profile moved along a path or a helix, as a solid."""

    type: Literal["sweep"] = "sweep"
    sketch: str = Field(description="id of the sketch whose closed profile is swept")
    path_start: Point3 = Field((0.0, 0.0, 0.0), description="where the path begins (mm)")
    path: list[PathSegment] = Field(default_factory=list, max_length=100)
    helix: Helix | None = None
    profile_placement: Literal["as_drawn", "normal_to_path"] = "as_drawn"
    transition: Literal["right", "round"] = Field(
        "right", description="corners of the path: right (mitred) or round"
    )
    operation: Operation = "new"
    body: BodyName | None = Field(None, description="body to create (new) or to change")

    def references(self) -> set[str]:
        return {self.sketch} | ({self.body} if self.body and self.operation != "new" else set())

    def emit(self, ctx: EmitContext) -> str:
        ctx.sketch(self.sketch)
        sketch = ctx.ns[self.sketch]
        if self.helix is not None and self.path:
            raise ctx.fail("give either a path or a helix, not both")
        if self.helix is None and not self.path:
            raise ctx.fail("give a path (path_start and segments) or a helix to sweep along")
        radii: list[tuple[int, float]] = []
        helix = None
        if self.helix is not None:
            path_code, build, what, helix = self._helix(ctx, self.helix)
        else:
            path_code, build, what, radii = self._path(ctx)
        # the geometric checks cost milliseconds: run them once per profile and inputs, not
        # on every rebuild that takes this feature from the cache
        key = (self.model_dump_json(include=_CHECKED_FIELDS), tuple(sorted(ctx.parameters.items())))
        checked = _CHECKED.setdefault(sketch, set())
        if key not in checked:
            wire = build()
            profiles = sketch
            if self.profile_placement == "normal_to_path":
                profiles = script_helpers.normal_to_path(sketch, wire)
            faces = [f for f in profiles.vals() if isinstance(f, cq.Face)]
            self._check_start(ctx, sketch.plane, faces, wire)
            if helix is not None:
                self._check_helix(ctx, faces, *helix)
            else:
                self._check_bends(ctx, faces, wire, radii)
            checked.add(key)

        lines = [f"# {self.id}: sweep {self.sketch} along {what} ({self.operation})"]
        lines.append(f"{self.id}_path = {path_code}")
        source = self.sketch
        if self.profile_placement == "normal_to_path":
            lines.append(f"{self.id}_profile = normal_to_path({self.sketch}, {self.id}_path)")
            source = f"{self.id}_profile"
        # a helix has a well-defined Frenet frame that screws the profile along exactly; the
        # default corrected frame drifts along a helix (the last turn ends visibly tilted)
        options = "isFrenet=True" if helix is not None else ""
        if helix is None and self.transition != "right":
            options = f'transition="{self.transition}"'
        options = f"{options}, combine=False" if options else "combine=False"
        call = f"{source}.sweep({self.id}_path, {options})"
        lines += _place_result(ctx, self.id, self.operation, self.body, call)
        return "\n".join(lines)

    def after(self, ctx: EmitContext, ns: Mapping[str, Any]) -> None:
        _check_tool(ctx, "sweep", ns[f"{self.id}_tool"], "check the path and the profile")

    # --- paths -----------------------------------------------------------------------------

    def _path(
        self, ctx: EmitContext
    ) -> tuple[str, Callable[[], cq.Wire], str, list[tuple[int, float]]]:
        """Source of the segment path, a function building its wire, what it is, and the bend
        radii (segment, radius) of its arcs."""
        start_text, start = _point3(ctx, self.path_start, "path_start")
        here = start
        codes: list[str] = []
        values: list[Any] = []
        radii: list[tuple[int, float]] = []
        for index, segment in enumerate(self.path, start=1):
            what = f"path segment {index} ({segment.kind})"
            if isinstance(segment, PathLine):
                et, end = _point3(ctx, segment.end, f"{what} end")
                _distinct(ctx, what, [here, end])
                codes.append(f'("line", {et})')
                values.append(("line", end))
            elif isinstance(segment, PathArc):
                mt, mid = _point3(ctx, segment.mid, f"{what} mid")
                et, end = _point3(ctx, segment.end, f"{what} end")
                _distinct(ctx, what, [here, mid, end])
                radius = _circumradius(here, mid, end)
                if radius is None:
                    raise ctx.fail(f"{what}: its start, mid and end lie on one line")
                radii.append((index, radius))
                codes.append(f'("arc", {mt}, {et})')
                values.append(("arc", mid, end))
            else:
                points = [
                    _point3(ctx, p, f"{what} point {i}") for i, p in enumerate(segment.points, 1)
                ]
                _distinct(ctx, what, [here, *(p for _, p in points)])
                end = points[-1][1]
                codes.append(f'("spline", [{", ".join(t for t, _ in points)}])')
                values.append(("spline", [p for _, p in points]))
            here = end

        def build() -> cq.Wire:
            try:
                return script_helpers.path_wire(start, values)
            except Exception as exc:
                raise ctx.fail(
                    f"the path could not be built ({type(exc).__name__}: {exc})"
                ) from None

        code = f"path_wire({start_text}, [{', '.join(codes)}])"
        return code, build, f"a path of {len(self.path)} segment(s)", radii

    def _helix(
        self, ctx: EmitContext, helix: Helix
    ) -> tuple[str, Callable[[], cq.Wire], str, tuple[float, float, cq.Vector, cq.Vector]]:
        pt, pitch = ctx.num(helix.pitch, "helix pitch", positive=True)
        rt, radius = ctx.num(helix.radius, "helix radius", positive=True)
        if (helix.height is None) == (helix.turns is None):
            raise ctx.fail("helix: give exactly one of height or turns")
        if helix.height is not None:
            ht, height = ctx.num(helix.height, "helix height", positive=True)
        else:
            assert helix.turns is not None
            tt, turns = ctx.num(helix.turns, "helix turns", positive=True)
            ht, height = f"{tt} * {pt}", turns * pitch
        if height / pitch > 500:
            raise ctx.fail(f"helix: {number_text(height / pitch)} turns; at most 500 are supported")
        origin_text, origin = _point3(ctx, helix.origin, "helix origin")
        axis = cq.Vector(*helix.axis)
        if axis.Length < 1e-9:
            raise ctx.fail("helix axis must not be the zero vector")
        axis = axis.normalized()
        if helix.start_direction is None:
            x_axis = cq.Vector(1, 0, 0)
            base = x_axis if abs(axis.dot(x_axis)) < 1 - 1e-9 else cq.Vector(0, 1, 0)
            start_dir = (base - axis * base.dot(axis)).normalized()
        else:
            start_dir = cq.Vector(*helix.start_direction)
            if start_dir.Length < 1e-9:
                raise ctx.fail("helix start_direction must not be the zero vector")
            start_dir = start_dir.normalized()
            if abs(start_dir.dot(axis)) > 1e-6:
                raise ctx.fail("helix start_direction must be perpendicular to the axis")
        lefthand = helix.hand == "left"
        args = [pt, ht, rt, origin_text, _vec_text(axis), _vec_text(start_dir)]
        code = f"helix_path({', '.join(args)}{', lefthand=True' if lefthand else ''})"

        def build() -> cq.Wire:
            try:
                return script_helpers.helix_path(
                    pitch, height, radius, origin, axis.toTuple(), start_dir.toTuple(), lefthand
                )
            except Exception as exc:
                raise ctx.fail(
                    f"the helix could not be built ({type(exc).__name__}: {exc})"
                ) from None

        what = (
            f"a {helix.hand}-hand helix (pitch {number_text(pitch)}, height {number_text(height)}, "
            f"radius {number_text(radius)})"
        )
        return code, build, what, (pitch, height, cq.Vector(*origin), axis)

    # --- checks ----------------------------------------------------------------------------

    def _check_start(
        self, ctx: EmitContext, plane: cq.Plane, faces: list[cq.Face], wire: cq.Wire
    ) -> None:
        start, tangent = wire.startPoint(), wire.tangentAt(0).normalized()
        normal = faces[0].normalAt() if faces else plane.zDir
        if self.profile_placement == "as_drawn":
            off = abs((start - plane.origin).dot(plane.zDir))
            if off > 1e-4:
                raise ctx.fail(
                    f"the path starts {number_text(round(off, 4))} mm off the plane of "
                    f"{self.sketch}: start the path on the profile's plane (usually at the "
                    "profile's centre), or set profile_placement to normal_to_path"
                )
        if abs(normal.dot(tangent)) < 1e-3:
            raise ctx.fail(
                f"the path starts along the plane of {self.sketch}, so the profile would sweep "
                "edge-on; start the path across the profile, or set profile_placement to "
                "normal_to_path"
            )

    def _check_bends(
        self, ctx: EmitContext, faces: list[cq.Face], wire: cq.Wire, radii: list[tuple[int, float]]
    ) -> None:
        """Refuse a bend tighter than the profile reaches from the path (it would fold)."""
        bends = list(radii)
        for index, edge in enumerate(wire.Edges(), start=1):
            if edge.geomType() == "BSPLINE":
                curvature = max(edge.curvatureAt(k / 64) for k in range(65))
                if curvature > 1e-12:
                    bends.append((index, 1 / curvature))
        if not bends:
            return
        reach = _reach(faces, wire.startPoint())
        index, radius = min(bends, key=lambda item: item[1])
        if radius <= reach:
            raise ctx.fail(
                f"path segment {index} bends with a radius of {number_text(round(radius, 4))} mm, "
                f"no more than the profile reaches from the path's start "
                f"({number_text(round(reach, 4))} mm): the swept solid would fold through "
                "itself. Use a larger bend radius or a smaller profile"
            )

    def _check_helix(
        self,
        ctx: EmitContext,
        faces: list[cq.Face],
        pitch: float,
        height: float,
        origin: cq.Vector,
        axis: cq.Vector,
    ) -> None:
        """Refuse coils that overlap (pitch vs the profile's extent along the axis) and a
        profile that reaches the axis."""
        span = max(abs(pitch), height) + _reach(faces, origin) + 1
        line = cq.Edge.makeLine(origin - axis * span, origin + axis * span)
        if any(face.distance(line) <= _TOL for face in faces):
            raise ctx.fail(
                "the profile reaches the helix axis: the coils would pass through the axis; "
                "use a larger helix radius or move the profile away from the axis"
            )
        heights = [
            (p - origin).dot(axis)
            for face in faces
            for edge in face.Edges()
            for p in _edge_points(edge)
        ]
        extent = max(heights) - min(heights)
        if height > pitch and extent >= pitch - _TOL:
            raise ctx.fail(
                f"the profile spans {number_text(round(extent, 4))} mm along the helix axis, not "
                f"less than the pitch ({number_text(pitch)} mm): neighbouring turns would "
                "overlap (OCCT would return a self-intersecting solid). Use a pitch greater "
                f"than {number_text(round(extent, 4))} mm or a smaller profile"
            )


class Loft(FeatureBase):
    """A solid skinned through the closed profiles of two or more sketches, in order."""

    type: Literal["loft"] = "loft"
    sections: list[str] = Field(
        min_length=2, max_length=50, description="sketch ids, in order along the loft"
    )
    ruled: bool = Field(False, description="true: flat faces between sections; false: smooth")
    operation: Operation = "new"
    body: BodyName | None = Field(None, description="body to create (new) or to change")

    def references(self) -> set[str]:
        return set(self.sections) | (
            {self.body} if self.body and self.operation != "new" else set()
        )

    def emit(self, ctx: EmitContext) -> str:
        faces: list[cq.Face] = []
        for index, section in enumerate(self.sections):
            if index and section == self.sections[index - 1]:
                raise ctx.fail(f"section {section} follows itself; give each section once")
            info = ctx.sketch(section)
            found = [f for f in ctx.ns[section].vals() if isinstance(f, cq.Face)]
            if len(found) != 1:
                raise ctx.fail(
                    f"each loft section must be exactly one closed profile; {section} has "
                    f"{len(found)} ({', '.join(info['closed'])})"
                )
            if found[0].innerWires():
                raise ctx.fail(
                    f"loft section {section} has a hole (a profile inside its profile); a loft "
                    "takes outer profiles only: loft the outside, then cut the hole"
                )
            faces.append(found[0])
        # weak references, not ids: a section rebuilt later may reuse a freed one's id
        key = tuple(weakref.ref(ctx.ns[s]) for s in self.sections)
        checked = _CHECKED.setdefault(ctx.ns[self.sections[0]], set())
        pairs = [] if key in checked else pairwise(zip(self.sections, faces, strict=True))
        for (a, fa), (b, fb) in pairs:
            na, nb = fa.normalAt(), fb.normalAt()
            if abs(na.dot(nb)) > 1 - 1e-9 and abs((fb.Center() - fa.Center()).dot(na)) < _TOL:
                raise ctx.fail(
                    f"sections {a} and {b} lie on the same plane; sketch them on parallel "
                    "offset planes or on planes at an angle"
                )
            if fa.distance(fb) <= _TOL:
                raise ctx.fail(
                    f"sections {a} and {b} touch or cross each other; a loft needs its "
                    "sections apart"
                )
        checked.add(key)
        chain = "".join(f".add({s})" for s in self.sections)
        call = f'cq.Workplane("XY"){chain}.loft(ruled={self.ruled}, combine=False)'
        kind = "ruled" if self.ruled else "smooth"
        lines = [f"# {self.id}: {kind} loft through {', '.join(self.sections)} ({self.operation})"]
        lines += _place_result(ctx, self.id, self.operation, self.body, call)
        return "\n".join(lines)

    def after(self, ctx: EmitContext, ns: Mapping[str, Any]) -> None:
        _check_tool(
            ctx,
            "loft",
            ns[f"{self.id}_tool"],
            "the sections probably twist against each other: a loft joins the profiles' "
            "start points and runs along them in their drawing direction, so draw the "
            "sections with matching orientation",
        )
        # the first and last sections are the loft's caps: 'loft1.start' / '.end' (bottom/top)
        first = ns[self.sections[0]].plane
        last = ns[self.sections[-1]].plane
        for cap, plane, other in (("start", first, last), ("end", last, first)):
            normal = plane.zDir
            if (other.origin - plane.origin).dot(normal) > 0:
                normal = -normal  # out of the solid, away from the other cap
            if self.operation == "cut":
                normal = -normal
            ctx.planes[f"{self.id}.{cap}"] = (_vec(plane.origin), _vec(normal))
        ctx.planes[f"{self.id}.bottom"] = ctx.planes[f"{self.id}.start"]
        ctx.planes[f"{self.id}.top"] = ctx.planes[f"{self.id}.end"]


# --- shared ----------------------------------------------------------------------------------


def _point3(ctx: EmitContext, values: Point3, what: str) -> tuple[str, tuple[float, float, float]]:
    texts, numbers = [], []
    for axis, value in zip("xyz", values, strict=True):
        text, number = ctx.num(value, f"{what} {axis}")
        texts.append(text)
        numbers.append(number)
    return f"({', '.join(texts)})", (numbers[0], numbers[1], numbers[2])


def _vec_text(v: cq.Vector) -> str:
    return "(" + ", ".join(number_text(round(c, 12) + 0.0) for c in v.toTuple()) + ")"


def _distinct(ctx: EmitContext, what: str, points: list[tuple[float, float, float]]) -> None:
    for a, b in pairwise(points):
        if math.dist(a, b) < _TOL:
            raise ctx.fail(f"{what}: two consecutive points are the same point {a}")


def _circumradius(a: Any, b: Any, c: Any) -> float | None:
    va, vb, vc = cq.Vector(*a), cq.Vector(*b), cq.Vector(*c)
    ab, ac, bc = vb - va, vc - va, vc - vb
    cross = ab.cross(ac).Length
    if cross < 1e-9 * max(ab.Length, ac.Length) ** 2:
        return None
    return ab.Length * ac.Length * bc.Length / (2 * cross)


def _edge_points(edge: cq.Edge) -> list[cq.Vector]:
    return [edge.positionAt(k / _SAMPLES) for k in range(_SAMPLES + 1)]


def _reach(faces: list[cq.Face], point: cq.Vector) -> float:
    """How far the profile's boundary reaches from a point (sampled)."""
    return max(
        ((p - point).Length for face in faces for edge in face.Edges() for p in _edge_points(edge)),
        default=0.0,
    )


def _place_result(
    ctx: EmitContext, feature_id: str, operation: str, body: str | None, call: str
) -> list[str]:
    """Lines that store a new body or combine the tool into an existing one (like extrude)."""
    if operation == "new":
        name = body or f"body_{feature_id}"
        if name in ctx.bodies:
            raise ctx.fail(f"body {name!r} already exists")
        ctx.bodies.append(name)
        ctx.touched.add(name)
        ctx.tools[feature_id] = (name, "new")
        return [f"{name} = {call}", f"{feature_id}_tool = {name}"]
    target = ctx.body(body)
    return [
        f"{feature_id}_tool = {call}",
        _combine(ctx, feature_id, operation, target, f"{feature_id}_tool"),
    ]


def _check_tool(ctx: EmitContext, kind: str, tool: cq.Workplane, hint: str) -> None:
    """The solid a sweep or loft made must be valid with a positive volume, whatever its use."""
    solids = solids_of(tool)
    if not solids:
        raise ctx.fail(f"the {kind} made no solid; {hint}")
    for solid in solids:
        if not solid.isValid() or solid.Volume() <= 1e-9:
            raise ctx.fail(f"the {kind} made an invalid or inside-out solid; {hint}")
