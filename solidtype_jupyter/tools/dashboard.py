"""Dashboard tools: the user's workspaces, projects and documents, and navigation to them.

They run against the catalog (`store.catalog.CatalogRepository`, passed in
`ToolContext.catalog`) and always for `ToolContext.user_id`, the server's identity.
`open_project` / `open_document` only check that the target is the user's and return a
navigation instruction: the UI performs it (client-side tools).

The catalog records where things are; when `ToolContext.root_dir` is set (the server's
contents root), the create tools also make the folder or the empty `*.solid.json` file.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from ..cad import CadDocument
from .registry import Navigation, ToolContext, ToolFailure, ToolRegistry, ToolResult, ToolSpec


class Catalog(Protocol):
    """The part of `store.catalog.CatalogRepository` these tools use."""

    async def list_workspaces(self, user_id: str) -> list[Any]: ...
    async def create_workspace(self, user_id: str, name: str) -> Any: ...
    async def list_projects(
        self, user_id: str, workspace_id: uuid.UUID | None = None
    ) -> list[Any]: ...
    async def create_project(self, user_id: str, workspace_id: uuid.UUID, name: str) -> Any: ...
    async def get_project(self, user_id: str, project_id: uuid.UUID) -> Any: ...
    async def list_documents(
        self, user_id: str, project_id: uuid.UUID | None = None
    ) -> list[Any]: ...
    async def create_document(
        self, user_id: str, name: str, project_id: uuid.UUID | None = None
    ) -> Any: ...
    async def get_document(self, user_id: str, document_id: uuid.UUID) -> Any: ...


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _entry(item: Any) -> dict[str, Any]:
    """A catalog entry as JSON-ready data (the owner is always the caller: left out)."""
    out: dict[str, Any] = {}
    for key, value in dataclasses.asdict(item).items():
        if key == "owner_id":
            continue
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out


def _catalog(ctx: ToolContext) -> Catalog:
    catalog: Catalog = ctx.catalog
    return catalog


async def _guard(coro: Any) -> Any:
    """Catalog errors (bad names, conflicts, unknown ids) become tool errors."""
    try:
        return await coro
    except ValueError as exc:  # store.catalog.CatalogError and its subclasses
        code = "not_found" if type(exc).__name__ == "CatalogNotFoundError" else "invalid_arguments"
        raise ToolFailure(code, str(exc)) from None


def _inside(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ToolFailure("invalid_arguments", f"{relative!r} is outside the contents root")
    return target


class NoArgs(Args):
    pass


async def list_workspaces(args: NoArgs, ctx: ToolContext) -> dict[str, Any]:
    items = await _guard(_catalog(ctx).list_workspaces(ctx.user_id))
    return {"workspaces": [_entry(w) for w in items]}


class CreateWorkspaceArgs(Args):
    name: str = Field(min_length=1, max_length=120)


async def create_workspace(args: CreateWorkspaceArgs, ctx: ToolContext) -> dict[str, Any]:
    workspace = await _guard(_catalog(ctx).create_workspace(ctx.user_id, args.name))
    if ctx.root_dir is not None:
        _inside(ctx.root_dir, workspace.path).mkdir(parents=True, exist_ok=True)
    return {"workspace": _entry(workspace)}


class ListProjectsArgs(Args):
    workspace_id: uuid.UUID | None = Field(None, description="omit for all your projects")


async def list_projects(args: ListProjectsArgs, ctx: ToolContext) -> dict[str, Any]:
    items = await _guard(_catalog(ctx).list_projects(ctx.user_id, args.workspace_id))
    return {"projects": [_entry(p) for p in items]}


class CreateProjectArgs(Args):
    workspace_id: uuid.UUID
    name: str = Field(min_length=1, max_length=120)


async def create_project(args: CreateProjectArgs, ctx: ToolContext) -> dict[str, Any]:
    project = await _guard(_catalog(ctx).create_project(ctx.user_id, args.workspace_id, args.name))
    if ctx.root_dir is not None:
        _inside(ctx.root_dir, project.path).mkdir(parents=True, exist_ok=True)
    return {"project": _entry(project)}


class ListDocumentsArgs(Args):
    project_id: uuid.UUID | None = Field(None, description="omit for all your documents")


async def list_documents(args: ListDocumentsArgs, ctx: ToolContext) -> dict[str, Any]:
    items = await _guard(_catalog(ctx).list_documents(ctx.user_id, args.project_id))
    return {"documents": [_entry(d) for d in items]}


class CreateDocumentArgs(Args):
    name: str = Field(min_length=1, max_length=120)
    project_id: uuid.UUID | None = None


async def create_document(args: CreateDocumentArgs, ctx: ToolContext) -> dict[str, Any]:
    document = await _guard(_catalog(ctx).create_document(ctx.user_id, args.name, args.project_id))
    if ctx.root_dir is not None:
        target = _inside(ctx.root_dir, document.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            CadDocument(document.name).save(target)
    return {"document": _entry(document)}


class OpenProjectArgs(Args):
    project_id: uuid.UUID


async def open_project(args: OpenProjectArgs, ctx: ToolContext) -> ToolResult:
    project = await _guard(_catalog(ctx).get_project(ctx.user_id, args.project_id))
    if project is None:
        raise ToolFailure("not_found", f"no project {args.project_id} among your projects")
    return ToolResult(
        tool="open_project",
        ok=True,
        content={"project": _entry(project)},
        navigation=Navigation(kind="project", id=str(project.id), name=project.name),
    )


class OpenDocumentArgs(Args):
    document_id: uuid.UUID


async def open_document(args: OpenDocumentArgs, ctx: ToolContext) -> ToolResult:
    document = await _guard(_catalog(ctx).get_document(ctx.user_id, args.document_id))
    if document is None:
        raise ToolFailure("not_found", f"no document {args.document_id} among your documents")
    return ToolResult(
        tool="open_document",
        ok=True,
        content={"document": _entry(document)},
        navigation=Navigation(kind="document", id=str(document.id), name=document.name),
    )


def _spec(
    name: str, description: str, args: type[BaseModel], handler: Any, client_side: bool = False
) -> ToolSpec:
    return ToolSpec(name, description, args, handler, client_side=client_side, needs_catalog=True)


DASHBOARD_TOOLS: list[ToolSpec] = [
    _spec("list_workspaces", "List your workspaces.", NoArgs, list_workspaces),
    _spec(
        "create_workspace",
        "Create a workspace (a top-level folder).",
        CreateWorkspaceArgs,
        create_workspace,
    ),
    _spec(
        "list_projects",
        "List your projects, optionally in one workspace.",
        ListProjectsArgs,
        list_projects,
    ),
    _spec(
        "create_project",
        "Create a project (a folder) in a workspace.",
        CreateProjectArgs,
        create_project,
    ),
    _spec(
        "list_documents",
        "List your CAD documents, optionally in one project.",
        ListDocumentsArgs,
        list_documents,
    ),
    _spec(
        "create_document",
        "Create an empty CAD document (name.solid.json) in a project.",
        CreateDocumentArgs,
        create_document,
    ),
    _spec("open_project", "Open a project in the UI.", OpenProjectArgs, open_project, True),
    _spec(
        "open_document", "Open a CAD document in the editor.", OpenDocumentArgs, open_document, True
    ),
]


def dashboard_registry() -> ToolRegistry:
    """A registry holding the dashboard tools."""
    return ToolRegistry(DASHBOARD_TOOLS)
