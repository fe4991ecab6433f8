"""JSON answers of the health, chat and tessellation routes (the session routes' are in
``sessions``), and the face/edge references of the 3D viewer, which a chat request sends back
as the user's selection (``agui.ForwardedProps``).

The handlers answer with these models and the OpenAPI document is generated from them, so the
published schema and the answers cannot drift apart. Messages and events inside them are
AG-UI / TanStack shapes that the client interprets; they are described as objects here (the
event models themselves are in ``agui``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Answer(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class HealthDatabase(BaseModel):
    backend: str = Field(description="`sqlite` or `postgresql`")


class HealthModel(BaseModel):
    configured: bool
    provider: str | None
    name: str | None
    demo: bool = Field(
        default=False,
        description="a recorded demo (the `scripted` provider), not a model: UIs say so",
    )
    demo_notice: str | None = Field(
        default=None, description="for a demo: one line saying so and how to connect a model"
    )
    demo_prompts: list[str] = Field(
        default_factory=list, description="for a demo: the requests it can replay"
    )


class HealthResponse(BaseModel):
    """``GET .../health``; never the model's key. Its keys are snake_case (kept as published)."""

    status: Literal["ok"]
    version: str
    database: HealthDatabase
    model: HealthModel
    default_runtime: str


class ActiveRun(_Answer):
    run_id: str


class PendingInterrupts(_Answer):
    """The approvals the last run waits for (TanStack's hydrate shape)."""

    run_id: str
    pending: list[dict[str, Any]] = Field(description="AG-UI interrupts")


class ChatHydrate(_Answer):
    """The conversation rebuilt from the session's stream, as TanStack's ``ChatClient``
    hydrates it."""

    messages: list[dict[str, Any]] = Field(description="TanStack `UIMessage`s")
    active_run: ActiveRun | None
    interrupts: PendingInterrupts | None
    offset: str = Field(description="where a live read goes on (`offset=` of the SSE routes)")


class TranscriptPage(_Answer):
    """One page of the stored conversation (``?view=transcript``)."""

    messages: list[dict[str, Any]] = Field(description="AG-UI messages, tool results as rows")
    first: int = Field(ge=0, description="index of the first message of the page")
    total: int = Field(ge=0)
    offset: str
    interrupts: list[dict[str, Any]] = Field(description="the waiting AG-UI interrupts")
    active_run: ActiveRun | None


class LoggedEventJson(_Answer):
    offset: str
    event: dict[str, Any] = Field(description="one AG-UI event as stored")


class EventsPage(_Answer):
    """Stored events after an offset (``?offset=X``, or ``&live=long-poll``)."""

    events: list[LoggedEventJson]
    next_offset: str
    run_active: bool


class CancelAccepted(_Answer):
    run_id: str
    cancelled: Literal[True]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Number = Annotated[float, AfterValidator(_finite)]
Vec3 = tuple[Number, Number, Number]
#: Most faces and edges one chat request may send as the user's selection.
MAX_SELECTION = 100


class ReferenceDescriptor(BaseModel):
    """The descriptor that names a face or edge again, fail-closed (``find_faces``'s
    ``ref``; the tools' ``Descriptor``)."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=32, description="PLANE, CYLINDER, LINE, CIRCLE...")
    center: Vec3
    normal: Vec3 | None = None
    axis: Vec3 | None = None
    direction: Vec3 | None = None
    radius: Number | None = None


class ShapeReference(BaseModel):
    """One face or edge as ``find_faces`` / ``find_edges`` list it, with the body it
    belongs to: what the tessellation route gives per face / edge, and what a chat request
    sends back as the user's selection."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["face", "edge"]
    body: str = Field(pattern=r"^body\d+$", max_length=32, description="e.g. body1")
    type: str = Field(min_length=1, max_length=32)
    center: Vec3 = Field(description="centre of mass (of a circle: its centre)")
    area: Number | None = Field(default=None, description="faces")
    length: Number | None = Field(default=None, description="edges")
    normal: Vec3 | None = Field(default=None, description="planar faces")
    axis: Vec3 | None = Field(default=None, description="cylinders, circles")
    direction: Vec3 | None = Field(default=None, description="straight edges")
    radius: Number | None = None
    ref: ReferenceDescriptor | None = Field(
        default=None, description="the descriptor the tools resolve (from the figures if absent)"
    )

    def as_selection(self) -> dict[str, Any]:
        """What a tool run's ``ToolContext.selection`` holds for it: ``kind``, ``body`` and
        the descriptor ``get_current_selection`` resolves against the current model."""
        descriptor = self.ref or ReferenceDescriptor(
            type=self.type,
            center=self.center,
            normal=self.normal,
            axis=self.axis,
            direction=self.direction,
            radius=self.radius,
        )
        return {
            "kind": self.kind,
            "body": self.body,
            **descriptor.model_dump(mode="json", exclude_none=True),
        }


class PartReferences(BaseModel):
    faces: list[ShapeReference] = Field(
        description="one per face, in the order of the part's `triangles_per_face`"
    )
    edges: list[ShapeReference] = Field(
        description="one per edge, in the order of the part's `segments_per_edge`"
    )


class DocumentTessellation(BaseModel):
    """``GET .../documents/tessellation``: a document revision's meshes for three-cad-viewer
    and the reference of every face and edge. Keys are snake_case, as ocp-tessellate's."""

    path: str = Field(description="the document's contents path")
    revision: str = Field(description="the document revision meshed (the ETag names it too)")
    deviation: float
    angular_tolerance: float
    shapes: dict[str, Any] | None = Field(
        description="ocp-tessellate's shape tree (`version`, `parts`, `bb`...) with every "
        "part's mesh in place of its instance `ref`; mesh arrays are base64 buffers "
        "`{shape, dtype, buffer, codec: 'b64'}` as cad-viewer-widget sends them; null while "
        "the document has no solid"
    )
    references: dict[str, PartReferences] = Field(
        description="per part id of `shapes` (e.g. `/Group/body1`)"
    )


__all__ = [
    "MAX_SELECTION",
    "ActiveRun",
    "CancelAccepted",
    "ChatHydrate",
    "DocumentTessellation",
    "EventsPage",
    "HealthDatabase",
    "HealthModel",
    "HealthResponse",
    "LoggedEventJson",
    "PartReferences",
    "PendingInterrupts",
    "ReferenceDescriptor",
    "ShapeReference",
    "TranscriptPage",
]
