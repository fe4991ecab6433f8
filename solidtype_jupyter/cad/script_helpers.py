"""Selection and pattern helpers shared by the rebuild and by exported scripts.

This module's source is copied verbatim into every script `CadDocument.to_script()` writes,
so it may import nothing but the standard library and CadQuery: the exported script must
run on a machine that has CadQuery and nothing of ours. The rebuild executes the same
functions, so the script and the document cannot disagree on what a selector means.
"""

import math
import threading
from typing import Any

import cadquery as cq

# CadQuery parses string selectors with one module-level pyparsing grammar, which is not
# thread-safe: four threads selecting '>Z' at once raised over a thousand parse errors in
# 1,200 selections. Tools run in worker threads, and several agents or MCP sessions may share
# one process, so every string selector is parsed under this lock (parsing is microseconds).
_SELECTOR_LOCK = threading.Lock()


def parse_selector(text: str) -> Any:
    """A CadQuery string selector ('>Z', '|Z and >X') parsed once, safely from any thread."""
    with _SELECTOR_LOCK:
        return cq.selectors.StringSyntaxSelector(text)  # type: ignore[no-untyped-call]


class SelectionError(ValueError):
    """A face or edge reference matched nothing, or several things where one was needed."""


def _round3(values: Any) -> tuple[float, ...]:
    return tuple(round(v, 3) + 0.0 for v in values)


def describe(shape: Any) -> dict[str, Any]:
    """A face or edge as plain data: what a model can read and hand back as a reference."""
    kind = "face" if isinstance(shape, cq.Face) else "edge"
    info = {"kind": kind, "type": shape.geomType(), "center": _round3(shape.Center().toTuple())}
    if kind == "face":
        info["area"] = round(shape.Area(), 4)
        if info["type"] == "PLANE":
            info["normal"] = _round3(shape.normalAt().toTuple())
        elif info["type"] == "CYLINDER":
            # through an adaptor: a swept face is a cylinder wrapped in a trimmed surface
            adaptor = cq.occ_impl.shapes.BRepAdaptor_Surface(shape.wrapped)  # type: ignore[attr-defined]
            cylinder = adaptor.Cylinder()
            direction = cylinder.Axis().Direction()
            info["axis"] = _round3((direction.X(), direction.Y(), direction.Z()))
            info["radius"] = round(cylinder.Radius(), 4)
    else:
        info["length"] = round(shape.Length(), 4)
        if info["type"] == "LINE":
            info["direction"] = _round3(
                (shape.endPoint() - shape.startPoint()).normalized().toTuple()
            )
        elif info["type"] == "CIRCLE":
            info["radius"] = round(shape.radius(), 4)
            info["axis"] = _round3(shape.normal().toTuple())
            info["center"] = _round3(shape.arcCenter().toTuple())
    return info


def _parallel(a: Any, b: Any, tol: float, signed: bool) -> bool:
    va, vb = cq.Vector(*a).normalized(), cq.Vector(*b).normalized()
    dot = va.dot(vb)
    return dot > 1 - tol if signed else abs(dot) > 1 - tol


def _matches(shape: Any, ref: dict[str, Any]) -> bool:
    info = describe(shape)
    tol = ref.get("tol", 0.01)
    if "type" in ref and info["type"] != ref["type"].upper():
        return False
    if "center" in ref and (cq.Vector(*info["center"]) - cq.Vector(*ref["center"])).Length > tol:
        return False
    if "radius" in ref and abs(info.get("radius", -1e9) - ref["radius"]) > tol:
        return False
    if "normal" in ref and not (
        "normal" in info and _parallel(info["normal"], ref["normal"], 1e-6, True)
    ):
        return False
    if "axis" in ref and not ("axis" in info and _parallel(info["axis"], ref["axis"], 1e-6, False)):
        return False
    if "direction" in ref and not (
        "direction" in info and _parallel(info["direction"], ref["direction"], 1e-6, False)
    ):
        return False
    if "on_plane" in ref:
        origin, normal = (cq.Vector(*v) for v in ref["on_plane"])
        if info["type"] != "PLANE" or not _parallel(info["normal"], normal.toTuple(), 1e-6, True):
            return False
        if abs((shape.Center() - origin).dot(normal.normalized())) > tol:
            return False
    return True


def _coplanar(faces: list[Any]) -> bool:
    first = faces[0]
    if any(f.geomType() != "PLANE" for f in faces):
        return False
    plane = {"on_plane": [first.Center().toTuple(), first.normalAt().toTuple()]}
    return all(_matches(f, plane) for f in faces)


def _label(ref: Any) -> str:
    if isinstance(ref, str):
        return repr(ref)
    return ref.get("label") or repr({k: v for k, v in ref.items() if k != "label"})


def _candidates(shapes: list[Any], limit: int = 12) -> str:
    lines = [f"  {describe(s)}" for s in shapes[:limit]]
    if len(shapes) > limit:
        lines.append(f"  ... and {len(shapes) - limit} more")
    return "\n".join(lines)


def select(
    body: cq.Workplane, kind: str, ref: Any, one: Any = False, expect: Any = None
) -> list[Any]:
    """Faces or edges of `body` a reference names; raise SelectionError when it is not so.

    `ref` is a CadQuery string selector (">Z", "|Z", "%CIRCLE", "not(%CIRCLE)") or a
    geometric descriptor dict (type, center, normal, axis, direction, radius, on_plane, tol).
    A descriptor must match exactly one element unless it sets "all": True. `one` asks for
    exactly one element (several coplanar faces count as one plane when `one == "plane"`).
    """
    solid = body.findSolid()
    everything = solid.Faces() if kind == "faces" else solid.Edges()
    if isinstance(ref, str):
        try:
            found = list(getattr(body.newObject([solid]), kind)(parse_selector(ref)).vals())
        except Exception as exc:
            raise SelectionError(
                f"bad {kind[:-1]} selector {ref!r}: not a CadQuery selector "
                "(examples: '>Z', '<X', '|Z', '#Z', '%CIRCLE', '%PLANE', 'not(%CIRCLE)', "
                "'>Z[-2]', '|Z and >X')"
            ) from exc
    elif kind == "edges" and "on_plane" in ref:
        # the edges bounding the face(s) on a plane, e.g. "extrude1.top"
        found = []
        for face in solid.Faces():
            if _matches(face, ref):
                found += [e for e in face.Edges() if not any(e.isSame(f) for f in found)]
    else:
        found = [s for s in everything if _matches(s, ref)]
    name = kind[:-1]
    if not found:
        raise SelectionError(
            f"{name} reference {_label(ref)} matched no {name} of the body. "
            f"Candidates:\n{_candidates(everything)}"
        )
    several = len(found) > 1
    if several and one == "plane":
        several = not _coplanar(found)
    elif several:
        several = bool(one) or (isinstance(ref, dict) and not ref.get("all"))
    if several:
        raise SelectionError(
            f"{name} reference {_label(ref)} is ambiguous: it matched {len(found)} {kind}, "
            f"expected exactly one. Candidates:\n{_candidates(found)}"
        )
    if expect is not None and len(found) != expect:
        raise SelectionError(
            f"{name} reference {_label(ref)} matched {len(found)} {kind}, expected {expect}. "
            f"Candidates:\n{_candidates(found)}"
        )
    return found


def select_all(body: cq.Workplane, kind: str, refs: list[Any]) -> cq.Workplane:
    """The union of several references, each resolved fail-closed, without duplicates."""
    found: list[Any] = []
    for ref in refs:
        for shape in select(body, kind, ref):
            if not any(shape.isSame(other) for other in found):
                found.append(shape)
    return body.newObject(found)


def on_face(body: cq.Workplane, ref: Any) -> cq.Workplane:
    """A workplane on one planar face (or several coplanar ones), centred on its bounding box.

    The bounding-box centre (not the centre of mass) is the origin so that holes cut into the
    face later do not move the coordinates of features placed on it.
    """
    faces = select(body, "faces", ref, one="plane")
    if faces[0].geomType() != "PLANE":
        raise SelectionError(
            f"face reference {_label(ref)} is a {faces[0].geomType()} face; "
            "sketches and holes need a planar face"
        )
    return body.newObject(faces).workplane(centerOption="CenterOfBoundBox")


def profile(sketch: cq.Workplane) -> cq.Workplane:
    """The closed wires drawn on a workplane as faces (outer boundaries with their holes).

    Faces on the stack, unlike pending wires, are not used up by extrude or revolve, so a
    sketch can serve several features and be rebuilt from a cache.
    """
    wires = sketch.ctx.popPendingWires()
    return sketch.newObject(cq.occ_impl.shapes.wiresToFaces(wires))


def through_depth(*objects: Any) -> float:
    """A length that passes through everything given: twice the combined diagonal."""
    shapes: list[Any] = []
    for o in objects:
        if isinstance(o, cq.Workplane):
            # a sketch on a principal plane holds its profile faces and has no solid to find
            shapes += [v for v in o.vals() if isinstance(v, cq.Shape)] or [o.findSolid()]
        else:
            shapes.append(o)
    box = cq.Compound.makeCompound(shapes).BoundingBox()
    return 2 * box.DiagonalLength + 1


def symmetric_prism(sketch: cq.Workplane, length: float) -> cq.Workplane:
    """The prism of a sketch's profiles, `length` long and centred on the sketch plane.

    Made in one piece: two halves glued at the sketch plane (CadQuery's `both=True`) leave a
    seam that can split a cylinder's wall into pieces the cleaning cannot merge.
    """
    z = sketch.plane.zDir
    profiles = [v for v in sketch.vals() if isinstance(v, cq.Face)]
    prisms = [cq.Solid.extrudeLinear(f.translate(z * (-length / 2)), z * length) for f in profiles]
    return sketch.newObject([cq.Compound.makeCompound(prisms)])


def hole_tool(
    plane_wp: cq.Workplane,
    points: list[Any],
    diameter: float,
    depth: float,
    cbore_diameter: Any = None,
    cbore_depth: Any = None,
    csk_diameter: Any = None,
    csk_angle: Any = None,
) -> cq.Workplane:
    """The solid a (counterbored or countersunk) hole removes, drilled against the normal.

    A countersink is a cone of included angle `csk_angle` from `csk_diameter` on the face
    down to the hole's diameter.
    """
    plane = plane_wp.plane
    # the face(s) `on_face` picked: every hole must start on them, not in the air
    faces = [
        f for f in (plane_wp.parent.objects if plane_wp.parent else []) if isinstance(f, cq.Face)
    ]
    tool: Any = None
    for x, y in points:
        base = plane.toWorldCoords((x, y, 0))
        if faces and min(f.distance(cq.Vertex.makeVertex(*base.toTuple())) for f in faces) > 1e-6:
            raise SelectionError(
                f"hole position ({x:g}, {y:g}) is not on the face (face coordinates, origin at "
                "the centre of the face's bounding box)"
            )
        down = -plane.zDir
        bore: Any = cq.Solid.makeCylinder(diameter / 2, depth, base, down)
        if cbore_diameter:
            bore = bore.fuse(cq.Solid.makeCylinder(cbore_diameter / 2, cbore_depth, base, down))
        if csk_diameter:
            sink = (csk_diameter - diameter) / 2 / math.tan(math.radians(csk_angle) / 2)
            tip = base + down * sink
            if sink >= depth or (faces and not plane_wp.findSolid().isInside(tip)):
                raise SelectionError(
                    f"the countersink at ({x:g}, {y:g}) is {sink:g} mm deep: deeper than the "
                    "material under it; use a smaller csk_diameter or a wider csk_angle"
                )
            cone = cq.Solid.makeCone(csk_diameter / 2, diameter / 2, sink, base, down)
            bore = bore.fuse(cone)
        tool = bore if tool is None else tool.fuse(bore)
    return cq.Workplane(plane).newObject([tool.clean()])


def linear_pattern(tool: cq.Workplane, direction: Any, spacing: float, count: int) -> cq.Workplane:
    """Copies 2..count of a tool solid, each `spacing` further along `direction`."""
    step = cq.Vector(*direction).normalized() * spacing
    solid = tool.findSolid()
    copies = [solid.translate(step * i) for i in range(1, count)]
    return cq.Workplane("XY").newObject([cq.Compound.makeCompound(copies)])


def circular_pattern(
    tool: cq.Workplane, axis_origin: Any, axis_direction: Any, count: int, angle: float = 360.0
) -> cq.Workplane:
    """Copies 2..count of a tool solid rotated about an axis, spread evenly over `angle`."""
    solid = tool.findSolid()
    full = math.isclose(angle, 360.0)
    step = angle / count if full else angle / (count - 1)
    start = cq.Vector(*axis_origin)
    end = start + cq.Vector(*axis_direction)
    copies = [solid.rotate(start, end, step * i) for i in range(1, count)]
    return cq.Workplane("XY").newObject([cq.Compound.makeCompound(copies)])


def grid_pattern(
    tool: cq.Workplane,
    direction: Any,
    spacing: float,
    count: int,
    direction2: Any,
    spacing2: float,
    count2: int,
) -> cq.Workplane:
    """Copies of a tool solid on a count x count2 grid, the original (0, 0) left out."""
    step = cq.Vector(*direction).normalized() * spacing
    step2 = cq.Vector(*direction2).normalized() * spacing2
    solid = tool.findSolid()
    copies = [
        solid.translate(step * i + step2 * j) for j in range(count2) for i in range(count) if i or j
    ]
    return cq.Workplane("XY").newObject([cq.Compound.makeCompound(copies)])


def with_copies(*tools: cq.Workplane) -> cq.Workplane:
    """Tools and their copies as one compound: all that a pattern or mirror added or removed."""
    shapes = [tool.findSolid() for tool in tools]
    return cq.Workplane("XY").newObject([cq.Compound.makeCompound(shapes)])


# --- planes: datum planes, mirror, split -------------------------------------------------


def _turned(vector: Any, axis: Any, degrees: float) -> Any:
    """`vector` turned by `degrees` about the unit vector `axis` (right-hand rule)."""
    a = math.radians(degrees)
    return (
        vector * math.cos(a)
        + axis.cross(vector) * math.sin(a)
        + axis * (axis.dot(vector) * (1 - math.cos(a)))
    )


def point_normal_plane(point: Any, normal: Any) -> cq.Plane:
    """The plane through `point` with `normal`; its x axis is world X projected onto it
    (world Y when the normal is along X)."""
    n = cq.Vector(*normal)
    if n.Length < 1e-9:
        raise SelectionError("a plane's normal must not be the zero vector")
    n = n.normalized()
    for world in (cq.Vector(1, 0, 0), cq.Vector(0, 1, 0)):
        x = world - n * world.dot(n)
        if x.Length > 1e-6:
            return cq.Plane(cq.Vector(*point), x.normalized(), n)
    raise AssertionError("unreachable: X and Y cannot both be parallel to one normal")


def face_plane(body: cq.Workplane, ref: Any) -> cq.Plane:
    """The plane of a planar face (origin at the centre of its bounding box, normal outward)."""
    return on_face(body, ref).plane


def edge_axis(body: cq.Workplane, ref: Any) -> tuple[Any, Any]:
    """A straight edge as an axis: (a point on it, its unit direction).

    The direction is the one whose largest component is positive, whatever the edge's
    orientation in the solid: an edge along X turns a plane as the world axis X does.
    """
    edge = select(body, "edges", ref, one=True)[0]
    if edge.geomType() != "LINE":
        raise SelectionError(
            f"edge reference {_label(ref)} is a {edge.geomType()} edge; an axis needs a "
            "straight edge"
        )
    start, end = edge.startPoint(), edge.endPoint()
    direction = (end - start).normalized()
    if max(direction.toTuple(), key=abs) < 0:
        direction = -direction
    return start, direction


def datum_plane(base: cq.Plane, offset: float = 0.0, angle: float = 0.0, axis: Any = None) -> Any:
    """`base` turned by `angle` degrees about `axis`, then moved `offset` along its normal.

    `axis` is a line lying in `base`: a point and a direction, or a direction alone for the
    line through the base's origin. Turning follows the right-hand rule about the direction.
    """
    origin, x_dir, normal = base.origin, base.xDir, base.zDir
    if angle:
        point, direction = axis if len(axis) == 2 else (origin, axis)
        point, direction = cq.Vector(*point), cq.Vector(*direction)
        if direction.Length < 1e-9:
            raise SelectionError("the axis direction must not be the zero vector")
        direction = direction.normalized()
        if abs(direction.dot(normal)) > 1e-6 or abs((point - origin).dot(normal)) > 1e-6:
            raise SelectionError(
                "the axis must lie in the base plane (a plane is turned about a line in it); "
                f"the base plane has origin {_round3(origin.toTuple())} and normal "
                f"{_round3(normal.toTuple())}"
            )
        origin = point + _turned(origin - point, direction, angle)
        x_dir = _turned(x_dir, direction, angle)
        normal = _turned(normal, direction, angle)
    return cq.Plane(origin + normal * offset, x_dir, normal)


def _half_space(plane: cq.Plane, around: Any) -> Any:
    """A box on the positive side of `plane` that holds all of `around` on that side."""
    centre = around.BoundingBox().center
    # deep enough to reach past `around` even when the plane lies far from it
    size = through_depth(around) + 2 * abs((centre - plane.origin).dot(plane.zDir))
    foot = centre - plane.zDir * (centre - plane.origin).dot(plane.zDir)
    local = cq.Plane(foot, plane.xDir, plane.zDir)
    return cq.Solid.extrudeLinear(
        cq.Face.makeFromWires(
            cq.Wire.makePolygon(
                [
                    local.toWorldCoords((x * size, y * size, 0))
                    for x, y in ((-1, -1), (1, -1), (1, 1), (-1, 1))
                ],
                close=True,
            )
        ),
        plane.zDir * size,
    )


def _body_of(shape: Any) -> cq.Workplane:
    return cq.Workplane("XY").newObject([shape.clean()])


def split_body(body: cq.Workplane, plane: cq.Plane) -> tuple[cq.Workplane, cq.Workplane]:
    """The parts of a body on the positive (normal) and on the negative side of a plane."""
    solid = body.findSolid()
    half = _half_space(plane, solid)
    above, below = solid.intersect(half), solid.cut(half)
    for side, part in (("negative", above), ("positive", below)):
        if not part.Solids() or sum(s.Volume() for s in part.Solids()) < 1e-9:
            raise SelectionError(
                f"the plane does not cut the body: all of it lies on the {side} side of the "
                f"plane through {_round3(plane.origin.toTuple())} with normal "
                f"{_round3(plane.zDir.toTuple())}"
            )
    return _body_of(above), _body_of(below)


def mirrored(plane: cq.Plane, *items: cq.Workplane) -> cq.Workplane:
    """The mirror image of bodies or tools across a plane, as one shape."""
    images = [item.findSolid().mirror(plane.zDir, plane.origin) for item in items]
    return cq.Workplane("XY").newObject(
        [images[0] if len(images) == 1 else cq.Compound.makeCompound(images)]
    )


def fused(body: cq.Workplane, other: cq.Workplane) -> cq.Workplane:
    """`body` joined with `other`, faces on one surface merged when OCCT can do so validly.

    Merging (`clean`) two mirrored halves of a cylinder can leave an invalid solid (it did
    for a pear cam); the union is then kept with its faces unmerged.
    """
    joined = body.union(other)
    if all(solid.isValid() for solid in joined.findSolid().Solids()):
        return joined
    return body.union(other, clean=False)


def up_to_face(sketch: cq.Workplane, body: cq.Workplane, ref: Any) -> cq.Workplane:
    """The prism of a sketch's profiles from the sketch up to the plane of a planar face.

    It goes along the sketch normal or against it, whichever way reaches that plane; the
    face is extended, so the prism may end beyond the face's edges.
    """
    face = select(body, "faces", ref, one="plane")[0]
    if face.geomType() != "PLANE":
        raise SelectionError(
            f"face reference {_label(ref)} is a {face.geomType()} face; up_to_face needs a "
            "planar face"
        )
    target = cq.Plane(face.Center(), None, face.normalAt())
    profiles = [v for v in sketch.vals() if isinstance(v, cq.Face)]
    start = cq.Compound.makeCompound(profiles).Center()
    z = sketch.plane.zDir
    along = z.dot(target.zDir)
    if abs(along) < 1e-9:
        raise SelectionError(
            f"face {_label(ref)} is parallel to the sketch normal: extruding never reaches it"
        )
    distance = (target.origin - start).dot(target.zDir) / along
    if abs(distance) < 1e-9:
        raise SelectionError(f"face {_label(ref)} lies in the sketch plane: nothing to extrude")
    length = through_depth(body, sketch) * (1 if distance > 0 else -1)
    prism = cq.Compound.makeCompound([cq.Solid.extrudeLinear(f, z * length) for f in profiles])
    if (start - target.origin).dot(target.zDir) < 0:
        return _body_of(prism.cut(_half_space(target, prism)))
    return _body_of(prism.intersect(_half_space(target, prism)))


def path_wire(start: Any, segments: list[Any]) -> cq.Wire:
    """A 3D path from `start`, each segment beginning where the previous one ends:
    ("line", end), ("arc", mid, end) (a three-point arc), ("spline", [through..., end])."""
    edges = []
    here = cq.Vector(*start)
    for segment in segments:
        if segment[0] == "line":
            end = cq.Vector(*segment[1])
            edges.append(cq.Edge.makeLine(here, end))
        elif segment[0] == "arc":
            end = cq.Vector(*segment[2])
            edges.append(cq.Edge.makeThreePointArc(here, cq.Vector(*segment[1]), end))
        else:
            points = [here, *(cq.Vector(*p) for p in segment[1])]
            end = points[-1]
            edges.append(cq.Edge.makeSpline(points))
        here = end
    return cq.Wire.assembleEdges(edges)


def helix_path(
    pitch: float,
    height: float,
    radius: float,
    origin: Any,
    axis: Any,
    start_direction: Any,
    lefthand: bool = False,
) -> cq.Wire:
    """A helix about `axis` through `origin`, starting `radius` away towards
    `start_direction` and rising `height` along the axis, `pitch` per turn."""
    plane = cq.Plane(cq.Vector(*origin), cq.Vector(*start_direction), cq.Vector(*axis))
    helix = cq.Wire.makeHelix(pitch, height, radius, lefthand=lefthand)
    return cq.Wire(helix.transformShape(plane.rG).wrapped)


def normal_to_path(sketch: cq.Workplane, path: Any) -> cq.Workplane:
    """A sketch's profiles moved onto the start of `path`, facing along it: the sketch's
    origin goes to the path's start and its normal turns (the shortest way) onto the path's
    start tangent."""
    plane = sketch.plane
    start, tangent = path.startPoint(), path.tangentAt(0).normalized()
    axis = plane.zDir.cross(tangent)
    angle = math.degrees(math.atan2(axis.Length, plane.zDir.dot(tangent)))
    if axis.Length < 1e-12:  # already along the tangent, or facing back: turn about x
        axis = plane.xDir
    moved: list[Any] = []
    for face in sketch.vals():
        if not isinstance(face, cq.Face):
            continue
        turned = face.rotate(plane.origin, plane.origin + axis, angle) if angle > 1e-9 else face
        moved.append(turned.translate(start - plane.origin))
    return sketch.newObject(moved)
