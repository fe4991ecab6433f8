"""Editor tools: build and inspect the open CAD document, one undoable transaction per call.

Every mutating tool returns the new key figures (validity, volume, area, bounding box,
counts) so the model can check its work without another call.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from ..cad import CadDocument
from ..cad.features import (
    MAX_PATTERN_INSTANCES,
    MAX_SKETCH_ENTITIES,
    Arc,
    Circle,
    Descriptor,
    Entity,
    Line,
    Number,
    Point2,
    Polygon,
    Rectangle,
    Ref,
    Sketch,
    Vec3,
)
from ..cad.queries import find
from ..cad.render import VIEWS
from .editor_common import (
    Args,
    add_feature,
    body_field,
    document_of,
    dump_args,
    editor_spec,
    figures,
)
from .feature_edits import checked_changes, parameter_users, unused_parameter_note
from .inspection import INSPECTION_TOOLS
from .path_tools import PATH_TOOLS
from .plane_tools import PLANE_TOOLS
from .registry import (
    ToolAttachment,
    ToolContext,
    ToolFailure,
    ToolImage,
    ToolRegistry,
    ToolResult,
    ToolSpec,
)

# --- sketches ----------------------------------------------------------------------------


class CreateSketchArgs(Args):
    plane: Literal["XY", "YZ", "XZ"] = Field("XY", description="principal plane")
    face: Ref | None = Field(None, description="sketch on this planar face instead")
    datum: str | None = Field(
        None, description="sketch on this datum plane instead (from datum_plane, e.g. 'datum1')"
    )
    body: str | None = Field(None, description="body owning `face` (default: the latest)")
    offset: Number = Field(0.0, description="offset along the plane normal (mm)")
    entities: list[Entity] = Field(
        default_factory=list,
        max_length=MAX_SKETCH_ENTITIES,
        description="optional: draw these entities at once",
    )
    name: str | None = None


def create_sketch(args: CreateSketchArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    data = {"type": "sketch", **dump_args(args)}
    if args.face is not None:
        data["body"] = body_field(doc, args.body)
    feature = doc.add_feature(data)
    return _sketch_result(doc, feature.id)


def _sketch_result(doc: CadDocument, sketch_id: str) -> dict[str, Any]:
    info = doc.result.steps[[s.feature_id for s in doc.result.steps].index(sketch_id)].sketches[
        sketch_id
    ]
    sketch = doc.feature(sketch_id)
    return figures(
        doc,
        {
            "sketch_id": sketch_id,
            "entities": len(getattr(sketch, "entities", [])),
            "closed_profiles": info["closed"],
            "open_chain": info["open"],
        },
    )


class _EntityArgs(Args):
    sketch_id: str = Field(description="id of the sketch to draw in (from create_sketch)")


def _add_entity(ctx: ToolContext, sketch_id: str, entity: BaseModel) -> dict[str, Any]:
    doc = document_of(ctx)
    sketch = doc.feature(sketch_id)
    if not isinstance(sketch, Sketch):
        raise ToolFailure("not_found", f"{sketch_id} is a {sketch.type} feature, not a sketch")  # type: ignore[attr-defined]
    entities = [e.model_dump(mode="json") for e in sketch.entities]
    entities.append(entity.model_dump(mode="json"))
    doc.update_feature(sketch_id, {"entities": entities})
    return _sketch_result(doc, sketch_id)


class AddLineArgs(_EntityArgs):
    start: Point2
    end: Point2


def add_line(args: AddLineArgs, ctx: ToolContext) -> dict[str, Any]:
    return _add_entity(ctx, args.sketch_id, Line(start=args.start, end=args.end))


class AddArcArgs(_EntityArgs):
    start: Point2
    mid: Point2 = Field(description="a point on the arc between start and end")
    end: Point2


def add_arc(args: AddArcArgs, ctx: ToolContext) -> dict[str, Any]:
    return _add_entity(ctx, args.sketch_id, Arc(start=args.start, mid=args.mid, end=args.end))


class AddCircleArgs(_EntityArgs):
    center: Point2 = (0.0, 0.0)
    radius: Number


def add_circle(args: AddCircleArgs, ctx: ToolContext) -> dict[str, Any]:
    return _add_entity(ctx, args.sketch_id, Circle(center=args.center, radius=args.radius))


class AddRectangleArgs(_EntityArgs):
    center: Point2 = (0.0, 0.0)
    width: Number
    height: Number


def add_rectangle(args: AddRectangleArgs, ctx: ToolContext) -> dict[str, Any]:
    entity = Rectangle(center=args.center, width=args.width, height=args.height)
    return _add_entity(ctx, args.sketch_id, entity)


class AddPolygonArgs(_EntityArgs):
    center: Point2 = (0.0, 0.0)
    sides: int = Field(ge=3, le=64)
    diameter: Number = Field(description="diameter of the circle through the corners")


def add_polygon(args: AddPolygonArgs, ctx: ToolContext) -> dict[str, Any]:
    entity = Polygon(center=args.center, sides=args.sides, diameter=args.diameter)
    return _add_entity(ctx, args.sketch_id, entity)


# --- solid features ----------------------------------------------------------------------

Operation = Literal["new", "join", "cut", "intersect"]


class ExtrudeArgs(Args):
    sketch_id: str
    distance: Number | None = Field(
        None, description="depth in mm (omit for through_all and up_to_face)"
    )
    extent: Literal["blind", "through_all", "up_to_face"] = "blind"
    face: Ref | None = Field(
        None, description="up_to_face: a planar face of the body; its plane ends the extrusion"
    )
    direction: Literal["normal", "reverse", "symmetric"] | None = Field(
        None, description="default: normal for new/join, reverse (into the part) for cut"
    )
    draft: Number | None = Field(
        None,
        description="blind only: taper angle in degrees; positive narrows the profile as it "
        "goes away from the sketch, negative widens it and rounds its corners (profiles "
        "without holes)",
    )
    operation: Operation | None = Field(
        None, description="default: new for the first solid, join afterwards"
    )
    body: str | None = Field(None, description="body to change (default: the latest)")
    name: str | None = None


def _solid_feature(doc: CadDocument, kind: str, args: BaseModel) -> dict[str, Any]:
    data = {"type": kind, **dump_args(args, "sketch_id")}
    data["sketch"] = args.sketch_id  # type: ignore[attr-defined]
    operation = data.get("operation") or ("join" if doc.bodies else "new")
    data["operation"] = operation
    if operation != "new":
        data["body"] = body_field(doc, data.get("body"))
    return add_feature(doc, data)


def extrude(args: ExtrudeArgs, ctx: ToolContext) -> dict[str, Any]:
    return _solid_feature(document_of(ctx), "extrude", args)


class RevolveArgs(Args):
    sketch_id: str
    angle: Number = Field(360.0, description="degrees, 0 < angle <= 360")
    axis_start: Point2 = Field((0.0, 0.0), description="axis point in sketch coordinates")
    axis_end: Point2 = Field((0.0, 1.0), description="second axis point (sketch coordinates)")
    operation: Operation | None = None
    body: str | None = None
    name: str | None = None


def revolve(args: RevolveArgs, ctx: ToolContext) -> dict[str, Any]:
    return _solid_feature(document_of(ctx), "revolve", args)


class FilletArgs(Args):
    edges: list[Ref] = Field(min_length=1, description="edge references (selectors/descriptors)")
    radius: Number
    body: str | None = None
    name: str | None = None


def _modifier(doc: CadDocument, kind: str, args: BaseModel) -> dict[str, Any]:
    data = {"type": kind, **dump_args(args)}
    data["body"] = body_field(doc, data.get("body"))
    return add_feature(doc, data)


def fillet(args: FilletArgs, ctx: ToolContext) -> dict[str, Any]:
    return _modifier(document_of(ctx), "fillet", args)


class ChamferArgs(Args):
    edges: list[Ref] = Field(min_length=1)
    distance: Number
    distance2: Number | None = None
    body: str | None = None
    name: str | None = None


def chamfer(args: ChamferArgs, ctx: ToolContext) -> dict[str, Any]:
    return _modifier(document_of(ctx), "chamfer", args)


class HoleArgs(Args):
    face: Ref = Field(">Z", description="planar face to drill into")
    positions: list[Point2] = Field(
        default=[(0.0, 0.0)],
        min_length=1,
        max_length=MAX_PATTERN_INSTANCES,
        description="hole centres in face coordinates (origin: centre of the face's bounds)",
    )
    diameter: Number
    depth: Number | None = Field(None, description="omit for a through hole")
    cbore_diameter: Number | None = Field(None, description="counterbore diameter")
    cbore_depth: Number | None = Field(None, description="counterbore depth")
    csk_diameter: Number | None = Field(
        None, description="countersink diameter on the face (not with a counterbore)"
    )
    csk_angle: Number | None = Field(
        None, description="countersink included angle in degrees, e.g. 90 (metric) or 82"
    )
    body: str | None = None
    name: str | None = None


def hole(args: HoleArgs, ctx: ToolContext) -> dict[str, Any]:
    return _modifier(document_of(ctx), "hole", args)


class ShellArgs(Args):
    faces: list[Ref] = Field(default_factory=list, description="faces to open; [] = closed")
    thickness: Number
    outward: bool = False
    body: str | None = None
    name: str | None = None


def shell(args: ShellArgs, ctx: ToolContext) -> dict[str, Any]:
    return _modifier(document_of(ctx), "shell", args)


class BooleanArgs(Args):
    body: str = Field(description="target body (keeps its name)")
    tools: list[str] = Field(min_length=1, description="bodies to combine into the target")
    operation: Literal["union", "cut", "intersect"]
    keep_tools: bool = False
    name: str | None = None


def boolean(args: BooleanArgs, ctx: ToolContext) -> dict[str, Any]:
    return add_feature(document_of(ctx), {"type": "boolean", **dump_args(args)})


class PatternArgs(Args):
    source: str = Field(
        description="id of the extrude, revolve, hole, pattern or mirror feature to repeat"
    )
    kind: Literal["linear", "circular", "rectangular"]
    count: int = Field(
        ge=2, le=500, description="instances including the original (rectangular: columns)"
    )
    direction: Vec3 = Field((1.0, 0.0, 0.0), description="linear/rectangular: step direction")
    spacing: Number = Field(10.0, description="linear/rectangular: step along direction (mm)")
    count2: int | None = Field(
        None, ge=2, le=500, description="rectangular: rows, instances along direction2"
    )
    direction2: Vec3 = Field((0.0, 1.0, 0.0), description="rectangular: the rows' direction")
    spacing2: Number | None = Field(None, description="rectangular: step along direction2 (mm)")
    axis_origin: Vec3 = (0.0, 0.0, 0.0)
    axis_direction: Vec3 = (0.0, 0.0, 1.0)
    angle: Number = 360.0
    name: str | None = None


def pattern(args: PatternArgs, ctx: ToolContext) -> dict[str, Any]:
    return add_feature(document_of(ctx), {"type": "pattern", **dump_args(args)})


# --- editing -----------------------------------------------------------------------------


class SetParameterArgs(Args):
    name: str = Field(description="a Python identifier, e.g. 'thickness'")
    value: float
    description: str | None = None


def set_parameter(args: SetParameterArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    doc.set_parameter(args.name, args.value, args.description)
    users = parameter_users(doc, args.name)
    out: dict[str, Any] = {
        "parameters": doc.parameters,
        "used_by": users,
        "rebuilt": doc.last_executed,
    }
    if not users:  # still a success: a later feature may use it
        out["note"] = unused_parameter_note(args.name, doc)
    return figures(doc, out)


class ModifyFeatureArgs(Args):
    feature_id: str
    changes: dict[str, Any] = Field(description="fields to change, as in the creating tool")


def modify_feature(args: ModifyFeatureArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    changes = checked_changes(doc, args.feature_id, args.changes)
    feature = doc.update_feature(args.feature_id, changes)
    return figures(
        doc,
        {
            "feature": feature.model_dump(mode="json", exclude_none=True),
            "rebuilt": doc.last_executed,
        },
    )


class DeleteFeatureArgs(Args):
    feature_id: str


def delete_feature(args: DeleteFeatureArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    doc.delete_feature(args.feature_id)
    return figures(doc, {"deleted": args.feature_id})


class NoArgs(Args):
    pass


def undo(args: NoArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    doc.undo()
    return figures(doc, {"features": [f.id for f in doc.features], "can_redo": doc.can_redo})


def redo(args: NoArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    doc.redo()
    return figures(doc, {"features": [f.id for f in doc.features], "can_redo": doc.can_redo})


# --- read-only ---------------------------------------------------------------------------


class FindArgs(Args):
    body: str | None = Field(None, description="default: the latest body")
    selector: str | None = Field(None, description="CadQuery selector to narrow the search")
    type: str | None = Field(None, description="geometry type, e.g. PLANE, CYLINDER, CIRCLE")
    limit: int = Field(50, ge=1, le=500)


def _find(kind: str, args: FindArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    bodies = doc.bodies
    if not bodies:
        raise ToolFailure("not_found", "the document has no solid yet")
    name = args.body or list(bodies)[-1]
    if name not in bodies:
        raise ToolFailure("not_found", f"unknown body {name!r} (bodies: {', '.join(bodies)})")
    found = find(bodies[name], kind, args.selector, args.type, args.limit)
    return {"body": name, **found}


def find_faces(args: FindArgs, ctx: ToolContext) -> dict[str, Any]:
    return _find("faces", args, ctx)


def find_edges(args: FindArgs, ctx: ToolContext) -> dict[str, Any]:
    return _find("edges", args, ctx)


def get_geometry(args: NoArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    return {"geometry": doc.geometry(), "revision": doc.revision}


def list_features(args: NoArgs, ctx: ToolContext) -> dict[str, Any]:
    doc = document_of(ctx)
    return {
        "name": doc.name,
        "parameters": {k: p.model_dump() for k, p in doc.state().parameters.items()},
        "features": [f.model_dump(mode="json", exclude_none=True) for f in doc.features],
        "bodies": list(doc.bodies),
        "can_undo": doc.can_undo,
        "can_redo": doc.can_redo,
    }


def get_current_selection(args: NoArgs, ctx: ToolContext) -> dict[str, Any]:
    """What the user has selected in the viewer, checked against the current model."""
    doc = document_of(ctx)
    from ..cad.script_helpers import SelectionError, describe, select

    items = []
    for raw in ctx.selection:
        kind = "edges" if raw.get("kind") == "edge" else "faces"
        try:
            ref = Descriptor.model_validate(
                {k: v for k, v in raw.items() if k not in ("kind", "body")}
            )
        except ValidationError as exc:
            items.append({"selection": raw, "error": f"not a face/edge descriptor: {exc}"})
            continue
        body_name = raw.get("body") or (list(doc.bodies)[-1] if doc.bodies else None)
        if body_name not in doc.bodies:
            items.append({"selection": raw, "error": f"unknown body {body_name!r}"})
            continue
        try:
            shapes = select(doc.bodies[body_name], kind, ref.as_helper_dict())
            items.append({"selection": raw, "body": body_name, "resolved": describe(shapes[0])})
        except SelectionError as exc:
            items.append({"selection": raw, "error": str(exc)})
    return {"count": len(items), "items": items}


class RenderViewArgs(Args):
    view: Literal["iso", "top", "bottom", "front", "back", "left", "right"] = "iso"
    width: int = Field(800, ge=64, le=1568)
    height: int = Field(600, ge=64, le=1568)


def render_view(args: RenderViewArgs, ctx: ToolContext) -> ToolResult:
    doc = document_of(ctx)
    if not doc.bodies:
        raise ToolFailure("not_found", "there is nothing to render yet (no solid)")
    png = doc.render(args.view, args.width, args.height)
    return ToolResult(
        tool="render_view",
        ok=True,
        content={"view": args.view, "width": args.width, "height": args.height, "bytes": len(png)},
        images=[ToolImage.png(png)],
    )


assert set(VIEWS) == {"iso", "top", "bottom", "front", "back", "left", "right"}

_MIME = {"step": "model/step", "stl": "model/stl", "script": "text/x-python"}
_SUFFIX = {"step": ".step", "stl": ".stl", "script": ".py"}


class ExportArgs(Args):
    format: Literal["step", "stl", "script"]
    filename: str | None = Field(
        None, description="file name to write in the working directory (no folders)"
    )


def export(args: ExportArgs, ctx: ToolContext) -> ToolResult:
    doc = document_of(ctx)
    data = doc.export(args.format)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", doc.name).strip("._") or "part"
    filename = args.filename or f"{stem}{_SUFFIX[args.format]}"
    if "/" in filename or "\\" in filename or filename.startswith("."):
        raise ToolFailure("invalid_arguments", "filename must be a plain file name")
    content: dict[str, Any] = {
        "format": args.format,
        "filename": filename,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if ctx.workdir is not None:
        target = ctx.workdir / filename
        target.write_bytes(data)
        content["path"] = str(target)
    if args.format == "script":
        content["script"] = data.decode()
    return ToolResult(
        tool="export",
        ok=True,
        content=content,
        attachments=[
            ToolAttachment(
                filename=filename,
                mime_type=_MIME[args.format],
                data_base64=base64.b64encode(data).decode("ascii"),
            )
        ],
    )


EDITOR_TOOLS: list[ToolSpec] = [
    editor_spec(
        "create_sketch",
        "Start a sketch on a principal plane (XY, YZ, XZ; optional offset), on a planar "
        "face of a body, or on a datum plane (datum: an id from datum_plane); optionally draw "
        "entities at once. Returns the sketch id. Sketch coordinates (mm): XY: x->X, y->Y, "
        "normal +Z; XZ: x->X, y->Z, normal -Y; YZ: x->Y, y->Z, normal +X; on a face: origin at "
        "the centre of the face's bounding box, normal out of the face; on a datum: its origin "
        "and axes. Any number may be a parameter expression such as 'width / 2'.",
        CreateSketchArgs,
        create_sketch,
    ),
    editor_spec(
        "add_line",
        "Add a line segment to a sketch (lines and arcs chain into closed "
        "profiles by their end points).",
        AddLineArgs,
        add_line,
    ),
    editor_spec(
        "add_arc",
        "Add a three-point arc (start, a point on the arc, end) to a sketch.",
        AddArcArgs,
        add_arc,
    ),
    editor_spec(
        "add_circle", "Add a circle (a closed profile) to a sketch.", AddCircleArgs, add_circle
    ),
    editor_spec(
        "add_rectangle",
        "Add a centred rectangle (a closed profile) to a sketch.",
        AddRectangleArgs,
        add_rectangle,
    ),
    editor_spec(
        "add_polygon",
        "Add a regular polygon (a closed profile) to a sketch.",
        AddPolygonArgs,
        add_polygon,
    ),
    editor_spec(
        "extrude",
        "Extrude a sketch's closed profiles: new body, join, cut or intersect; blind depth, "
        "through_all (beyond the body, in one direction: from a sketch inside the body, "
        "e.g. a cross hole from a shaft's mid-plane, use direction symmetric to go both "
        "ways) or up_to_face (to the plane of a planar `face`, along or against the sketch "
        "normal, whichever reaches it). Profiles inside profiles become holes. direction: "
        "normal (along the sketch normal), reverse (into the part; the default for cut) or "
        "symmetric. draft (blind only): taper in degrees, positive narrows away from the "
        "sketch. Later features can name the end cap '<extrude id>.top' and the start cap "
        "'.bottom' (blind extrudes).",
        ExtrudeArgs,
        extrude,
    ),
    editor_spec(
        "revolve",
        "Revolve a sketch's profiles about an axis given by two points in sketch coordinates "
        "(default: the sketch's y axis; it may lie off the origin) by any angle up to 360, "
        "turning by the right-hand rule about the direction axis_start -> axis_end. The "
        "profile must stay on one side of the axis.",
        RevolveArgs,
        revolve,
    ),
    editor_spec(
        "fillet",
        "Round edges of a body. edges: CadQuery selectors ('|Z' vertical edges, '>Z' the "
        "top face's edges, '%CIRCLE', 'not(%CIRCLE)') or descriptors from find_edges (a "
        "descriptor must match exactly one edge).",
        FilletArgs,
        fillet,
    ),
    editor_spec(
        "chamfer",
        "Bevel edges of a body (edges as for fillet); distance2 for an unequal chamfer.",
        ChamferArgs,
        chamfer,
    ),
    editor_spec(
        "hole",
        "Drill simple, counterbored (cbore_diameter, cbore_depth) or countersunk "
        "(csk_diameter, csk_angle) holes into one planar face, against its normal. positions "
        "are face coordinates (origin: centre of the face's bounding box); omit depth for "
        "through holes.",
        HoleArgs,
        hole,
    ),
    editor_spec(
        "shell", "Hollow a body with a wall thickness, opening the listed faces.", ShellArgs, shell
    ),
    editor_spec(
        "boolean", "Union, cut or intersect other bodies into a target body.", BooleanArgs, boolean
    ),
    editor_spec(
        "pattern",
        "Repeat what an extrude, revolve, hole, pattern or mirror feature added or removed: "
        "linear (count along direction), circular (about an axis) or rectangular (count "
        "columns along direction x count2 rows along direction2). A pattern of a pattern "
        "repeats the whole set (a row of 5 patterned 3 times: 15).",
        PatternArgs,
        pattern,
    ),
    editor_spec(
        "set_parameter",
        "Create or change a named parameter; features whose numbers use "
        "it (e.g. distance: 'thickness') rebuild.",
        SetParameterArgs,
        set_parameter,
    ),
    editor_spec(
        "modify_feature",
        "Change fields of an existing feature; the model rebuilds from that feature on.",
        ModifyFeatureArgs,
        modify_feature,
    ),
    editor_spec(
        "delete_feature",
        "Delete a feature that no later feature uses.",
        DeleteFeatureArgs,
        delete_feature,
    ),
    editor_spec("undo", "Undo the last change (one whole tool call).", NoArgs, undo),
    editor_spec("redo", "Redo the last undone change.", NoArgs, redo),
    editor_spec(
        "find_faces",
        "List faces of a body with descriptors usable as references.",
        FindArgs,
        find_faces,
    ),
    editor_spec(
        "find_edges",
        "List edges of a body with descriptors usable as references.",
        FindArgs,
        find_edges,
    ),
    editor_spec(
        "get_geometry",
        "Validity, volume, area, bounding box, centre of mass and face/edge counts of the model.",
        NoArgs,
        get_geometry,
    ),
    editor_spec(
        "get_current_selection",
        "The faces/edges the user has selected in the viewer.",
        NoArgs,
        get_current_selection,
    ),
    editor_spec(
        "list_features",
        "The parameters and the feature tree of the document.",
        NoArgs,
        list_features,
    ),
    editor_spec(
        "render_view",
        "A PNG picture of the model from a standard view.",
        RenderViewArgs,
        render_view,
    ),
    editor_spec(
        "export",
        "Export the model as STEP, STL or a standalone CadQuery script.",
        ExportArgs,
        export,
    ),
]


def editor_registry() -> ToolRegistry:
    """A registry holding the editor (CAD) tools of every module."""
    return ToolRegistry(EDITOR_TOOLS + PATH_TOOLS + PLANE_TOOLS + INSPECTION_TOOLS)
