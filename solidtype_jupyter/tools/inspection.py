"""Read-only tools the agent checks its own work with (measure, check_interference, section,
verify).

None of them changes the document, so they run without approval. References name faces and
edges as the modelling tools do (selectors, feature-relative names, descriptors from
find_faces/find_edges), plus vertices and whole bodies; the geometry is in `cad.measure`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from itertools import combinations
from typing import Annotated, Any, Literal

import cadquery as cq
from pydantic import Field, model_validator

from ..cad import CadDocument
from ..cad.errors import FeatureError
from ..cad.expressions import evaluate
from ..cad.features import FEATURE_REF, Descriptor, Number, Ref, Vec3
from ..cad.measure import (
    HOLE_DEFINITION,
    Element,
    MeasureError,
    between_figures,
    element_info,
    holes,
    interference,
    section,
    shared_volume,
    single_figures,
    vertex_at,
)
from ..cad.queries import exact_bounding_box, solids_of
from ..cad.script_helpers import SelectionError, parse_selector, select
from ..cad.section_image import section_png
from .editor_common import Args, document_of, editor_spec
from .registry import ToolContext, ToolFailure, ToolImage, ToolResult, ToolSpec

MAX_CHECKS = 50
MAX_PAIRS = 45  # all pairs of 10 bodies
MAX_LISTED_HOLES = 50
VERTEX_TOL = 0.01  # mm: coordinates naming a vertex must be this close to it

# --- references ---------------------------------------------------------------------------


class Reference(Args):
    """A body, or one face (several only if coplanar), edge or vertex of it."""

    body: str | None = Field(None, description="body name, e.g. body1 (default: the latest)")
    face: Ref | None = Field(
        None, description="a face of the body (several faces only if they are coplanar)"
    )
    edge: Ref | None = Field(None, description="one edge of the body")
    vertex: str | Vec3 | None = Field(
        None,
        description="one vertex: a CadQuery vertex selector ('>X and >Y and >Z') or its "
        "coordinates [x, y, z] (within 0.01 mm)",
    )

    @model_validator(mode="after")
    def _one_element(self) -> Reference:
        given = [k for k in ("face", "edge", "vertex") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(
                f"give at most one of face, edge, vertex (got {', '.join(given)}); "
                "leave all out to mean the whole body"
            )
        return self


def _bodies(doc: CadDocument) -> dict[str, cq.Workplane]:
    bodies = doc.bodies
    if not bodies:
        raise ToolFailure("not_found", "the document has no solid yet: nothing to measure")
    return bodies


def _body(doc: CadDocument, name: str | None, label: str) -> tuple[str, cq.Workplane]:
    bodies = _bodies(doc)
    chosen = name or list(bodies)[-1]
    if chosen not in bodies:
        raise ToolFailure(
            "not_found", f"{label}: unknown body {chosen!r} (bodies: {', '.join(bodies)})"
        )
    return chosen, bodies[chosen]


def _helper_ref(doc: CadDocument, ref: str | Descriptor, label: str) -> Any:
    """A reference as `select` takes it; feature-relative names become their cap's plane."""
    if isinstance(ref, Descriptor):
        return ref.as_helper_dict()
    match = FEATURE_REF.match(ref.strip())
    if match is None:
        return ref.strip()
    key = f"{match['feature']}.{match['cap']}"
    steps = doc.result.steps
    planes = steps[-1].planes if steps else {}
    if key not in planes:
        known = ", ".join(sorted(planes)) or "none"
        raise ToolFailure(
            "not_found", f"{label}: unknown feature-relative reference {ref!r} (known: {known})"
        )
    origin, normal = planes[key]
    return {"on_plane": [origin, normal], "label": key, "all": True}


def resolve(doc: CadDocument, ref: Reference, label: str) -> tuple[str, Element]:
    """The body name and the element a reference names; not_found with the reason if none."""
    name, body = _body(doc, ref.body, f"{label}.body")
    try:
        if ref.face is not None:
            found = select(body, "faces", _helper_ref(doc, ref.face, label), one="plane")
            return name, Element("face", tuple(found))
        if ref.edge is not None:
            found = select(body, "edges", _helper_ref(doc, ref.edge, label), one=True)
            return name, Element("edge", tuple(found))
        if ref.vertex is not None:
            return name, Element("vertex", (_vertex(body, ref.vertex),))
    except (SelectionError, MeasureError) as exc:
        kind = "face" if ref.face is not None else "edge" if ref.edge is not None else "vertex"
        raise ToolFailure("not_found", f"{label}.{kind} (in {name}): {exc}") from None
    return name, Element("body", tuple(solids_of(body)))


def _vertex(body: cq.Workplane, ref: str | Vec3) -> cq.Shape:
    solid = body.findSolid()
    if not isinstance(ref, str):
        return vertex_at(solid, ref, VERTEX_TOL)
    try:
        found = body.newObject([solid]).vertices(parse_selector(ref)).vals()
    except Exception as exc:
        raise SelectionError(
            f"bad vertex selector {ref!r}: not a CadQuery selector (e.g. '>X and >Y and >Z')"
        ) from exc
    if len(found) != 1:
        points = ", ".join(
            str([round(c, 4) + 0.0 for c in v.toTuple()])
            for v in found[:6]
            if isinstance(v, cq.Vertex)
        )
        raise SelectionError(
            f"vertex selector {ref!r} matched {len(found)} vertices, expected exactly one"
            + (f": {points}" if found else "")
        )
    return found[0]  # type: ignore[return-value]


def _figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {name: figure.as_dict() for name, figure in figures.items()}


def _element(body: str, element: Element, with_holes: bool) -> dict[str, Any]:
    out = {"body": body, **element_info(element), "figures": _figures(single_figures(element))}
    if element.kind == "body" and with_holes:
        found = holes(element.shapes)
        out["holes"] = {
            "count": len(found),
            "list": [h.as_dict() for h in found[:MAX_LISTED_HOLES]],
            "definition": HOLE_DEFINITION,
        }
    return out


def _measure_figures(
    doc: CadDocument, a: Reference, b: Reference | None, *, with_holes: bool = True
) -> dict[str, Any]:
    """The figures a measure call (or a verify measure check) can name; a body's hole list
    only on request (seconds for hundreds of holes, and no verify figure needs it)."""
    name_a, ea = resolve(doc, a, "a")
    out: dict[str, Any] = {"a": _element(name_a, ea, with_holes)}
    if b is None:
        out["figures"] = out["a"]["figures"]
        return out
    name_b, eb = resolve(doc, b, "b")
    out["b"] = _element(name_b, eb, with_holes)
    try:
        out["figures"] = _figures(between_figures(ea, eb))
    except MeasureError as exc:
        raise ToolFailure("cad_error", str(exc)) from None
    return out


# --- measure -------------------------------------------------------------------------------


class MeasureArgs(Args):
    a: Reference = Field(description="what to measure (alone: its size)")
    b: Reference | None = Field(
        None, description="a second element: the figures then relate a to b"
    )


def measure(args: MeasureArgs, ctx: ToolContext) -> dict[str, Any]:
    return _measure_figures(document_of(ctx), args.a, args.b)


# --- check_interference ------------------------------------------------------------------


class InterferenceArgs(Args):
    a: str | None = Field(None, description="a body name; omit a and b to check every pair")
    b: str | None = Field(None, description="the other body")

    @model_validator(mode="after")
    def _pair(self) -> InterferenceArgs:
        if (self.a is None) != (self.b is None):
            raise ValueError("give both bodies a and b, or neither (every pair of bodies)")
        if self.a is not None and self.a == self.b:
            raise ValueError(f"a and b are the same body ({self.a}); name two bodies")
        return self


def check_interference(args: InterferenceArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    bodies = _bodies(doc)
    if args.a is not None and args.b is not None:
        pairs = [(_body(doc, args.a, "a")[0], _body(doc, args.b, "b")[0])]
    else:
        if len(bodies) < 2:
            raise ToolFailure(
                "not_found", f"the document has one body ({', '.join(bodies)}): nothing to check"
            )
        pairs = list(combinations(bodies, 2))
        if len(pairs) > MAX_PAIRS:
            raise ToolFailure(
                "invalid_arguments",
                f"{len(bodies)} bodies make {len(pairs)} pairs (at most {MAX_PAIRS} at once): "
                "name the two bodies a and b",
            )
    results = []
    for a, b in pairs:
        figures = interference(solids_of(bodies[a]), solids_of(bodies[b]))
        results.append({"a": a, "b": b, **figures})
    if len(results) == 1:
        return results[0]
    meaning = results[0].pop("meaning")
    for r in results[1:]:
        r.pop("meaning")
    return {
        "pairs": results,
        "interfering": [[r["a"], r["b"]] for r in results if r["interferes"]],
        "meaning": meaning,
    }


# --- section -------------------------------------------------------------------------------


class SectionArgs(Args):
    plane: Literal["XY", "YZ", "XZ"] | None = Field(
        None,
        description="a principal plane, moved by offset along its normal (XY: +Z, XZ: -Y, "
        "YZ: +X, as in create_sketch); default XY unless normal is given",
    )
    offset: Number = Field(
        0.0, description="mm along the principal plane's normal (a number or an expression)"
    )
    origin: Vec3 | None = Field(None, description="a point of the plane (with normal)")
    normal: Vec3 | None = Field(None, description="the plane's normal (instead of plane)")
    datum: str | None = Field(
        None, description="a datum plane made with datum_plane, e.g. 'datum1' (instead of plane)"
    )
    body: str | None = Field(None, description="cut only this body (default: every body)")
    width: int = Field(512, ge=64, le=1024, description="picture width in pixels")
    height: int = Field(384, ge=64, le=1024, description="picture height in pixels")

    @model_validator(mode="after")
    def _one_plane(self) -> SectionArgs:
        given = [k for k in ("plane", "normal", "datum") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(
                "give one of plane (and offset), normal (and origin) or datum, "
                f"not {' and '.join(given)}"
            )
        if self.datum is not None and (self.offset or self.origin is not None):
            raise ValueError("a datum plane takes no offset or origin (move the datum instead)")
        if self.normal is None and self.origin is not None:
            raise ValueError("origin needs a normal (or use plane and offset)")
        if self.normal is not None:
            if self.offset:
                raise ValueError("offset goes with plane; with normal, move the origin instead")
            if math.hypot(*self.normal) < 1e-9:
                raise ValueError("normal must not be the zero vector")
        return self


def section_plane(doc: CadDocument, args: SectionArgs) -> cq.Plane:
    if args.datum is not None:
        steps = doc.result.steps
        names = steps[-1].ns if steps else {}
        plane = names.get(args.datum)
        if not isinstance(plane, cq.Plane):
            known = [k for k, v in names.items() if isinstance(v, cq.Plane)]
            raise ToolFailure(
                "not_found",
                f"unknown datum plane {args.datum!r} (datum planes: "
                f"{', '.join(known) or 'none; make one with datum_plane'})",
            )
        return plane
    if args.normal is None:
        plane = cq.Plane.named(args.plane or "XY")
        offset = number(doc, args.offset, "offset")
        return cq.Plane(plane.zDir * offset, plane.xDir, plane.zDir)
    normal = cq.Vector(*args.normal).normalized()
    # the picture's x axis: world X laid into the plane (world Y if the plane faces X)
    reference = cq.Vector(1, 0, 0) if abs(normal.x) < 0.9 else cq.Vector(0, 1, 0)
    x_dir = (reference - normal * reference.dot(normal)).normalized()
    return cq.Plane(cq.Vector(*(args.origin or (0.0, 0.0, 0.0))), x_dir, normal)


def section_tool(args: SectionArgs, ctx: ToolContext) -> ToolResult:
    doc = document_of(ctx)
    bodies = _bodies(doc)
    if args.body is not None:
        solids = solids_of(_body(doc, args.body, "body")[1])
    else:
        solids = [s for body in bodies.values() for s in solids_of(body)]
    cut = section(solids, section_plane(doc, args))
    content = cut.as_dict()
    content["meaning"] = (
        "area: total area of the section; regions: separate pieces of it; bbox: its box in "
        "model coordinates; in_plane: its extent in the plane's x_dir/y_dir (the picture's "
        "axes, seen from the normal's side)"
    )
    images = []
    if cut.faces:
        png = section_png(cut.faces, cut.plane, args.width, args.height)
        images.append(ToolImage.png(png))
        content["image"] = {"width": args.width, "height": args.height, "bytes": len(png)}
    return ToolResult(tool="section", ok=True, content=content, images=images)


# --- verify --------------------------------------------------------------------------------

Kind = Literal["length", "area", "volume", "angle", "count"]
_UNITS = {"length": "mm", "area": "mm2", "volume": "mm3", "angle": "deg", "count": ""}
_UNIT_KIND = {"mm": "length", "mm2": "area", "mm3": "volume", "deg": "angle"}


class _Target(Args):
    name: str | None = Field(None, max_length=120, description="label shown in the result")
    expected: Number | None = Field(
        None, description="the value it must have (a number or a parameter expression)"
    )
    at_least: Number | None = Field(None, description="lower bound (instead of expected)")
    at_most: Number | None = Field(None, description="upper bound (instead of expected)")
    tol: float | None = Field(None, ge=0, description="allowed absolute deviation")
    rel_tol: float | None = Field(
        None, ge=0, le=1, description="allowed deviation as a fraction of the expected value"
    )

    @model_validator(mode="after")
    def _target(self) -> _Target:
        if self.expected is None and self.at_least is None and self.at_most is None:
            raise ValueError("give expected, or at_least and/or at_most")
        if self.expected is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("give expected, or bounds (at_least/at_most), not both")
        return self


class VolumeCheck(_Target):
    kind: Literal["volume"]
    body: str | None = Field(None, description="default: all bodies together")


class AreaCheck(_Target):
    kind: Literal["area"]
    body: str | None = Field(None, description="default: all bodies together")


CountOf = Literal["solids", "shells", "faces", "edges", "vertices", "holes"]


class CountCheck(_Target):
    kind: Literal["count"]
    of: CountOf = Field(description=f"what to count; holes: {HOLE_DEFINITION}")
    body: str | None = Field(None, description="default: all bodies together")


FigureName = Literal[
    "volume",
    "area",
    "length",
    "radius",
    "diameter",
    "min_distance",
    "center_distance",
    "plane_distance",
    "axis_distance",
    "angle",
    "normal_angle",
]


class MeasureCheck(_Target):
    kind: Literal["measure"]
    a: Reference
    b: Reference | None = None
    figure: FigureName = Field(description="a figure `measure` returns for a (and b)")


class SharedVolumeCheck(_Target):
    kind: Literal["shared_volume"]
    a: str = Field(description="a body name")
    b: str = Field(description="another body name")


# numbers or parameter expressions; null leaves that axis unchecked
Box3 = tuple[Number | None, Number | None, Number | None]


class BBoxCheck(Args):
    kind: Literal["bbox"]
    name: str | None = Field(None, max_length=120)
    body: str | None = Field(None, description="default: all bodies together")
    size: Box3 | None = Field(None, description="[x, y, z] extents (null: not checked)")
    min: Box3 | None = Field(None, description="lowest x, y, z (null: not checked)")
    max: Box3 | None = Field(None, description="highest x, y, z (null: not checked)")
    tol: float | None = Field(None, ge=0, description="allowed deviation in mm (default 0.01)")

    @model_validator(mode="after")
    def _something(self) -> BBoxCheck:
        wanted = [v for box in (self.size, self.min, self.max) if box for v in box]
        if not any(v is not None for v in wanted):
            raise ValueError("give size, min or max with at least one number")
        return self


class ValidCheck(Args):
    kind: Literal["valid"]
    name: str | None = Field(None, max_length=120)
    body: str | None = Field(None, description="default: all bodies together")


Check = Annotated[
    VolumeCheck
    | AreaCheck
    | BBoxCheck
    | CountCheck
    | MeasureCheck
    | SharedVolumeCheck
    | ValidCheck,
    Field(discriminator="kind"),
]


class VerifyArgs(Args):
    checks: list[Check] = Field(
        min_length=1,
        max_length=MAX_CHECKS,
        description="what the part must satisfy, one check each",
    )


# Default tolerances when a check gives neither tol nor rel_tol.
_DEFAULT_TOL: dict[str, tuple[float, float]] = {  # kind -> (absolute, relative)
    "length": (0.01, 0.0),
    "angle": (0.01, 0.0),
    "area": (0.0, 1e-3),
    "volume": (0.0, 1e-3),
    "count": (0.0, 0.0),
}


class _Model:
    """The document's solids, measured once per verify call."""

    def __init__(self, doc: CadDocument) -> None:
        self.doc = doc
        self.bodies = _bodies(doc)
        self._holes: dict[str | None, int] = {}

    def solids(self, body: str | None) -> list[cq.Shape]:
        if body is None:
            return [s for b in self.bodies.values() for s in solids_of(b)]
        return solids_of(_body(self.doc, body, "body")[1])

    def holes(self, body: str | None) -> int:
        if body not in self._holes:
            self._holes[body] = len(holes(self.solids(body)))
        return self._holes[body]

    def value(self, text: Number, what: str) -> float:
        return number(self.doc, text, what)


def number(doc: CadDocument, value: Number, what: str) -> float:
    """A number, or an expression over the document's parameters ('length / 2')."""
    if not isinstance(value, str):
        return float(value)
    try:
        return evaluate(value, doc.parameters)
    except FeatureError as exc:
        raise ToolFailure("invalid_arguments", f"{what}: {exc}") from None


def _where(body: str | None) -> str:
    return f"body {body}" if body else "all bodies"


def _judge(check: _Target, model: _Model, actual: float, kind: Kind, what: str) -> dict[str, Any]:
    """Compare a figure with what the check asks for; the result says by how much it misses."""
    default_abs, default_rel = _DEFAULT_TOL[kind]
    given = check.tol is not None or check.rel_tol is not None
    tol_abs = (check.tol or 0.0) if given else default_abs
    tol_rel = (check.rel_tol or 0.0) if given else default_rel
    out: dict[str, Any] = {"what": what, "actual": _round(actual), "unit": _UNITS[kind]}
    miss = 0.0
    if check.expected is not None:
        expected = model.value(check.expected, "expected")
        allowed = max(tol_abs, tol_rel * abs(expected))
        deviation = actual - expected
        out.update(expected=_round(expected), deviation=_round(deviation))
        if expected:
            out["relative_deviation"] = _round(deviation / abs(expected), 8)
        if abs(deviation) > allowed:
            miss = deviation - math.copysign(allowed, deviation)
    else:
        low = model.value(check.at_least, "at_least") if check.at_least is not None else None
        high = model.value(check.at_most, "at_most") if check.at_most is not None else None
        if low is not None and high is not None and low > high:
            raise ToolFailure("invalid_arguments", f"at_least {low:g} is above at_most {high:g}")
        allowed = 0.0
        for key, bound, sign in (("at_least", low, -1.0), ("at_most", high, 1.0)):
            if bound is None:
                continue
            out[key] = _round(bound)
            bound_allowed = max(tol_abs, tol_rel * abs(bound))
            limit = bound + sign * bound_allowed  # the farthest value still accepted
            if not miss or (actual - limit) * sign > 0:
                allowed = bound_allowed
            if (actual - limit) * sign > 0:
                miss = actual - limit
    out["tolerance"] = _round(allowed)
    out["holds"] = miss == 0.0
    if miss:
        out["miss"] = _round(miss)  # beyond the tolerance; negative: too small
    return out


def _round(value: float, digits: int = 6) -> float:
    return round(value, digits) + 0.0


def _check_volume(check: VolumeCheck, model: _Model) -> dict[str, Any]:
    actual = sum(s.Volume() for s in model.solids(check.body))
    return _judge(check, model, actual, "volume", f"volume of {_where(check.body)}")


def _check_area(check: AreaCheck, model: _Model) -> dict[str, Any]:
    actual = sum(s.Area() for s in model.solids(check.body))
    return _judge(check, model, actual, "area", f"surface area of {_where(check.body)}")


def _check_count(check: CountCheck, model: _Model) -> dict[str, Any]:
    solids = model.solids(check.body)
    if check.of == "holes":
        actual = model.holes(check.body)
    elif check.of == "solids":
        actual = len(solids)
    else:
        method = {"shells": "Shells", "faces": "Faces", "edges": "Edges", "vertices": "Vertices"}
        actual = sum(len(getattr(s, method[check.of])()) for s in solids)
    out = _judge(check, model, actual, "count", f"number of {check.of} of {_where(check.body)}")
    for key in ("actual", "expected", "at_least", "at_most", "deviation", "miss"):
        if isinstance(out.get(key), float) and out[key].is_integer():
            out[key] = int(out[key])
    if check.of == "holes":
        out["definition"] = HOLE_DEFINITION
    return out


def _check_measure(check: MeasureCheck, model: _Model) -> dict[str, Any]:
    measured = _measure_figures(model.doc, check.a, check.b, with_holes=False)
    figures = measured["figures"]
    if check.figure not in figures:
        pair = "a and b" if check.b is not None else "a alone"
        raise ToolFailure(
            "invalid_arguments",
            f"figure {check.figure!r} does not exist for {pair} "
            f"({measured['a']['type']}{' and ' + measured['b']['type'] if check.b else ''}); "
            f"available: {', '.join(figures) or 'none'}",
        )
    figure = figures[check.figure]
    kind = _UNIT_KIND[figure["unit"]]
    out = _judge(check, model, figure["value"], kind, f"{check.figure}: {figure['meaning']}")  # type: ignore[arg-type]
    return out


def _check_shared_volume(check: SharedVolumeCheck, model: _Model) -> dict[str, Any]:
    if check.a == check.b:
        raise ToolFailure("invalid_arguments", f"a and b are the same body ({check.a})")
    actual = shared_volume(model.solids(check.a), model.solids(check.b))
    actual = actual if actual > 1e-6 else 0.0  # OCCT's slivers on faces that only touch
    what = f"volume shared by {check.a} and {check.b} (0: no interference)"
    if check.tol is None and check.rel_tol is None:
        check = check.model_copy(update={"tol": 1e-6})  # "0 shared" must mean 0, not 0.1%
    return _judge(check, model, actual, "volume", what)


def _check_bbox(check: BBoxCheck, model: _Model) -> dict[str, Any]:
    solids = model.solids(check.body)
    box = exact_bounding_box(cq.Compound.makeCompound(solids))
    actual = {
        "size": (box.xlen, box.ylen, box.zlen),
        "min": (box.xmin, box.ymin, box.zmin),
        "max": (box.xmax, box.ymax, box.zmax),
    }
    allowed = 0.01 if check.tol is None else check.tol
    out: dict[str, Any] = {"what": f"bounding box of {_where(check.body)}", "unit": "mm"}
    holds = True
    for key in ("size", "min", "max"):
        given = getattr(check, key)
        if given is None:
            continue
        wanted = [
            None if w is None else model.value(w, f"{key} {axis}")
            for w, axis in zip(given, "xyz", strict=True)
        ]
        out[key] = {
            "actual": [_round(v) for v in actual[key]],
            "expected": list(wanted),
            "deviation": [
                None if w is None else _round(a - w)
                for a, w in zip(actual[key], wanted, strict=True)
            ],
        }
        holds = holds and all(
            w is None or abs(a - w) <= allowed for a, w in zip(actual[key], wanted, strict=True)
        )
    out["tolerance"] = allowed
    out["holds"] = holds
    return out


def _check_valid(check: ValidCheck, model: _Model) -> dict[str, Any]:
    solids = model.solids(check.body)
    valid = bool(solids) and all(s.isValid() for s in solids)
    return {
        "what": f"every solid of {_where(check.body)} is valid (OCCT's shape check)",
        "actual": valid,
        "solids": len(solids),
        "holds": valid,
    }


_CHECKS: dict[str, Callable[[Any, _Model], dict[str, Any]]] = {
    "volume": _check_volume,
    "area": _check_area,
    "bbox": _check_bbox,
    "count": _check_count,
    "measure": _check_measure,
    "shared_volume": _check_shared_volume,
    "valid": _check_valid,
}


def verify(args: VerifyArgs, ctx: ToolContext) -> dict[str, Any]:
    model = _Model(document_of(ctx))
    results = []
    for number, check in enumerate(args.checks, start=1):
        head: dict[str, Any] = {"check": number, "kind": check.kind}
        if check.name:
            head["name"] = check.name
        try:
            results.append({**head, **_CHECKS[check.kind](check, model)})
        except ToolFailure as exc:  # a bad reference spoils one check, not the others
            results.append({**head, "holds": False, "error": str(exc)})
    errors = sum(1 for r in results if "error" in r)
    held = sum(1 for r in results if r["holds"])
    return {
        "all_hold": held == len(results),
        "held": held,
        "missed": len(results) - held - errors,
        "errors": errors,
        "failures": [_failure_line(r) for r in results if not r["holds"]],
        "checks": results,
    }


def _failure_line(result: dict[str, Any]) -> str:
    """One line per check that does not hold, so the misses stand out of the details."""
    label = f"check {result['check']} ({result.get('name') or result['kind']})"
    if "error" in result:
        return f"{label} could not be evaluated: {result['error']}"
    unit = f" {result['unit']}" if result.get("unit") else ""
    if result["kind"] == "bbox":
        parts = [
            f"{key} {json.dumps(result[key]['actual'])} vs {json.dumps(result[key]['expected'])}"
            for key in ("size", "min", "max")
            if key in result
        ]
        return f"{label} misses: {'; '.join(parts)} (tolerance {result['tolerance']}{unit})"
    if result["kind"] == "valid":
        return f"{label} misses: a solid is not valid"
    wanted = (
        f"expected {result['expected']}"
        if "expected" in result
        else " and ".join(
            f"{key.replace('_', ' ')} {result[key]}"
            for key in ("at_least", "at_most")
            if key in result
        )
    )
    return (
        f"{label} misses: {result['actual']}{unit}, {wanted} (tolerance {result['tolerance']}; "
        f"beyond it by {result['miss']})"
    )


INSPECTION_TOOLS: list[ToolSpec] = [
    editor_spec(
        "measure",
        "Measure one element (a: its volume/area, a face's area, an edge's length, a "
        "cylinder's or circular edge's diameter: a hole's diameter) or two (a and b: minimum "
        "distance, distance between parallel planes or axes, centre distance, angle). "
        "References: a body (body only), or one of face/edge (selector, 'extrude1.top', or a "
        "descriptor from find_faces/find_edges) or vertex. Each figure says what it means.",
        MeasureArgs,
        measure,
    ),
    editor_spec(
        "check_interference",
        "The volume two bodies share (0: they do not overlap), whether they touch, and the "
        "gap between them; without a and b, every pair of bodies.",
        InterferenceArgs,
        check_interference,
    ),
    editor_spec(
        "section",
        "Cut the model by a plane (a principal plane with offset, origin and normal, or a "
        "datum plane): "
        "the section's area, number of regions, bounding box, and a PNG of it seen along "
        "the normal.",
        SectionArgs,
        section_tool,
    ),
    editor_spec(
        "verify",
        "Check the part against what it must satisfy: volume, area, bounding box size or "
        "extents, counts (solids, shells, faces, edges, vertices, holes), any measure figure "
        "between references, shared volume of two bodies, validity. Each check gives "
        "expected (number or parameter expression) or at_least/at_most, and optionally tol "
        "(absolute) or rel_tol (fraction; defaults: 0.01 mm, 0.01 deg, 0.1% for areas and "
        "volumes, exact counts). Returns per check: holds, the actual value, the deviation "
        "and how far beyond the tolerance it misses.",
        VerifyArgs,
        verify,
    ),
]
