"""Measurements on CadQuery shapes: what the agent checks its work with.

Pure geometry on shapes already chosen (no document, no tools): sizes of one element
(area, length, diameter, volume), figures between two elements (minimum distance, distance
between parallel planes or axes, angles), holes, the volume two bodies share, and the section
of solids by a plane. Every figure carries its unit and a sentence saying what it is, because
"distance" between two faces means different things to different people.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import cadquery as cq
from OCP.BRepAdaptor import BRepAdaptor_Curve, BRepAdaptor_Surface
from OCP.BRepExtrema import BRepExtrema_DistShapeShape
from OCP.GeomAbs import GeomAbs_Circle, GeomAbs_Cone, GeomAbs_Cylinder, GeomAbs_Sphere

from .queries import exact_bounding_box

ElementKind = Literal["body", "face", "edge", "vertex"]
Unit = Literal["mm", "mm2", "mm3", "deg"]

# Two directions are parallel when the sine of their angle is below this (about 0.0001 deg).
PARALLEL_SINE = 2e-6
# Points closer than this (mm) coincide; also the "touching" threshold between bodies.
COINCIDENT = 1e-6
FULL_TURN = 2 * math.pi


class MeasureError(ValueError):
    """A measurement that cannot be made (the message says why)."""


def _r(value: float, digits: int = 6) -> float:
    return round(value, digits) + 0.0


def _point(v: cq.Vector) -> list[float]:
    return [_r(v.x), _r(v.y), _r(v.z)]


@dataclass(frozen=True)
class Figure:
    value: float
    unit: Unit
    meaning: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": _r(self.value), "unit": self.unit, "meaning": self.meaning}


@dataclass(frozen=True)
class Element:
    """Shapes one reference names: a body's solids, or faces, or one edge or vertex."""

    kind: ElementKind
    shapes: tuple[cq.Shape, ...]

    @property
    def shape(self) -> cq.Shape:
        if len(self.shapes) == 1:
            return self.shapes[0]
        return cq.Compound.makeCompound(list(self.shapes))

    @property
    def geom_type(self) -> str:
        if self.kind in ("body", "vertex"):
            return self.kind.upper()
        return str(self.shapes[0].geomType())


@dataclass(frozen=True)
class Line:
    point: cq.Vector
    direction: cq.Vector  # unit


@dataclass(frozen=True)
class Carriers:
    """The infinite plane, axis line and centre an element stands on (when it has them)."""

    plane: Line | None = None  # point on the plane, unit normal
    axis: Line | None = None  # a point of the axis (or of a straight edge), unit direction
    center: cq.Vector | None = None
    point: cq.Vector | None = None  # a vertex, or a sphere's centre: what stands for a point


def _dir(d: Any) -> cq.Vector:
    return cq.Vector(d.X(), d.Y(), d.Z()).normalized()


def _pnt(p: Any) -> cq.Vector:
    return cq.Vector(p.X(), p.Y(), p.Z())


def cylinder_axis(face: cq.Face) -> tuple[Line, float]:
    """Axis and radius of a cylindrical face."""
    cylinder = BRepAdaptor_Surface(face.wrapped).Cylinder()
    axis = cylinder.Axis()
    return Line(_pnt(axis.Location()), _dir(axis.Direction())), cylinder.Radius()


def circle_of(edge: cq.Edge) -> tuple[Line, float]:
    """Axis (through the centre) and radius of a circular edge."""
    circle = BRepAdaptor_Curve(edge.wrapped).Circle()
    axis = circle.Axis()
    return Line(_pnt(axis.Location()), _dir(axis.Direction())), circle.Radius()


def carriers(element: Element) -> Carriers:
    first = element.shapes[0]
    if element.kind == "vertex":
        point = cq.Vector(*first.toTuple())  # type: ignore[attr-defined]
        return Carriers(center=point, point=point)
    if element.kind == "body":
        return Carriers(center=cq.Shape.centerOfMass(element.shape))
    center = element.shape.Center()
    if element.kind == "face":
        surface = BRepAdaptor_Surface(first.wrapped)
        kind = surface.GetType()
        if first.geomType() == "PLANE":
            return Carriers(plane=Line(center, first.normalAt()), center=center)  # type: ignore[attr-defined]
        if kind == GeomAbs_Cylinder:
            axis, _ = cylinder_axis(first)  # type: ignore[arg-type]
            return Carriers(axis=axis, center=center)
        if kind == GeomAbs_Cone:
            ax = surface.Cone().Axis()
            return Carriers(axis=Line(_pnt(ax.Location()), _dir(ax.Direction())), center=center)
        if kind == GeomAbs_Sphere:
            centre = _pnt(surface.Sphere().Location())
            return Carriers(center=centre, point=centre)
        return Carriers(center=center)
    curve = BRepAdaptor_Curve(first.wrapped)
    if first.geomType() == "LINE":
        start, end = first.startPoint(), first.endPoint()  # type: ignore[attr-defined]
        return Carriers(axis=Line(start, (end - start).normalized()), center=center)
    if curve.GetType() == GeomAbs_Circle:
        axis, _ = circle_of(first)  # type: ignore[arg-type]
        return Carriers(plane=axis, axis=axis, center=axis.point)
    return Carriers(center=center)


# --- one element ---------------------------------------------------------------------------


def is_inner_cylinder(face: cq.Face) -> bool:
    """True when the material lies outside the cylinder (a bore), not inside (a boss)."""
    axis, _ = cylinder_axis(face)
    u0, u1, v0, v1 = face.uvBounds()
    normal, point = face.normalAt((u0 + u1) / 2, (v0 + v1) / 2)
    offset = point - axis.point
    radial = offset - axis.direction * offset.dot(axis.direction)
    return bool(normal.dot(radial) < 0)


def single_figures(element: Element) -> dict[str, Figure]:
    """Sizes of one element: a body's volume and area, a face's area (and diameter when it is
    a cylinder or sphere), an edge's length (and diameter when circular)."""
    out: dict[str, Figure] = {}
    if element.kind == "body":
        out["volume"] = Figure(
            sum(s.Volume() for s in element.shapes), "mm3", "volume of the body's solids"
        )
        out["area"] = Figure(
            sum(s.Area() for s in element.shapes), "mm2", "surface area of the body"
        )
    elif element.kind == "face":
        n = len(element.shapes)
        what = "the face" if n == 1 else f"the {n} coplanar faces together"
        out["area"] = Figure(sum(s.Area() for s in element.shapes), "mm2", f"area of {what}")
        first = element.shapes[0]
        if first.geomType() == "CYLINDER":
            _, radius = cylinder_axis(first)  # type: ignore[arg-type]
            hole = is_inner_cylinder(first)  # type: ignore[arg-type]
            kind = "a hole's (bore's) diameter" if hole else "an outer cylinder's diameter"
            out["radius"] = Figure(radius, "mm", "radius of the cylindrical face")
            out["diameter"] = Figure(2 * radius, "mm", f"diameter of the cylindrical face: {kind}")
        elif first.geomType() == "SPHERE":
            radius = BRepAdaptor_Surface(first.wrapped).Sphere().Radius()
            out["radius"] = Figure(radius, "mm", "radius of the spherical face")
            out["diameter"] = Figure(2 * radius, "mm", "diameter of the spherical face")
    elif element.kind == "edge":
        edge = element.shapes[0]
        out["length"] = Figure(edge.Length(), "mm", "length of the edge")  # type: ignore[attr-defined]
        if edge.geomType() == "CIRCLE":
            _, radius = circle_of(edge)  # type: ignore[arg-type]
            out["radius"] = Figure(radius, "mm", "radius of the circular edge")
            out["diameter"] = Figure(
                2 * radius, "mm", "diameter of the circular edge (e.g. a hole's rim)"
            )
    return out


def element_info(element: Element) -> dict[str, Any]:
    """What an element is, for the agent to see that a reference named what it meant."""
    info: dict[str, Any] = {"kind": element.kind, "type": element.geom_type}
    if len(element.shapes) > 1:
        info["count"] = len(element.shapes)
    carried = carriers(element)
    if carried.center is not None:
        label = "point" if element.kind == "vertex" else "center"
        info[label] = _point(carried.center)
    if carried.plane is not None and element.kind == "face":
        info["normal"] = _point(carried.plane.direction)
    if carried.axis is not None:
        key = "direction" if element.geom_type == "LINE" else "axis"
        info[key] = _point(carried.axis.direction)
        if key == "axis":
            info["axis_point"] = _point(carried.axis.point)
    if element.kind == "face" and element.geom_type == "CYLINDER":
        info["hole"] = is_inner_cylinder(element.shapes[0])  # type: ignore[arg-type]
    return info


# --- two elements --------------------------------------------------------------------------


def min_distance(a: cq.Shape, b: cq.Shape) -> tuple[float, cq.Vector, cq.Vector]:
    """Smallest distance between two shapes and the closest points (0 when they touch)."""
    dist = BRepExtrema_DistShapeShape(a.wrapped, b.wrapped)
    if not dist.IsDone() or dist.NbSolution() == 0:
        raise MeasureError("the CAD kernel could not compute the distance between them")
    return dist.Value(), _pnt(dist.PointOnShape1(1)), _pnt(dist.PointOnShape2(1))


def _sine(a: cq.Vector, b: cq.Vector) -> float:
    return a.cross(b).Length


def _point_to_line(p: cq.Vector, line: Line) -> float:
    offset = p - line.point
    return (offset - line.direction * offset.dot(line.direction)).Length


def _angle(cos: float) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def between_figures(a: Element, b: Element) -> dict[str, Figure]:
    """Figures relating two elements; each says what it measures."""
    out: dict[str, Figure] = {}
    value, _, _ = min_distance(a.shape, b.shape)
    out["min_distance"] = Figure(
        value,
        "mm",
        "smallest distance between any point of A and any point of B (0 when they touch "
        "or overlap)",
    )
    ca, cb = carriers(a), carriers(b)
    if ca.center is not None and cb.center is not None:
        out["center_distance"] = Figure(
            (ca.center - cb.center).Length,
            "mm",
            "distance between the centres (a vertex itself, a circle's centre, a sphere's "
            "centre, else the centre of mass)",
        )
    plane = _plane_distance(ca, cb) or _plane_distance(cb, ca)
    if plane is not None:
        out["plane_distance"] = plane
    axis = _axis_distance(ca, cb) or _axis_distance(cb, ca)
    if axis is not None:
        out["axis_distance"] = axis
    out.update(_angles(a, b, ca, cb))
    return out


def _plane_distance(p: Carriers, other: Carriers) -> Figure | None:
    """Distance from the plane of `p` to a parallel plane, a parallel axis, or a point."""
    if p.plane is None:
        return None
    normal = p.plane.direction
    if other.plane is not None and _sine(normal, other.plane.direction) < PARALLEL_SINE:
        gap = abs((other.plane.point - p.plane.point).dot(normal))
        return Figure(
            gap,
            "mm",
            "distance between the two parallel planes, along their normal (e.g. a wall's "
            "thickness), whether or not the faces overlap",
        )
    if other.plane is not None:
        return None
    if other.axis is not None and abs(other.axis.direction.dot(normal)) < PARALLEL_SINE:
        gap = abs((other.axis.point - p.plane.point).dot(normal))
        return Figure(
            gap,
            "mm",
            "distance from the axis (or straight edge) to the plane it is parallel to, "
            "e.g. a hole's centre to a side face",
        )
    if other.point is not None:
        gap = abs((other.point - p.plane.point).dot(normal))
        return Figure(
            gap,
            "mm",
            "distance from the point (a vertex or a sphere's centre) to the infinite plane of "
            "the planar face or circle",
        )
    return None


def _axis_distance(p: Carriers, other: Carriers) -> Figure | None:
    """Distance between parallel axes (e.g. two holes' centres), or from a point to an axis."""
    if p.axis is None:
        return None
    line = p.axis
    if other.axis is not None:
        if _sine(line.direction, other.axis.direction) >= PARALLEL_SINE:
            return None
        return Figure(
            _point_to_line(other.axis.point, line),
            "mm",
            "distance between the two parallel axes (or straight edges), e.g. centre to "
            "centre of two holes",
        )
    if other.point is not None:
        return Figure(
            _point_to_line(other.point, line),
            "mm",
            "distance from the point (a vertex or a sphere's centre) to the axis (or the "
            "straight edge's line)",
        )
    return None


def _angles(a: Element, b: Element, ca: Carriers, cb: Carriers) -> dict[str, Figure]:
    """Angles between lines and planes, 0..90 deg; and between two faces' outward normals."""

    def direction(e: Element, c: Carriers) -> tuple[str, cq.Vector] | None:
        if c.axis is not None:
            return "line", c.axis.direction
        if c.plane is not None:
            return "plane", c.plane.direction
        return None

    da, db = direction(a, ca), direction(b, cb)
    if da is None or db is None:
        return {}
    cos = abs(da[1].dot(db[1]))
    kinds = {da[0], db[0]}
    out: dict[str, Figure] = {}
    if kinds == {"plane"}:
        out["angle"] = Figure(
            _angle(cos), "deg", "angle between the two planes, 0..90 (0: parallel)"
        )
        if a.kind == "face" and b.kind == "face":
            out["normal_angle"] = Figure(
                _angle(da[1].dot(db[1])),
                "deg",
                "angle between the faces' outward normals, 0..180 (180: facing away from "
                "each other, like the two sides of a plate; 90: square to each other)",
            )
    elif kinds == {"line"}:
        out["angle"] = Figure(
            _angle(cos),
            "deg",
            "angle between the two lines/axes, 0..90 (0: parallel)",
        )
    else:
        out["angle"] = Figure(
            90.0 - _angle(cos),
            "deg",
            "angle between the line/axis and the plane, 0..90 (0: parallel to the plane, "
            "90: perpendicular)",
        )
    return out


# --- holes ---------------------------------------------------------------------------------


@dataclass
class Hole:
    """Inner cylindrical faces around one axis: a hole, counterbore and all."""

    axis: Line
    faces: list[cq.Face] = field(default_factory=list)
    radii: set[float] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """Its middle on the axis, direction, diameters and length along the axis (sampled on
        the faces' edges, so a hole ending on a curved face is measured to its far points)."""
        heights = [
            (p - self.axis.point).dot(self.axis.direction)
            for face in self.faces
            for edge in face.Edges()
            for p in edge.positions([i / 16 for i in range(17)])
        ]
        low, high = min(heights), max(heights)
        return {
            "center": _point(self.axis.point + self.axis.direction * ((low + high) / 2)),
            "axis": _point(self.axis.direction),
            "diameters": sorted(_r(2 * r, 4) for r in self.radii),
            "length": _r(high - low, 4),
        }


HOLE_DEFINITION = (
    "a hole is a set of inner (concave: material outside) cylindrical faces around one "
    "common axis that go all the way round it; a counterbore and its hole, or one bore "
    "through two walls, count once; a concave fillet (part of a cylinder) is not a hole, "
    "nor is an outer cylinder (a boss or a shaft)"
)


def _group_of(groups: list[Hole], axis: Line) -> int | None:
    """The group whose axis is the same line as `axis`, if any."""
    for index, group in enumerate(groups):
        parallel = _sine(group.axis.direction, axis.direction) < PARALLEL_SINE
        if parallel and _point_to_line(axis.point, group.axis) < 1e-4:
            return index
    return None


def holes(solids: Sequence[cq.Shape]) -> list[Hole]:
    """The holes of solids, as HOLE_DEFINITION says."""
    groups: list[Hole] = []
    turns: list[dict[float, float]] = []  # per group: radius -> angle covered (radians)
    for solid in solids:
        for face in solid.Faces():
            if face.geomType() != "CYLINDER" or not is_inner_cylinder(face):
                continue
            axis, radius = cylinder_axis(face)
            u0, u1, _, _ = face.uvBounds()
            index = _group_of(groups, axis)
            if index is None:
                groups.append(Hole(axis))
                turns.append({})
                index = len(groups) - 1
            group = groups[index]
            group.faces.append(face)
            key = round(radius, 6)
            group.radii.add(key)
            turns[index][key] = turns[index].get(key, 0.0) + (u1 - u0)
    return [
        g
        for g, covered in zip(groups, turns, strict=True)
        if max(covered.values()) >= FULL_TURN - 1e-6
    ]


# --- bodies together ----------------------------------------------------------------------


def compound(solids: Sequence[cq.Shape]) -> cq.Shape:
    return solids[0] if len(solids) == 1 else cq.Compound.makeCompound(list(solids))


def shared_volume(a: Sequence[cq.Shape], b: Sequence[cq.Shape]) -> float:
    """The volume inside both (0 when they are apart or only touch)."""
    common = compound(a).intersect(compound(b))
    return float(sum(s.Volume() for s in common.Solids()))


def interference(a: Sequence[cq.Shape], b: Sequence[cq.Shape]) -> dict[str, Any]:
    volume = shared_volume(a, b)
    distance, pa, pb = min_distance(compound(a), compound(b))
    smaller = min(sum(s.Volume() for s in a), sum(s.Volume() for s in b))
    # OCCT's booleans leave slivers of about its tolerance cubed on faces that only touch
    interferes = volume > max(1e-6, 1e-9 * smaller)
    return {
        "shared_volume": _r(volume if interferes else 0.0),
        "interferes": interferes,
        "touching": not interferes and distance <= COINCIDENT,
        "min_distance": _r(distance),
        "closest_points": [_point(pa), _point(pb)],
        "meaning": (
            "shared_volume: the volume inside both bodies (0: they do not overlap). "
            "touching: they do not overlap but meet (minimum distance 0). min_distance: "
            "the gap between them (0 when touching or overlapping)."
        ),
    }


# --- sections -----------------------------------------------------------------------------


@dataclass
class Section:
    plane: cq.Plane
    faces: list[cq.Face]

    @property
    def area(self) -> float:
        return float(sum(f.Area() for f in self.faces))

    def local(self, shape: cq.Shape) -> cq.Shape:
        """The shape in plane coordinates (x, y in the plane, z along the normal)."""
        return shape.transformShape(self.plane.fG)

    def as_dict(self) -> dict[str, Any]:
        plane = self.plane
        out: dict[str, Any] = {
            "plane": {
                "origin": _point(plane.origin),
                "normal": _point(plane.zDir),
                "x_dir": _point(plane.xDir),
                "y_dir": _point(plane.yDir),
            },
            "area": _r(self.area, 4),
            "regions": len(self.faces),
        }
        if not self.faces:
            out["note"] = "the plane does not cut the model: the section is empty"
            return out
        box = exact_bounding_box(compound(self.faces))
        out["bbox"] = {
            "min": _point(cq.Vector(box.xmin, box.ymin, box.zmin)),
            "max": _point(cq.Vector(box.xmax, box.ymax, box.zmax)),
            "size": _point(cq.Vector(box.xlen, box.ylen, box.zlen)),
        }
        flat = exact_bounding_box(self.local(compound(self.faces)))
        out["in_plane"] = {
            "min": [_r(flat.xmin), _r(flat.ymin)],
            "max": [_r(flat.xmax), _r(flat.ymax)],
            "size": [_r(flat.xlen), _r(flat.ylen)],
        }
        out["region_list"] = [
            {
                "area": _r(f.Area(), 4),
                "holes": len(f.innerWires()),
                "center": _point(f.Center()),
            }
            for f in self.faces[:50]
        ]
        return out


def section(solids: Sequence[cq.Shape], plane: cq.Plane) -> Section:
    """The faces where `plane` cuts the solids (overlapping bodies counted once)."""
    if not solids:
        return Section(plane, [])
    whole = compound(solids)
    box = exact_bounding_box(whole)
    normal = plane.zDir
    # a square on the plane, centred on the model's projection, larger than the model
    centre = box.center - normal * (box.center - plane.origin).dot(normal)
    size = 2 * box.DiagonalLength + 1
    cutter = cq.Face.makePlane(size, size, centre, normal)
    found = [f for f in whole.intersect(cutter).Faces() if f.Area() > 1e-9]
    if len(solids) > 1 and len(found) > 1:
        merged = found[0].fuse(*found[1:]).clean()
        found = [f for f in merged.Faces() if f.Area() > 1e-9]
    return Section(plane, found)


def vertex_at(solid: cq.Shape, point: Sequence[float], tol: float) -> cq.Vertex:
    """The vertex of `solid` within `tol` of `point`; MeasureError naming the nearest ones."""
    target = cq.Vector(*point)
    ranked = sorted(solid.Vertices(), key=lambda v: (cq.Vector(*v.toTuple()) - target).Length)
    if ranked and (cq.Vector(*ranked[0].toTuple()) - target).Length <= tol:
        return ranked[0]
    nearest = ", ".join(str(_point(cq.Vector(*v.toTuple()))) for v in ranked[:6])
    raise MeasureError(
        f"no vertex within {tol:g} mm of {list(point)}; the nearest vertices: {nearest or 'none'}"
    )
