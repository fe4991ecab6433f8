"""Read-only questions about a built document: key figures, faces and edges."""

from __future__ import annotations

from typing import Any

import cadquery as cq
from OCP.Bnd import Bnd_Box
from OCP.BRepBndLib import BRepBndLib

from . import script_helpers


def solids_of(shape: cq.Workplane) -> list[cq.Shape]:
    """The solids on a Workplane's stack, typed as shapes."""
    return [s for s in shape.solids().vals() if isinstance(s, cq.Shape)]


def _round(value: float, digits: int = 4) -> float:
    return round(value, digits) + 0.0


def _vector(v: cq.Vector) -> list[float]:
    return [_round(v.x), _round(v.y), _round(v.z)]


def exact_bounding_box(shape: cq.Shape) -> cq.BoundBox:
    """The box of the exact geometry. CadQuery's ``BoundingBox()`` uses the triangulation
    when the shape has one (after a render or tessellation), which pads curved faces by the
    mesh deflection: an 8 mm plate with fillets measured 8.0018 mm once it had been drawn."""
    box = Bnd_Box()
    BRepBndLib.AddOptimal_s(shape.wrapped, box, False, False)  # no mesh, no tolerance
    return cq.BoundBox(box)


def shape_figures(shape: cq.Workplane, known_valid: bool = False) -> dict[str, Any]:
    """Validity, volume, area, bounding box, centre of mass and counts of a Workplane.

    `known_valid` skips OCCT's validity check (the costliest figure) for shapes the caller
    has already checked, such as bodies of a successful rebuild.
    """
    solids = solids_of(shape)
    if not solids:
        return {"solids": 0, "valid": False, "volume": 0.0, "area": 0.0}
    compound = cq.Compound.makeCompound(solids)
    box = exact_bounding_box(compound)
    return {
        "solids": len(solids),
        "valid": known_valid or bool(all(s.isValid() for s in solids)),
        "volume": _round(sum(s.Volume() for s in solids)),
        "area": _round(sum(s.Area() for s in solids)),
        "bbox": {
            "min": [_round(box.xmin), _round(box.ymin), _round(box.zmin)],
            "max": [_round(box.xmax), _round(box.ymax), _round(box.zmax)],
            "size": [_round(box.xlen), _round(box.ylen), _round(box.zlen)],
        },
        "center_of_mass": _vector(cq.Shape.centerOfMass(compound)),
        "faces": len(compound.Faces()),
        "edges": len(compound.Edges()),
    }


def geometry_summary(bodies: dict[str, cq.Workplane], known_valid: bool = False) -> dict[str, Any]:
    """Figures for the whole document and for each body (each body measured once)."""
    per_body = {name: shape_figures(body, known_valid) for name, body in bodies.items()}
    measured = [f for f in per_body.values() if f["solids"]]
    if len(measured) <= 1:
        total = dict(measured[0]) if measured else shape_figures(cq.Workplane("XY"))
    else:
        volume = sum(f["volume"] for f in measured)
        lows = [f["bbox"]["min"] for f in measured]
        highs = [f["bbox"]["max"] for f in measured]
        low = [min(v[i] for v in lows) for i in range(3)]
        high = [max(v[i] for v in highs) for i in range(3)]
        centre = [
            _round(sum(f["center_of_mass"][i] * f["volume"] for f in measured) / volume)
            for i in range(3)
        ]
        total = {
            "solids": sum(f["solids"] for f in measured),
            "valid": all(f["valid"] for f in measured),
            "volume": _round(volume),
            "area": _round(sum(f["area"] for f in measured)),
            "bbox": {
                "min": low,
                "max": high,
                "size": [_round(h - lo) for lo, h in zip(low, high, strict=True)],
            },
            "center_of_mass": centre,
            "faces": sum(f["faces"] for f in measured),
            "edges": sum(f["edges"] for f in measured),
        }
    total["bodies"] = per_body
    return total


def find(
    body: cq.Workplane,
    kind: str,
    selector: str | None = None,
    type: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Faces or edges (optionally narrowed by a selector and a geometry type), described.

    Each match carries `ref`, a descriptor that names it again, fail-closed, in later calls.
    """
    solid = body.findSolid()
    shapes: list[Any] = list(solid.Faces() if kind == "faces" else solid.Edges())
    if selector:
        shapes = script_helpers.select(body, kind, selector)
    if type:
        shapes = [s for s in shapes if s.geomType() == type.upper()]
    described = [described_reference(shape) for shape in shapes[:limit]]
    return {"count": len(shapes), "items": described, "truncated": len(shapes) > limit}


def described_reference(shape: Any) -> dict[str, Any]:
    """A face or edge as ``find`` lists it: ``describe``'s figures plus ``ref``, the
    descriptor that names it again (fail-closed) in later calls. The 3D viewer's references
    are these too, so what a user picks is what the tools understand."""
    info = script_helpers.describe(shape)
    ref = {"type": info["type"], "center": list(info["center"])}
    for key in ("normal", "axis", "direction", "radius"):
        if key in info:
            ref[key] = list(info[key]) if isinstance(info[key], tuple) else info[key]
    info["ref"] = ref
    return {k: list(v) if isinstance(v, tuple) else v for k, v in info.items()}
