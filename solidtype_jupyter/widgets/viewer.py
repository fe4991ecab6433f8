"""The panel's picture of the model, with the faces/edges the agent is working on highlighted.

Which elements are "selected" is read from the agent's tool calls: the results of
``find_faces`` / ``find_edges`` (the descriptors they return) and the face/edge references in
the arguments of a call (``face``, ``faces``, ``edges``). References that no longer name
anything in the current model (a filleted edge is gone) are skipped: a highlight is a hint,
never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..cad import CadDocument
from ..cad.render import MAX_EDGE, RenderError

#: The agent's colour (a VTK colour name).
AGENT_COLOR = "deeppink"


@dataclass(frozen=True)
class Selection:
    """Faces or edges of one body, as the references a tool call used."""

    kind: str  # "faces" | "edges"
    refs: tuple[Any, ...]
    body: str | None = None


def selection_of_call(name: str, arguments: str, result: str) -> Selection | None:
    """The elements a tool call looked at or acted on, if any."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        args = {}
    if name in ("find_faces", "find_edges"):
        try:
            found = json.loads(result)
        except ValueError:
            return None
        if not isinstance(found, dict):
            return None
        refs = tuple(
            i["ref"] for i in found.get("items") or () if isinstance(i, dict) and "ref" in i
        )
        if not refs:
            return None
        return Selection(name.removeprefix("find_"), refs, found.get("body"))
    if not isinstance(args, dict):
        return None
    if isinstance(args.get("edges"), list) and args["edges"]:
        return Selection("edges", tuple(args["edges"]), args.get("body"))
    faces = args.get("faces") if isinstance(args.get("faces"), list) else None
    if faces is None and args.get("face") is not None:
        faces = [args["face"]]
    if faces:
        return Selection("faces", tuple(faces), args.get("body"))
    return None


def resolve(document: CadDocument, selection: Selection) -> list[Any]:
    """The CadQuery shapes the selection names in the current model (unresolvable skipped)."""
    from ..cad.script_helpers import SelectionError, select

    bodies = document.bodies
    if not bodies:
        return []
    body = bodies.get(selection.body or "") or list(bodies.values())[-1]
    shapes: list[Any] = []
    for ref in selection.refs:
        try:
            found = select(body, selection.kind, ref)
        except (SelectionError, ValueError, TypeError, KeyError):
            continue
        shapes += [s for s in found if not any(s.isSame(t) for t in shapes)]
    return shapes


def render_selection(
    document: CadDocument,
    shapes: list[Any],
    kind: str,
    view: str = "iso",
    width: int = 640,
    height: int = 480,
) -> bytes:
    """PNG of the model with ``shapes`` drawn in the agent's colour."""
    import cadquery as cq
    from cadquery.vis import style

    from ..cad import render as cad_render

    if not (16 <= width <= MAX_EDGE and 16 <= height <= MAX_EDGE):
        raise ValueError(f"width and height must be between 16 and {MAX_EDGE} pixels")
    model = document.shape
    solids = [v for v in model.solids().vals() if isinstance(v, cq.Shape)]
    if not solids:
        raise RenderError("there is nothing to render yet (the document has no solid)")
    box = cq.Compound.makeCompound(solids).BoundingBox()
    if kind == "edges":
        compound = cq.Compound.makeCompound(shapes)
        marked = style(compound, color=AGENT_COLOR, edgecolor=AGENT_COLOR, linewidth=6)
    else:
        # Lifted off the solid a little, so the two surfaces do not fight for the pixels.
        lift = 0.002 * box.DiagonalLength
        lifted = [face.translate(face.normalAt() * lift) for face in shapes]
        compound = cq.Compound.makeCompound(lifted)
        marked = style(compound, color=AGENT_COLOR, edgecolor=AGENT_COLOR, linewidth=3)
    return cad_render.render_png(model, view, width, height, overlays=[marked])
