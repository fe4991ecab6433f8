"""Meshes for the 3D viewer (ocp-tessellate, the three-cad-viewer format).

``tessellate`` gives ocp-tessellate's output as it comes (mesh instances and the shape tree
that refers to them). ``viewer_model`` is what the server's tessellation route answers: the
shape tree with every part's mesh in place, its arrays in the base64 buffer form
cad-viewer-widget sends to three-cad-viewer, and for every part the reference of each face
and edge in the order of the mesh's ``triangles_per_face`` and ``segments_per_edge``, so a
picked triangle or segment names a face or edge the tools understand.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

import cadquery as cq
import numpy as np
from OCP.BRep import BRep_Tool
from OCP.TopLoc import TopLoc_Location
from ocp_tessellate.convert import tessellate_group, to_ocpgroup
from ocp_tessellate.ocp_utils import get_edges, get_faces, mul_locations, tq_to_loc
from ocp_tessellate.utils import numpy_to_buffer_json

from .errors import CadError
from .queries import described_reference


@dataclass(frozen=True)
class Tessellation:
    """ocp-tessellate's output: mesh instances and the shape tree that refers to them."""

    instances: list[dict[str, Any]]
    shapes: dict[str, Any]
    triangles: int
    vertices: int


def tessellate(
    bodies: dict[str, cq.Workplane], deviation: float = 0.1, angular_tolerance: float = 0.2
) -> Tessellation:
    """Mesh every body (named as in the document) for three-cad-viewer."""
    names = list(bodies)
    group, instances = to_ocpgroup(*bodies.values(), names=names)
    meshed, shapes, _mapping = tessellate_group(
        group, instances, kwargs={"deviation": deviation, "angular_tolerance": angular_tolerance}
    )
    triangles = sum(len(m["triangles"]) // 3 for m in meshed)
    vertices = sum(len(m["vertices"]) // 3 for m in meshed)
    return Tessellation(meshed, shapes, triangles, vertices)


class MeshAlignmentError(CadError):
    """The mesh's per-face or per-edge ranges do not line up with the shape's faces or edges
    (a picked triangle would name the wrong face): no references are given then."""


def viewer_model(
    bodies: dict[str, cq.Workplane], deviation: float = 0.1, angular_tolerance: float = 0.2
) -> dict[str, Any]:
    """``{"shapes", "references"}`` for the viewer; ``shapes`` is ``None`` without a solid.

    ``shapes`` is ocp-tessellate's tree with instances resolved (each part's ``shape`` is
    its mesh, not ``{"ref": i}``); ``references`` maps each part's id (e.g.
    ``/Group/body1``) to ``{"faces": [...], "edges": [...]}``, one ``find_faces`` /
    ``find_edges`` item per face / edge, plus ``body`` (the body's name).
    """
    # ocp-tessellate caches meshes by shape content across calls; a cache hit would leave
    # this call's shapes without the triangulation the alignment check below reads.
    from ocp_tessellate.tessellator import cache

    cache.clear()
    solid_bodies = {name: body for name, body in bodies.items() if body.solids().size()}
    if not solid_bodies:
        return {"shapes": None, "references": {}}
    names = list(solid_bodies)
    group, instances = to_ocpgroup(*solid_bodies.values(), names=names)
    meshed, shapes, _mapping = tessellate_group(
        group, instances, kwargs={"deviation": deviation, "angular_tolerance": angular_tolerance}
    )
    # tessellate_group drops instances whose mesh is empty and renumbers the rest.
    kept = [instance for instance in instances if _has_triangulation(instance["obj"])]
    if len(kept) != len(meshed):
        raise MeshAlignmentError(
            f"{len(meshed)} meshes for {len(kept)} triangulated shapes: cannot tell them apart"
        )
    references: dict[str, Any] = {}
    top = TopLoc_Location() if shapes.get("loc") is None else tq_to_loc(*shapes["loc"])
    for part, location in _leaves(shapes, top):
        ref = part["shape"]["ref"]
        mesh = meshed[ref]
        body = str(part["name"])
        if body not in solid_bodies:
            raise MeshAlignmentError(f"part {part['id']!r} is none of the document's bodies")
        references[str(part["id"])] = _references(kept[ref]["obj"], mesh, location, body)
        part["shape"] = numpy_to_buffer_json(dict(mesh))
    return {"shapes": _plain(shapes), "references": references}


def viewer_json(
    bodies: dict[str, cq.Workplane],
    header: dict[str, Any],
    deviation: float = 0.1,
    angular_tolerance: float = 0.2,
) -> bytes:
    """``header`` and ``viewer_model`` as one compact JSON object, gzip-compressed (what
    the route stores and sends; browsers take it as ``Content-Encoding: gzip``)."""
    answer = {**header, **viewer_model(bodies, deviation, angular_tolerance)}
    text = json.dumps(answer, separators=(",", ":"), allow_nan=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def _leaves(node: dict[str, Any], location: TopLoc_Location) -> list[tuple[dict[str, Any], Any]]:
    """The parts with a mesh and their placement in the model (parent locations applied)."""
    found = []
    for part in node.get("parts", []):
        placed = (
            location
            if part.get("loc") is None
            else mul_locations(location, tq_to_loc(*part["loc"]))
        )
        if "parts" in part:
            found += _leaves(part, placed)
        elif part.get("type") == "shapes" and isinstance(part.get("shape"), dict):
            found.append((part, placed))
    return found


def _has_triangulation(shape: Any) -> bool:
    return any(
        BRep_Tool.Triangulation_s(face, TopLoc_Location()) is not None for face in get_faces(shape)
    )


def _references(
    shape: Any, mesh: dict[str, Any], location: TopLoc_Location, body: str
) -> dict[str, list[dict[str, Any]]]:
    """One reference per face / edge of ``shape`` that has a piece of ``mesh``, in the
    mesh's order. ocp-tessellate walks the faces and edges in ``TopExp.MapShapes`` order
    and skips a face without a triangulation and an edge without a polygon on its first
    face's triangulation; the same walk here, checked range by range."""
    faces = []
    for face in get_faces(shape):
        triangulation = BRep_Tool.Triangulation_s(face, TopLoc_Location())
        if triangulation is not None:
            faces.append((face, triangulation.NbTriangles()))
    _check("face", "triangles", [n for _, n in faces], mesh["triangles_per_face"])
    edges = []
    for edge, face in get_edges(shape, True):
        triangulation = BRep_Tool.Triangulation_s(face, TopLoc_Location())
        polygon = BRep_Tool.PolygonOnTriangulation_s(edge, triangulation, TopLoc_Location())
        if polygon is not None:
            edges.append((edge, polygon.NbNodes() - 1))
    _check("edge", "segments", [n for _, n in edges], mesh["segments_per_edge"])
    placed = not location.IsIdentity()

    def reference(topods: Any, wrap: type[cq.Shape]) -> dict[str, Any]:
        item = wrap(topods.Moved(location) if placed else topods)
        return {**described_reference(item), "body": body}

    return {
        "faces": [reference(face, cq.Face) for face, _ in faces],
        "edges": [reference(edge, cq.Edge) for edge, _ in edges],
    }


def _check(kind: str, unit: str, ours: list[int], meshes: Any) -> None:
    theirs = [int(n) for n in np.asarray(meshes).ravel()]
    if ours != theirs:
        raise MeshAlignmentError(
            f"the mesh has {len(theirs)} {kind} ranges, the shape {len(ours)} {kind}s with "
            f"{unit} (or their {unit} counts differ): references would name the wrong {kind}"
        )


def _plain(value: Any) -> Any:
    """The tree with numpy scalars (bounding boxes) as Python numbers, for ``json``."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def document_viewer_json(
    state: dict[str, Any], header: dict[str, Any], deviation: float, angular_tolerance: float
) -> bytes:
    """``viewer_json`` of the document ``state`` (what a ``*.solid.json`` holds), rebuilt
    here; DocumentError when it does not build. What the server's tessellation worker
    process runs (a module-level function, so it can be sent there)."""
    from .document import CadDocument

    document = CadDocument.from_state(state)
    return viewer_json(document.bodies, header, deviation, angular_tolerance)
