"""Selection and pattern helpers shared by the rebuild and by exported scripts.

This module's source is copied verbatim into every script `CadDocument.to_script()` writes,
so it may import nothing but the standard library and CadQuery: the exported script must
run on a machine that has CadQuery and nothing of ours. The rebuild executes the same
functions, so the script and the document cannot disagree on what a selector means.
"""

import math
from typing import Any

import cadquery as cq


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
            cylinder = shape._geomAdaptor().Cylinder()
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
            found = list(getattr(body.newObject([solid]), kind)(ref).vals())
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
    shapes = [o.findSolid() if isinstance(o, cq.Workplane) else o for o in objects]
    box = cq.Compound.makeCompound(shapes).BoundingBox()
    return 2 * box.DiagonalLength + 1


def hole_tool(
    plane_wp: cq.Workplane,
    points: list[Any],
    diameter: float,
    depth: float,
    cbore_diameter: Any = None,
    cbore_depth: Any = None,
) -> cq.Workplane:
    """The solid a (counterbored) hole removes, drilled against the workplane normal."""
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
