"""The feature types of a document and the CadQuery code each one stands for.

A feature is plain data (a pydantic model, stored as JSON in the Yjs document). To build it,
`emit` writes the CadQuery statements it stands for; the rebuild executes those statements
and `CadDocument.to_script()` concatenates them, so the exported script is the model.
Numbers may be literals or arithmetic over named parameters ("width / 2").
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Annotated, Any, Literal

import cadquery as cq
from pydantic import BaseModel, ConfigDict, Field

from .errors import FeatureError
from .expressions import evaluate, expression_names, number_text

Number = float | str
Point2 = tuple[Number, Number]
Vec3 = tuple[float, float, float]
# Body names become variables of the generated script: a fixed, safe shape.
BodyName = Annotated[str, Field(pattern=r"^body\d+$", description="a body name, e.g. body1")]

MAX_SKETCH_ENTITIES = 200

FEATURE_REF = re.compile(r"^(?P<feature>[a-z]+\d+)\.(?P<cap>top|bottom|start|end)$")
# datum planes are recorded in EmitContext.planes under their feature id (no cap suffix)
DATUM_ID = re.compile(r"^datum\d+$")


class Descriptor(BaseModel):
    """A face or edge named by its geometry; it must match exactly one element unless `all`."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = Field(
        None, description="PLANE, CYLINDER, CONE, SPHERE, TORUS (faces); LINE, CIRCLE (edges)"
    )
    center: Vec3 | None = Field(None, description="centre of mass of the face/edge (arc centre)")
    normal: Vec3 | None = Field(None, description="outward normal of a planar face")
    axis: Vec3 | None = Field(None, description="axis of a cylinder face or circular edge")
    direction: Vec3 | None = Field(None, description="direction of a straight edge")
    radius: float | None = None
    tol: float = Field(0.01, gt=0, description="distance tolerance in mm")
    all: bool = Field(False, description="accept several matches")

    def as_helper_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude_defaults=True)


Ref = Annotated[
    str | Descriptor,
    Field(
        description=(
            "A face/edge reference: a CadQuery selector ('>Z', '|Z', '%CIRCLE', "
            "'not(%CIRCLE)', '>Z[-2]'), a feature-relative name ('extrude1.top', "
            "'extrude1.bottom': the faces on that cap; as edges, their boundary edges), or a "
            "geometric descriptor object (from find_faces/find_edges)"
        )
    ),
]


# --- sketch entities ---------------------------------------------------------------------


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["line"] = "line"
    start: Point2
    end: Point2


class Arc(BaseModel):
    """A three-point arc from `start` through `mid` to `end`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["arc"] = "arc"
    start: Point2
    mid: Point2
    end: Point2


class Circle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["circle"] = "circle"
    center: Point2 = (0.0, 0.0)
    radius: Number


class Rectangle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["rectangle"] = "rectangle"
    center: Point2 = (0.0, 0.0)
    width: Number
    height: Number


class Polygon(BaseModel):
    """A regular polygon with `sides` corners on a circle of `diameter`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["polygon"] = "polygon"
    center: Point2 = (0.0, 0.0)
    sides: int = Field(ge=3, le=64)
    diameter: Number


class Slot(BaseModel):
    """An obround (a closed profile): two half circles joined by straight sides.

    `length` is the OVERALL length, end to end, as CadQuery's `slot2D` takes it (the centres
    of the end circles are `length - width` apart); `width` is the diameter of the ends.
    """

    model_config = ConfigDict(extra="forbid")
    kind: Literal["slot"] = "slot"
    center: Point2 = (0.0, 0.0)
    length: Number = Field(description="overall length, end to end (mm); more than width")
    width: Number = Field(description="width = diameter of the round ends (mm)")
    angle: Number = Field(0.0, description="degrees from the sketch x axis, counterclockwise")


class Spline(BaseModel):
    """A smooth curve through `points`: open (chains with lines and arcs by its end points,
    like a line) or periodic (a closed profile on its own; do not repeat the first point)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["spline"] = "spline"
    points: list[Point2] = Field(min_length=2, max_length=200)
    periodic: bool = False


Entity = Annotated[
    Line | Arc | Circle | Rectangle | Polygon | Slot | Spline, Field(discriminator="kind")
]


# --- build context -----------------------------------------------------------------------


@dataclass
class EmitContext:
    """What a feature may know while writing its code: the state after the previous one."""

    feature_id: str
    parameters: dict[str, float]
    ns: Mapping[str, Any]
    bodies: list[str]
    planes: dict[str, tuple[Vec3, Vec3]]
    tools: dict[str, tuple[str, str]]
    sketches: dict[str, dict[str, Any]]
    touched: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    used_parameters: set[str] = field(default_factory=set)

    def fail(self, message: str) -> FeatureError:
        return FeatureError(f"{self.feature_id}: {message}", self.feature_id)

    def num(self, value: Number, what: str, *, positive: bool = False) -> tuple[str, float]:
        """Code text and value of a numeric field; FeatureError if bad or not positive."""
        if isinstance(value, str):
            try:
                names = expression_names(value)
                number = evaluate(value, self.parameters)
            except FeatureError as exc:
                raise self.fail(f"{what}: {exc}") from None
            self.used_parameters |= names
            # the canonical form: one line, no comments, exactly what was checked
            text = ast.unparse(ast.parse(value.strip(), mode="eval"))
            text = text if text.isidentifier() or not names else f"({text})"
        else:
            number = float(value)
            if not math.isfinite(number):
                raise self.fail(f"{what} must be a finite number")
            text = number_text(number)
        if positive and number <= 0:
            raise self.fail(f"{what} must be greater than 0 (got {number_text(number)})")
        return text, number

    def point(self, point: Point2, what: str) -> tuple[str, tuple[float, float]]:
        xt, x = self.num(point[0], f"{what} x")
        yt, y = self.num(point[1], f"{what} y")
        return f"({xt}, {yt})", (x, y)

    def body(self, name: str | None) -> str:
        if name is None:
            if not self.bodies:
                raise self.fail("there is no body yet: create one with extrude or revolve")
            return self.bodies[-1]
        if name not in self.bodies:
            alive = ", ".join(self.bodies) or "none"
            raise self.fail(f"unknown body {name!r} (bodies: {alive})")
        return name

    def sketch(self, sketch_id: str, *, need_profile: bool = True) -> dict[str, Any]:
        info = self.sketches.get(sketch_id)
        if info is None:
            known = ", ".join(self.sketches) or "none"
            raise self.fail(f"unknown sketch {sketch_id!r} (sketches: {known})")
        if need_profile and info["open"]:
            raise self.fail(f"{sketch_id} has an open profile: {info['open']}")
        if need_profile and not info["closed"]:
            raise self.fail(f"{sketch_id} has no closed profile to use (it is empty)")
        return info

    def ref(self, ref: str | Descriptor) -> str:
        """Python source for a reference, as `select`/`on_face` in the script expect it."""
        if isinstance(ref, Descriptor):
            return repr(ref.as_helper_dict())
        match = FEATURE_REF.match(ref.strip())
        if match:
            key = f"{match['feature']}.{match['cap']}"
            if key not in self.planes:
                known = ", ".join(sorted(self.planes)) or "none"
                raise self.fail(f"unknown feature-relative reference {ref!r} (known: {known})")
            origin, normal = self.planes[key]
            # a cap may be split into several coplanar faces: the reference means all of them
            return repr({"on_plane": [origin, normal], "label": key, "all": True})
        return repr(ref.strip())

    def refs(self, refs: list[str | Descriptor]) -> str:
        return "[" + ", ".join(self.ref(r) for r in refs) + "]"

    def datum(self, datum_id: str) -> str:
        """The script variable of a datum plane made by an earlier `datum` feature."""
        if not DATUM_ID.match(datum_id) or datum_id not in self.planes:
            known = ", ".join(k for k in self.planes if DATUM_ID.match(k)) or "none"
            # the feature may be older than the datum it names: say what it can see
            raise self.fail(
                f"unknown datum plane {datum_id!r} (datum planes made before "
                f"{self.feature_id}: {known}; a feature can only use a datum made before it: "
                "make one with datum_plane)"
            )
        return datum_id


def _vec(values: Any) -> Vec3:
    return (round(values.x, 9) + 0.0, round(values.y, 9) + 0.0, round(values.z, 9) + 0.0)


class FeatureBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z]+\d+$")
    name: str | None = Field(None, description="optional label shown in the feature tree")

    def emit(self, ctx: EmitContext) -> str:
        raise NotImplementedError

    def after(self, ctx: EmitContext, ns: Mapping[str, Any]) -> None:
        """Record what later features may refer to, once this feature's code has run."""

    def references(self) -> set[str]:
        """Ids of features and bodies this one uses (for delete checks)."""
        return set()


# --- sketch entities as code (slot, spline) ----------------------------------------------


def _spline_points(
    ctx: EmitContext, entity: Spline, what: str
) -> list[tuple[str, tuple[float, float]]]:
    points = [ctx.point(p, f"{what} point {i + 1}") for i, p in enumerate(entity.points)]
    for i, (a, b) in enumerate(pairwise(points)):
        if math.dist(a[1], b[1]) < 1e-6:
            raise ctx.fail(f"{what}: points {i + 1} and {i + 2} are the same point {a[0]}")
    return points


def _spline_segment(ctx: EmitContext, entity: Spline, what: str) -> dict[str, Any]:
    """An open spline as a chain segment: start, end and the points it passes through."""
    points = _spline_points(ctx, entity, what)
    if math.dist(points[0][1], points[-1][1]) < 1e-6 and len(points) < 3:
        raise ctx.fail(f"{what} has zero length (start = end = {points[0][0]})")
    return {"s": points[0], "e": points[-1], "mid": None, "through": points[1:]}


def _periodic_spline_call(ctx: EmitContext, entity: Spline) -> str:
    what = "periodic spline"
    if len(entity.points) < 3:
        raise ctx.fail(f"a {what} needs at least 3 points (got {len(entity.points)})")
    points = _spline_points(ctx, entity, what)
    if math.dist(points[0][1], points[-1][1]) < 1e-6:
        raise ctx.fail(
            f"a {what} closes by itself: do not repeat the first point {points[0][0]} at the end"
        )
    text = ", ".join(t for t, _ in points)
    return f".spline([{text}], periodic=True, makeWire=True)"


def _slot_call(ctx: EmitContext, entity: Slot) -> str:
    ct, _ = ctx.point(entity.center, "slot center")
    lt, length = ctx.num(entity.length, "slot length", positive=True)
    wt, width = ctx.num(entity.width, "slot width", positive=True)
    at, _ = ctx.num(entity.angle, "slot angle")
    if length <= width:
        raise ctx.fail(
            f"slot length ({number_text(length)}) is the overall length, end to end, and must "
            f"exceed the width ({number_text(width)}); for a round hole use a circle"
        )
    return f".pushPoints([{ct}]).slot2D({lt}, {wt}, {at})"


# --- features ----------------------------------------------------------------------------


class Sketch(FeatureBase):
    """Closed profiles on a principal plane, a datum plane or a planar face (offset along its
    normal)."""

    type: Literal["sketch"] = "sketch"
    plane: Literal["XY", "YZ", "XZ"] = "XY"
    face: Ref | None = Field(None, description="sketch on this planar face instead of `plane`")
    datum: str | None = Field(
        None, description="sketch on this datum plane (e.g. 'datum1') instead of `plane`"
    )
    body: BodyName | None = Field(None, description="body that owns `face` (default: latest)")
    offset: Number = 0.0
    # a sketch is emitted as one chained CadQuery expression: a thousand entities overflow
    # Python's compiler (RecursionError); 200 is far beyond a hand-drawn profile
    entities: list[Entity] = Field(default_factory=list, max_length=MAX_SKETCH_ENTITIES)

    def references(self) -> set[str]:
        refs = {self.body} if self.body else set()
        if isinstance(self.face, str) and FEATURE_REF.match(self.face):
            refs.add(self.face.split(".")[0])
        if self.datum:
            refs.add(self.datum)
        return refs

    def _loops(self, ctx: EmitContext) -> tuple[list[str], list[str], str | None]:
        """Chain lines, arcs and open splines into closed loops by their end points:
        (statements, closed descriptions, open chain)."""
        segments: list[dict[str, Any]] = []
        for index, entity in enumerate(self.entities):
            if isinstance(entity, Spline) and not entity.periodic:
                segments.append(_spline_segment(ctx, entity, f"spline {index + 1}"))
            elif isinstance(entity, Line | Arc):
                what = f"{entity.kind} {index + 1}"
                st, s = ctx.point(entity.start, f"{what} start")
                et, e = ctx.point(entity.end, f"{what} end")
                mid = ctx.point(entity.mid, f"{what} mid") if isinstance(entity, Arc) else None
                if math.dist(s, e) < 1e-9:
                    raise ctx.fail(f"{what} has zero length (start = end = {st})")
                segments.append({"s": (st, s), "e": (et, e), "mid": mid, "through": None})
        calls: list[str] = []
        closed: list[str] = []
        unused = list(range(len(segments)))

        def near(a: tuple[float, float], b: tuple[float, float]) -> bool:
            return math.dist(a, b) < 1e-6

        while unused:
            first = segments[unused.pop(0)]
            loop = [first]
            start, end = first["s"], first["e"]
            while not near(end[1], start[1]):
                for i in unused:
                    seg = segments[i]
                    if near(seg["s"][1], end[1]):
                        nxt = seg
                    elif near(seg["e"][1], end[1]):
                        through = seg["through"] and [*reversed(seg["through"][:-1]), seg["s"]]
                        nxt = {"s": seg["e"], "e": seg["s"], "mid": seg["mid"], "through": through}
                    else:
                        continue
                    unused.remove(i)
                    loop.append(nxt)
                    end = nxt["e"]
                    break
                else:
                    return (
                        calls,
                        closed,
                        f"the chain from {start[0]} ends at {end[0]}, where no other line, "
                        "arc or spline starts; add segments to close it",
                    )
            parts = [f".moveTo{start[0]}"]
            for i, seg in enumerate(loop):
                last = i == len(loop) - 1
                if seg["through"] is not None:
                    points = ", ".join(text for text, _ in seg["through"])
                    parts.append(f".spline([{points}], includeCurrent=True)")
                elif seg["mid"] is not None:
                    parts.append(f".threePointArc({seg['mid'][0]}, {seg['e'][0]})")
                elif not last:
                    parts.append(f".lineTo{seg['e'][0]}")
            parts.append(".close()")
            calls.append("".join(parts))
            closed.append(f"profile of {len(loop)} segments")
        return calls, closed, None

    def emit(self, ctx: EmitContext) -> str:
        off_text, off = ctx.num(self.offset, "offset")
        var = self.id
        if self.face is not None and self.datum is not None:
            raise ctx.fail("give a face or a datum plane to sketch on, not both")
        if self.face is not None:
            body = ctx.body(self.body)
            head = f"on_face({body}, {ctx.ref(self.face)})"
            where = f"on face {self.face!r} of {body}"
        elif self.datum is not None:
            head = f"cq.Workplane({ctx.datum(self.datum)})"
            where = f"on datum plane {self.datum}"
        else:
            head = f'cq.Workplane("{self.plane}")'
            where = f"on {self.plane}"
        if off:
            head += f".workplane(offset={off_text})"
        calls, closed, open_chain = self._loops(ctx)
        for entity in self.entities:
            if isinstance(entity, Circle):
                ct, _ = ctx.point(entity.center, "circle center")
                rt, _ = ctx.num(entity.radius, "circle radius", positive=True)
                calls.append(f".pushPoints([{ct}]).circle({rt})")
                closed.append("circle")
            elif isinstance(entity, Rectangle):
                ct, _ = ctx.point(entity.center, "rectangle center")
                wt, _ = ctx.num(entity.width, "rectangle width", positive=True)
                ht, _ = ctx.num(entity.height, "rectangle height", positive=True)
                calls.append(f".pushPoints([{ct}]).rect({wt}, {ht})")
                closed.append("rectangle")
            elif isinstance(entity, Polygon):
                ct, _ = ctx.point(entity.center, "polygon center")
                dt, _ = ctx.num(entity.diameter, "polygon diameter", positive=True)
                calls.append(f".pushPoints([{ct}]).polygon({entity.sides}, {dt})")
                closed.append(f"{entity.sides}-gon")
            elif isinstance(entity, Slot):
                calls.append(_slot_call(ctx, entity))
                closed.append("slot")
            elif isinstance(entity, Spline) and entity.periodic:
                calls.append(_periodic_spline_call(ctx, entity))
                closed.append("periodic spline")
        ctx.sketches[self.id] = {"closed": closed, "open": open_chain}
        lines = [f"# {self.id}: sketch {where}" + (f" ({self.name!r})" if self.name else "")]
        if open_chain:
            lines.append(f"# (open chain left out of the profile: {open_chain})")
        if calls:
            body_lines = "\n".join(f"    {c}" for c in calls)
            lines.append(f"{var} = profile(\n    {head}\n{body_lines}\n)")
        else:
            lines.append(f"{var} = {head}")
        return "\n".join(lines)


Operation = Literal["new", "join", "cut", "intersect"]


def _combine(ctx: EmitContext, feature_id: str, op: str, target: str, tool: str) -> str:
    ctx.touched.add(target)
    ctx.tools[feature_id] = (target, op)
    method = {"join": "union", "cut": "cut", "intersect": "intersect"}[op]
    return f"{target} = {target}.{method}({tool})"


class Extrude(FeatureBase):
    type: Literal["extrude"] = "extrude"
    sketch: str
    distance: Number | None = Field(None, description="depth in mm; omit for through_all")
    extent: Literal["blind", "through_all", "up_to_face"] = "blind"
    face: Ref | None = Field(
        None, description="up_to_face: the planar face of `body` whose plane ends the extrusion"
    )
    direction: Literal["normal", "reverse", "symmetric"] | None = Field(
        None, description="default: normal for new/join, reverse (into the part) for cut"
    )
    draft: Number | None = Field(
        None,
        description="taper angle in degrees (blind only): positive narrows the profile away "
        "from the sketch, negative widens it (the kernel rounds a widened profile's corners)",
    )
    operation: Operation = "new"
    body: BodyName | None = Field(None, description="body to create (new) or to change")

    def references(self) -> set[str]:
        refs = {self.sketch} | ({self.body} if self.body and self.operation != "new" else set())
        if isinstance(self.face, str) and FEATURE_REF.match(self.face):
            refs.add(self.face.split(".")[0])
        return refs

    def _direction(self) -> str:
        return self.direction or ("reverse" if self.operation == "cut" else "normal")

    def emit(self, ctx: EmitContext) -> str:
        ctx.sketch(self.sketch)
        if self.face is not None and self.extent != "up_to_face":
            raise ctx.fail("face is only used with extent up_to_face")
        call = self._up_to_face(ctx) if self.extent == "up_to_face" else self._prism(ctx)
        lines = [f"# {self.id}: extrude {self.sketch} ({self.operation})"]
        if self.operation == "new":
            name = self.body or f"body_{self.id}"
            if name in ctx.bodies:
                raise ctx.fail(f"body {name!r} already exists")
            ctx.bodies.append(name)
            ctx.touched.add(name)
            ctx.tools[self.id] = (name, "new")
            lines.append(f"{name} = {call}")
            lines.append(f"{self.id}_tool = {name}")
        else:
            target = ctx.body(self.body)
            lines.append(f"{self.id}_tool = {call}")
            lines.append(_combine(ctx, self.id, self.operation, target, f"{self.id}_tool"))
        return "\n".join(lines)

    def _prism(self, ctx: EmitContext) -> str:
        """The call of a blind or through-all extrusion (tapered by `draft`)."""
        taper = ""
        if self.draft is not None:
            if self.extent != "blind":
                raise ctx.fail("a draft angle needs a blind extrude (extent blind, a distance)")
            draft_text, draft = ctx.num(self.draft, "draft")
            if not -89 <= draft <= 89:
                raise ctx.fail(f"draft must be between -89 and 89 degrees (got {draft_text})")
            taper = f", taper={draft_text}" if draft else ""
        if taper:
            self._check_draft(ctx, draft_text, draft)
        if self.extent == "through_all":
            if self.operation == "new":
                raise ctx.fail("through_all needs an existing body (use operation cut/join)")
            dist_text = f"through_depth({ctx.body(self.body)}, {self.sketch})"
        else:
            if self.distance is None:
                raise ctx.fail("distance is required for a blind extrude")
            dist_text, _ = ctx.num(self.distance, "distance", positive=True)
        direction = self._direction()
        if direction == "symmetric" and not taper:
            return f"symmetric_prism({self.sketch}, {dist_text})"
        if direction == "symmetric":  # tapered: narrowing away from the sketch on both sides
            return f"{self.sketch}.extrude({dist_text} / 2, combine=False, both=True{taper})"
        if direction == "reverse":
            return f"{self.sketch}.extrude(-{dist_text}, combine=False{taper})"
        return f"{self.sketch}.extrude({dist_text}, combine=False{taper})"

    def _check_draft(self, ctx: EmitContext, draft_text: str, draft: float) -> None:
        """Refuse what the kernel's tapered prism gets wrong without saying so: a profile
        with holes (CadQuery raises a bare error) and a positive draft that closes the
        profile before the end (OCCT returns a valid but shorter, roof-shaped solid)."""
        faces = [f for f in ctx.ns[self.sketch].vals() if isinstance(f, cq.Face)]
        if any(face.innerWires() for face in faces):
            raise ctx.fail(
                f"a draft needs profiles without holes, and {self.sketch} has a profile inside "
                "a profile: extrude the outside with the draft, then cut the hole"
            )
        if draft <= 0 or self.distance is None:
            return
        length = ctx.num(self.distance, "distance")[1]
        if self._direction() == "symmetric":
            length /= 2  # each half narrows away from the sketch
        inset = length * math.tan(math.radians(draft))
        for face in faces:
            try:
                inner = face.outerWire().offset2D(-inset)
            except Exception:  # OCCT's offset fails once nothing is left
                inner = []
            area = sum(cq.Face.makeFromWires(wire).Area() for wire in inner)
            if len(inner) != 1 or area <= 1e-6 * face.Area():
                raise ctx.fail(
                    f"a draft of {draft_text} degrees over {number_text(length)} mm moves the "
                    f"sides in by {number_text(round(inset, 4))} mm, so the profile closes "
                    "before the end of the extrusion; use a smaller draft or distance"
                )

    def _up_to_face(self, ctx: EmitContext) -> str:
        """The call of an extrusion that ends on the plane of a planar face."""
        if self.face is None:
            raise ctx.fail("up_to_face needs `face`: the face whose plane ends the extrusion")
        if self.distance is not None or self.direction is not None or self.draft is not None:
            raise ctx.fail(
                "up_to_face takes no distance, direction or draft: it extrudes along the "
                "sketch normal or against it, whichever reaches the face's plane"
            )
        # a new body ends on a face of the latest body; join/cut on a face of their target
        owner = ctx.body(None if self.operation == "new" else self.body)
        return f"up_to_face({self.sketch}, {owner}, {ctx.ref(self.face)})"

    def after(self, ctx: EmitContext, ns: Mapping[str, Any]) -> None:
        if self.extent != "blind" or self.distance is None:
            return
        plane = ns[self.sketch].plane
        origin, n = plane.origin, plane.zDir
        d = ctx.num(self.distance, "distance")[1]
        direction = self._direction()
        if direction == "symmetric":
            start, end = origin - n * (d / 2), origin + n * (d / 2)
            start_n, end_n = -n, n
        elif direction == "reverse":
            start, end, start_n, end_n = origin, origin - n * d, n, -n
        else:
            start, end, start_n, end_n = origin, origin + n * d, -n, n
        if self.operation == "cut":
            # a pocket's faces look back into the removed material
            start_n, end_n = -start_n, -end_n
        for cap, point, normal in (("start", start, start_n), ("end", end, end_n)):
            ctx.planes[f"{self.id}.{cap}"] = (_vec(point), _vec(normal))
        ctx.planes[f"{self.id}.bottom"] = ctx.planes[f"{self.id}.start"]
        ctx.planes[f"{self.id}.top"] = ctx.planes[f"{self.id}.end"]


class Revolve(FeatureBase):
    type: Literal["revolve"] = "revolve"
    sketch: str
    angle: Number = 360.0
    axis_start: Point2 = Field((0.0, 0.0), description="axis point in sketch coordinates")
    axis_end: Point2 = Field((0.0, 1.0), description="second axis point in sketch coordinates")
    operation: Operation = "new"
    body: BodyName | None = None

    def references(self) -> set[str]:
        return {self.sketch} | ({self.body} if self.body and self.operation != "new" else set())

    def emit(self, ctx: EmitContext) -> str:
        ctx.sketch(self.sketch)
        at, angle = ctx.num(self.angle, "angle", positive=True)
        if angle > 360:
            raise ctx.fail(f"angle must be at most 360 degrees (got {number_text(angle)})")
        st, s = ctx.point(self.axis_start, "axis_start")
        et, e = ctx.point(self.axis_end, "axis_end")
        if math.dist(s, e) < 1e-9:
            raise ctx.fail("axis_start and axis_end are the same point")
        call = f"{self.sketch}.revolve({at}, ({st[1:-1]}, 0), ({et[1:-1]}, 0), combine=False)"
        lines = [f"# {self.id}: revolve {self.sketch} by {at} degrees ({self.operation})"]
        if self.operation == "new":
            name = self.body or f"body_{self.id}"
            if name in ctx.bodies:
                raise ctx.fail(f"body {name!r} already exists")
            ctx.bodies.append(name)
            ctx.touched.add(name)
            ctx.tools[self.id] = (name, "new")
            lines += [f"{name} = {call}", f"{self.id}_tool = {name}"]
        else:
            target = ctx.body(self.body)
            lines.append(f"{self.id}_tool = {call}")
            lines.append(_combine(ctx, self.id, self.operation, target, f"{self.id}_tool"))
        return "\n".join(lines)


class Fillet(FeatureBase):
    type: Literal["fillet"] = "fillet"
    body: BodyName | None = None
    edges: list[Ref] = Field(min_length=1)
    radius: Number

    def references(self) -> set[str]:
        return {self.body} if self.body else set()

    def emit(self, ctx: EmitContext) -> str:
        body = ctx.body(self.body)
        rt, _ = ctx.num(self.radius, "radius", positive=True)
        ctx.touched.add(body)
        return (
            f"# {self.id}: fillet r={rt}\n"
            f'{body} = select_all({body}, "edges", {ctx.refs(self.edges)}).fillet({rt})'
        )


class Chamfer(FeatureBase):
    type: Literal["chamfer"] = "chamfer"
    body: BodyName | None = None
    edges: list[Ref] = Field(min_length=1)
    distance: Number
    distance2: Number | None = Field(None, description="second length for an unequal chamfer")

    def references(self) -> set[str]:
        return {self.body} if self.body else set()

    def emit(self, ctx: EmitContext) -> str:
        body = ctx.body(self.body)
        dt, _ = ctx.num(self.distance, "distance", positive=True)
        args = dt
        if self.distance2 is not None:
            args += ", " + ctx.num(self.distance2, "distance2", positive=True)[0]
        ctx.touched.add(body)
        return (
            f"# {self.id}: chamfer {args}\n"
            f'{body} = select_all({body}, "edges", {ctx.refs(self.edges)}).chamfer({args})'
        )


# Most solids one hole, pattern or mirror feature adds: each is one more boolean
# (1,500 holes took 26 s to cut).
MAX_PATTERN_INSTANCES = 500


class Hole(FeatureBase):
    """Round holes drilled into a planar face at face-local positions (origin: face centre)."""

    type: Literal["hole"] = "hole"
    body: BodyName | None = None
    face: Ref = ">Z"
    positions: list[Point2] = Field(
        default=[(0.0, 0.0)], min_length=1, max_length=MAX_PATTERN_INSTANCES
    )
    diameter: Number
    depth: Number | None = Field(None, description="omit for a through hole")
    cbore_diameter: Number | None = None
    cbore_depth: Number | None = None
    csk_diameter: Number | None = Field(
        None, description="countersink: diameter on the face (not with a counterbore)"
    )
    csk_angle: Number | None = Field(
        None, description="countersink: included angle in degrees, e.g. 90 (ISO) or 82"
    )

    def references(self) -> set[str]:
        refs = {self.body} if self.body else set()
        if isinstance(self.face, str) and FEATURE_REF.match(self.face):
            refs.add(self.face.split(".")[0])
        return refs

    def emit(self, ctx: EmitContext) -> str:
        body = ctx.body(self.body)
        dt, d = ctx.num(self.diameter, "diameter", positive=True)
        if self.depth is None:
            depth_text = f"through_depth({body})"
        else:
            depth_text, depth = ctx.num(self.depth, "depth", positive=True)
        points = ", ".join(
            ctx.point(p, f"position {i + 1}")[0] for i, p in enumerate(self.positions)
        )
        extra = ""
        if (self.cbore_diameter is None) != (self.cbore_depth is None):
            raise ctx.fail("a counterbore needs both cbore_diameter and cbore_depth")
        if self.cbore_diameter is not None and self.cbore_depth is not None:
            cdt, cd = ctx.num(self.cbore_diameter, "cbore_diameter", positive=True)
            cht, ch = ctx.num(self.cbore_depth, "cbore_depth", positive=True)
            if cd <= d:
                raise ctx.fail(
                    f"cbore_diameter ({number_text(cd)}) must exceed diameter ({number_text(d)})"
                )
            if self.depth is not None and ch >= depth:
                raise ctx.fail("cbore_depth must be less than the hole depth")
            extra = f", {cdt}, {cht}"
        if (self.csk_diameter is None) != (self.csk_angle is None):
            raise ctx.fail("a countersink needs both csk_diameter and csk_angle")
        if self.csk_diameter is not None and self.csk_angle is not None:
            if extra:
                raise ctx.fail("a hole has a counterbore or a countersink, not both")
            kdt, kd = ctx.num(self.csk_diameter, "csk_diameter", positive=True)
            kat, ka = ctx.num(self.csk_angle, "csk_angle", positive=True)
            if kd <= d:
                raise ctx.fail(
                    f"csk_diameter ({number_text(kd)}) must exceed diameter ({number_text(d)})"
                )
            if ka >= 180:
                raise ctx.fail(f"csk_angle must be less than 180 degrees (got {number_text(ka)})")
            sink = (kd - d) / 2 / math.tan(math.radians(ka) / 2)
            if self.depth is not None and sink >= depth:
                raise ctx.fail(
                    f"the countersink is {number_text(round(sink, 4))} mm deep, not less than "
                    "the hole depth"
                )
            extra = f", csk_diameter={kdt}, csk_angle={kat}"
        ctx.touched.add(body)
        ctx.tools[self.id] = (body, "cut")
        return (
            f"# {self.id}: {len(self.positions)} hole(s) d={dt}\n"
            f"{self.id}_face = on_face({body}, {ctx.ref(self.face)})\n"
            f"{self.id}_tool = hole_tool({self.id}_face, [{points}], {dt}, {depth_text}{extra})\n"
            f"{body} = {body}.cut({self.id}_tool)"
        )


class Shell(FeatureBase):
    """Hollow a body: walls of `thickness`, the listed faces removed (open)."""

    type: Literal["shell"] = "shell"
    body: BodyName | None = None
    faces: list[Ref] = Field(default_factory=list, description="faces to remove; [] = closed")
    thickness: Number
    outward: bool = False

    def references(self) -> set[str]:
        return {self.body} if self.body else set()

    def emit(self, ctx: EmitContext) -> str:
        body = ctx.body(self.body)
        tt, _ = ctx.num(self.thickness, "thickness", positive=True)
        signed = tt if self.outward else f"-{tt}"
        ctx.touched.add(body)
        head = f"# {self.id}: shell thickness {tt}"
        if not self.faces:
            return f"{head}\n{body} = {body}.shell({signed})"
        return (
            f'{head}\n{body} = select_all({body}, "faces", {ctx.refs(self.faces)}).shell({signed})'
        )


class Boolean(FeatureBase):
    type: Literal["boolean"] = "boolean"
    body: BodyName = Field(description="the target body, which keeps its name")
    tools: list[BodyName] = Field(min_length=1, description="bodies combined into the target")
    operation: Literal["union", "cut", "intersect"]
    keep_tools: bool = False

    def references(self) -> set[str]:
        return {self.body, *self.tools}

    def emit(self, ctx: EmitContext) -> str:
        target = ctx.body(self.body)
        lines = [f"# {self.id}: {self.operation} of {', '.join(self.tools)} into {target}"]
        for tool in self.tools:
            tool = ctx.body(tool)
            if tool == target:
                raise ctx.fail(f"body {tool!r} cannot be combined with itself")
            lines.append(f"{target} = {target}.{self.operation}({tool})")
            if not self.keep_tools:
                ctx.bodies.remove(tool)
                ctx.removed.add(tool)
        ctx.touched.add(target)
        return "\n".join(lines)


class Pattern(FeatureBase):
    """Repeat what another feature added or removed (extrude, revolve, hole, pattern, mirror).

    A pattern's own tool is the original and all its copies, so patterning a pattern repeats
    the whole set: a row of 5 holes patterned 3 times is a 5 x 3 grid of 15.
    """

    type: Literal["pattern"] = "pattern"
    source: str = Field(
        description="id of the extrude, revolve, hole, pattern or mirror feature to repeat"
    )
    kind: Literal["linear", "circular", "rectangular"]
    count: int = Field(
        ge=2, le=500, description="instances including the original (rectangular: columns)"
    )
    direction: Vec3 = Field(
        (1.0, 0.0, 0.0), description="linear, rectangular: direction of the columns' step"
    )
    spacing: Number = Field(10.0, description="linear, rectangular: distance along `direction`")
    count2: int | None = Field(
        None, ge=2, le=500, description="rectangular: rows (instances along direction2)"
    )
    direction2: Vec3 = Field((0.0, 1.0, 0.0), description="rectangular: direction of the rows")
    spacing2: Number | None = Field(None, description="rectangular: distance along direction2")
    axis_origin: Vec3 = Field((0.0, 0.0, 0.0), description="circular: a point on the axis")
    axis_direction: Vec3 = Field((0.0, 0.0, 1.0), description="circular: axis direction")
    angle: Number = Field(360.0, description="circular: total angle; 360 spaces evenly")

    def references(self) -> set[str]:
        return {self.source}

    def emit(self, ctx: EmitContext) -> str:
        if self.source not in ctx.tools:
            known = ", ".join(ctx.tools) or "none"
            raise ctx.fail(
                f"cannot pattern {self.source!r}: only extrude, revolve, hole, pattern and "
                f"mirror features can be repeated (candidates: {known})"
            )
        target, op = ctx.tools[self.source]
        if op == "intersect":
            # intersecting again with each copy would remove what the original kept
            raise ctx.fail(f"cannot pattern {self.source!r}: it intersects; pattern a join or cut")
        target = ctx.body(target)
        src = f"{self.source}_tool"
        if self.kind != "rectangular" and (self.count2 is not None or self.spacing2 is not None):
            raise ctx.fail("count2 and spacing2 belong to a rectangular pattern")
        if self.kind in ("linear", "rectangular"):
            if math.hypot(*self.direction) < 1e-9:
                raise ctx.fail("direction must not be the zero vector")
            st, _ = ctx.num(self.spacing, "spacing", positive=True)
        if self.kind == "linear":
            call = f"linear_pattern({src}, {self.direction!r}, {st}, {self.count})"
        elif self.kind == "rectangular":
            if self.count2 is None or self.spacing2 is None:
                raise ctx.fail("a rectangular pattern needs count2 and spacing2 (the rows)")
            if math.hypot(*self.direction2) < 1e-9:
                raise ctx.fail("direction2 must not be the zero vector")
            d1, d2 = (_unit(v) for v in (self.direction, self.direction2))
            if abs(sum(a * b for a, b in zip(d1, d2, strict=True))) > 1 - 1e-9:
                raise ctx.fail("direction and direction2 must not be parallel")
            s2t, _ = ctx.num(self.spacing2, "spacing2", positive=True)
            call = (
                f"grid_pattern({src}, {self.direction!r}, {st}, {self.count}, "
                f"{self.direction2!r}, {s2t}, {self.count2})"
            )
        elif self.kind == "circular":
            if math.hypot(*self.axis_direction) < 1e-9:
                raise ctx.fail("axis_direction must not be the zero vector")
            at, angle = ctx.num(self.angle, "angle", positive=True)
            if angle > 360:
                raise ctx.fail("angle must be at most 360 degrees")
            call = (
                f"circular_pattern({src}, {self.axis_origin!r}, {self.axis_direction!r}, "
                f"{self.count}, {at})"
            )
        # a pattern of a pattern multiplies, so the bound is on instances, not on count
        copies = self.count * (self.count2 or 1)
        repeated = ctx.ns[src].solids().size()
        if repeated * copies > MAX_PATTERN_INSTANCES:
            raise ctx.fail(
                f"{repeated} solid(s) of {self.source} repeated {copies} times make "
                f"{repeated * copies} instances: at most {MAX_PATTERN_INSTANCES} in one pattern"
            )
        op = "join" if op == "new" else op
        size = f"{self.count}x{self.count2}" if self.kind == "rectangular" else f"x{self.count}"
        return "\n".join(
            [
                f"# {self.id}: {self.kind} pattern of {self.source} {size}",
                f"{self.id}_copies = {call}",
                _combine(ctx, self.id, op, target, f"{self.id}_copies"),
                f"{self.id}_tool = with_copies({src}, {self.id}_copies)",
            ]
        )


def _unit(vector: Vec3) -> Vec3:
    length = math.hypot(*vector)
    return (vector[0] / length, vector[1] / length, vector[2] / length)
