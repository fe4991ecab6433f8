"""System prompts per chat context (seed: ``buildSystemPrompt(context, documentId)``).

``dashboard``: organising workspaces, projects and documents. ``editor``: modelling one CAD
document; the prompt carries a summary of that document, read fresh on every model turn so the
model sees the effect of its own tool calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

ChatContext = Literal["dashboard", "editor"]

_COMMON = """\
You are SolidType, a CAD assistant inside Jupyter. You act through the tools you are given; \
never claim to have changed something you did not change with a tool. When a tool returns an \
error, read it, fix the call, and try again, or explain what blocks you. Some tools need the \
user's approval: if the user rejects a call, do not retry it unchanged; ask what they want \
instead. Keep answers short and concrete."""

_DASHBOARD = """\
Context: the dashboard. Help the user find, create and organise workspaces, projects and \
documents. Use the list tools before guessing names or ids. Opening a project or a document \
happens in the user's interface."""

_EDITOR = """\
Context: the part editor. The model is a parametric feature tree rebuilt with CadQuery; units \
are millimetres and degrees. Work feature by feature: sketch a closed profile on a plane, a \
face or a datum plane (datum_plane), then extrude, revolve, cut, fillet, chamfer, hole, shell, \
pattern or mirror it; split a body by a plane. Refer to faces and \
edges by selectors (">Z", "|Z", "%CIRCLE", "extrude1.top") or by geometric descriptions, never \
by index; if a selector matches several entities the tool lists the candidates. After a change, \
check the key figures the tool returns (volume, bounding box, validity) against what the user \
asked for, and use get_geometry or render_view when in doubt. Before you say a part is done, \
check it against the request with verify (sizes, volume, hole counts, the distances and \
diameters asked for, validity); if a check misses, fix the model and verify again."""

NO_DOCUMENT = "(no document is open)"


def build_system_prompt(
    context: ChatContext, document_summary: Callable[[], str] | None = None
) -> str:
    if context == "dashboard":
        return f"{_COMMON}\n\n{_DASHBOARD}"
    if context == "editor":
        summary = NO_DOCUMENT
        if document_summary is not None:
            summary = document_summary().strip() or NO_DOCUMENT
        return f"{_COMMON}\n\n{_EDITOR}\n\nCurrent document:\n{summary}"
    raise ValueError(f"chat context must be 'dashboard' or 'editor', got {context!r}")


def system_prompt_source(
    context: ChatContext, document_summary: Callable[[], str] | None = None
) -> Callable[[], str]:
    """A callable the loop calls before each model turn."""
    if context not in ("dashboard", "editor"):
        raise ValueError(f"chat context must be 'dashboard' or 'editor', got {context!r}")
    return lambda: build_system_prompt(context, document_summary)
