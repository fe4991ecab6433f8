"""Meshes for the 3D viewer (ocp-tessellate, the three-cad-viewer format)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cadquery as cq
from ocp_tessellate.convert import tessellate_group, to_ocpgroup


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
