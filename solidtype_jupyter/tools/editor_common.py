"""What every editor tool module shares: the argument base, the open document, the figures.

The editor tools live in several modules by kind (`editor`: sketches, solids, modifiers and
history); each builds its `ToolSpec`s with `editor_spec` and answers with `figures`, so every
mutating tool returns the same key figures whatever module it is in.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ..cad import CadDocument
from .registry import ToolContext, ToolSpec


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


def document_of(ctx: ToolContext) -> CadDocument:
    assert ctx.document is not None  # the registry checks needs_document first
    return ctx.document


def figures(doc: CadDocument, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    summary = doc.geometry()
    if len(doc.bodies) <= 1:
        summary.pop("bodies", None)  # the totals already describe the single body
    out: dict[str, Any] = dict(extra or {})
    out["geometry"] = summary
    out["revision"] = doc.revision
    out["can_undo"] = doc.can_undo
    return out


def add_feature(doc: CadDocument, data: dict[str, Any]) -> dict[str, Any]:
    feature = doc.add_feature(data)
    return figures(doc, {"feature": feature.model_dump(mode="json", exclude_none=True)})


def body_field(doc: CadDocument, body: str | None) -> str | None:
    """The body a feature changes: the named one, or the latest (stored explicitly)."""
    if body is not None:
        return body
    bodies = list(doc.bodies)
    return bodies[-1] if bodies else None


def dump_args(args: BaseModel, *exclude: str) -> dict[str, Any]:
    return args.model_dump(mode="json", exclude_none=True, exclude=set(exclude))


def editor_spec(name: str, description: str, args: type[BaseModel], handler: Any) -> ToolSpec:
    return ToolSpec(name, description, args, handler, needs_document=True)
