"""Workspaces, projects and documents: the places chat sessions point at.

Jupyter already has them: a workspace and a project are folders of the server's contents tree, a
document is a ``*.solid.json`` file. This catalog gives each a stable id and an owner, and keeps
its contents path (relative to the server root, as the contents API spells it). Renames and
deletions in the tree reach it through ``move_path``/``forget_path`` (the server calls them from
the contents manager's events), so a renamed document keeps its sessions.

Creating the folder or file itself is the caller's part (through the contents manager); the
catalog records where it is and who owns it.
"""

from __future__ import annotations

import posixpath
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from .schema import documents, projects, utc_now, workspaces
from .threaded import ThreadedDatabase

DOCUMENT_SUFFIX = ".solid.json"
NAME_MAX_LENGTH = 120


class CatalogError(ValueError):
    """A catalog request that cannot be carried out; the message says why."""


class CatalogNotFoundError(CatalogError):
    pass


class CatalogConflictError(CatalogError):
    pass


@dataclass(frozen=True, slots=True)
class Workspace:
    id: uuid.UUID
    owner_id: str
    name: str
    path: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: uuid.UUID
    owner_id: str
    workspace_id: uuid.UUID
    name: str
    path: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Document:
    id: uuid.UUID
    owner_id: str
    project_id: uuid.UUID | None
    name: str
    path: str
    created_at: datetime
    updated_at: datetime


Entry = TypeVar("Entry", Workspace, Project, Document)


def check_name(name: str) -> str:
    """A workspace, project or document name that is also a safe single path segment."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name or len(name) > NAME_MAX_LENGTH:
        raise CatalogError(f"a name has 1 to {NAME_MAX_LENGTH} characters")
    if "/" in name or "\\" in name or name.startswith("."):
        raise CatalogError(f"{name!r}: a name cannot contain / or \\ or start with a dot")
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise CatalogError(f"{name!r}: a name cannot contain control characters")
    return name


def normalize_path(path: str) -> str:
    """A contents API path: forward slashes, no leading or trailing slash, no ``..``."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise CatalogError(f"{path!r} is not a path inside the server's contents tree")
    return "/".join(parts)


def document_name(path: str) -> str:
    base = posixpath.basename(path)
    return base[: -len(DOCUMENT_SUFFIX)] if base.endswith(DOCUMENT_SUFFIX) else base


def _under(column: sa.Column[Any], path: str) -> sa.ColumnElement[bool]:
    # A prefix test without LIKE, so "_" and "%" in folder names need no escaping.
    prefix = path + "/"
    return sa.func.substr(column, 1, len(prefix)) == prefix


class CatalogRepository:
    """Async list/create/get of a user's workspaces, projects and documents."""

    def __init__(self, database: ThreadedDatabase) -> None:
        self.database = database

    # ------------------------------------------------------------------ workspaces

    async def list_workspaces(self, user_id: str) -> list[Workspace]:
        query = (
            sa.select(workspaces)
            .where(workspaces.c.owner_id == user_id)
            .order_by(workspaces.c.name, workspaces.c.id)
        )
        return await self._all(query, Workspace)

    async def create_workspace(
        self, user_id: str, name: str, *, path: str | None = None
    ) -> Workspace:
        """A workspace for the folder ``path`` (default: a top-level folder named ``name``)."""
        name = check_name(name)
        now = utc_now()
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "owner_id": user_id,
            "name": name,
            "path": normalize_path(path if path is not None else name),
            "created_at": now,
            "updated_at": now,
        }
        return await self._insert(workspaces, values, Workspace, "workspace")

    async def get_workspace(self, user_id: str, workspace_id: uuid.UUID) -> Workspace | None:
        return await self._get(workspaces, workspace_id, user_id, Workspace)

    # ------------------------------------------------------------------ projects

    async def list_projects(
        self, user_id: str, workspace_id: uuid.UUID | None = None
    ) -> list[Project]:
        query = sa.select(projects).where(projects.c.owner_id == user_id)
        if workspace_id is not None:
            query = query.where(projects.c.workspace_id == workspace_id)
        return await self._all(query.order_by(projects.c.name, projects.c.id), Project)

    async def create_project(self, user_id: str, workspace_id: uuid.UUID, name: str) -> Project:
        """A project: the folder ``name`` inside the workspace's folder."""
        name = check_name(name)
        workspace = await self.get_workspace(user_id, workspace_id)
        if workspace is None:
            raise CatalogNotFoundError(f"no workspace {workspace_id} among your workspaces")
        now = utc_now()
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "owner_id": user_id,
            "workspace_id": workspace.id,
            "name": name,
            "path": posixpath.join(workspace.path, name),
            "created_at": now,
            "updated_at": now,
        }
        return await self._insert(projects, values, Project, "project")

    async def get_project(self, user_id: str, project_id: uuid.UUID) -> Project | None:
        return await self._get(projects, project_id, user_id, Project)

    # ------------------------------------------------------------------ documents

    async def list_documents(
        self, user_id: str, project_id: uuid.UUID | None = None
    ) -> list[Document]:
        query = sa.select(documents).where(documents.c.owner_id == user_id)
        if project_id is not None:
            query = query.where(documents.c.project_id == project_id)
        return await self._all(query.order_by(documents.c.name, documents.c.id), Document)

    async def create_document(
        self, user_id: str, name: str, project_id: uuid.UUID | None = None
    ) -> Document:
        """A document: ``<name>.solid.json`` in the project's folder (or the root)."""
        name = check_name(name)
        if name.endswith(DOCUMENT_SUFFIX):
            name = name[: -len(DOCUMENT_SUFFIX)]
        folder = ""
        if project_id is not None:
            project = await self.get_project(user_id, project_id)
            if project is None:
                raise CatalogNotFoundError(f"no project {project_id} among your projects")
            folder = project.path
        now = utc_now()
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "owner_id": user_id,
            "project_id": project_id,
            "name": name,
            "path": posixpath.join(folder, name + DOCUMENT_SUFFIX),
            "created_at": now,
            "updated_at": now,
        }
        return await self._insert(documents, values, Document, "document")

    async def register_document(self, user_id: str, path: str) -> Document:
        """The document at ``path`` (an existing ``*.solid.json`` file), given an id the first
        time it is seen; the same id every later time."""
        path = normalize_path(path)
        if not path.endswith(DOCUMENT_SUFFIX):
            raise CatalogError(f"{path!r}: a document is a {DOCUMENT_SUFFIX} file")
        now = utc_now()
        owner_path = (documents.c.owner_id == user_id) & (documents.c.path == path)

        def work(connection: sa.Connection) -> Document:
            row = connection.execute(sa.select(documents).where(owner_path)).mappings().first()
            if row is None:
                # The document's project is the catalogued folder that holds it, if any.
                project_id = connection.execute(
                    sa.select(projects.c.id).where(
                        projects.c.owner_id == user_id,
                        projects.c.path == posixpath.dirname(path),
                    )
                ).scalar()
                values: dict[str, Any] = {
                    "id": uuid.uuid4(),
                    "owner_id": user_id,
                    "project_id": project_id,
                    "name": document_name(path),
                    "path": path,
                    "created_at": now,
                    "updated_at": now,
                }
                connection.execute(sa.insert(documents).values(values))
                return Document(**values)
            return Document(**row)

        try:
            return await self.database.transaction(work)
        except sa.exc.IntegrityError:
            # Registered by a concurrent call between our look-up and insert: that row wins.
            found = await self._all(sa.select(documents).where(owner_path), Document)
            return found[0]

    async def get_document(self, user_id: str, document_id: uuid.UUID) -> Document | None:
        return await self._get(documents, document_id, user_id, Document)

    # ------------------------------------------------------------------ contents tree events

    async def move_path(self, old_path: str, new_path: str, *, owner_id: str | None = None) -> int:
        """A file or folder of the contents tree was renamed: everything at or under
        ``old_path`` now lives under ``new_path``. Returns how many entries moved.

        ``owner_id`` limits the move to one owner's entries: a server whose tree is one user's
        own (JupyterHub) must not move another user's entries with the same relative path.
        """
        old_path, new_path = normalize_path(old_path), normalize_path(new_path)
        now = utc_now()

        def work(connection: sa.Connection) -> int:
            moved = 0
            for table in (workspaces, projects, documents):
                owner = sa.true() if owner_id is None else table.c.owner_id == owner_id
                name = (
                    document_name(new_path) if table is documents else posixpath.basename(new_path)
                )
                exact = connection.execute(
                    sa.update(table)
                    .where(owner, table.c.path == old_path)
                    .values(path=new_path, name=name, updated_at=now)
                )
                below = connection.execute(
                    sa.update(table)
                    .where(owner, _under(table.c.path, old_path))
                    .values(
                        path=sa.literal(new_path, sa.Text()).concat(
                            sa.func.substr(table.c.path, len(old_path) + 1)
                        ),
                        updated_at=now,
                    )
                )
                moved += exact.rowcount + below.rowcount
            return moved

        return await self.database.transaction(work)

    async def forget_path(self, path: str, *, owner_id: str | None = None) -> int:
        """A file or folder was deleted: drop the entries at or under ``path``. Sessions that
        pointed at them keep existing, with the reference cleared (``ON DELETE SET NULL``)."""
        path = normalize_path(path)

        def work(connection: sa.Connection) -> int:
            removed = 0
            for table in (documents, projects, workspaces):
                owner = sa.true() if owner_id is None else table.c.owner_id == owner_id
                result = connection.execute(
                    sa.delete(table).where(
                        owner, sa.or_(table.c.path == path, _under(table.c.path, path))
                    )
                )
                removed += result.rowcount
            return removed

        return await self.database.transaction(work)

    # ------------------------------------------------------------------ helpers

    async def _all(self, query: sa.Select[Any], kind: type[Entry]) -> list[Entry]:
        def work(connection: sa.Connection) -> list[Entry]:
            return [kind(**row) for row in connection.execute(query).mappings()]

        return await self.database.transaction(work)

    async def _get(
        self, table: sa.Table, item_id: uuid.UUID, user_id: str, kind: type[Entry]
    ) -> Entry | None:
        query = sa.select(table).where(table.c.id == item_id, table.c.owner_id == user_id)
        found = await self._all(query, kind)
        return found[0] if found else None

    async def _insert(
        self, table: sa.Table, values: dict[str, Any], kind: type[Entry], label: str
    ) -> Entry:
        def work(connection: sa.Connection) -> None:
            connection.execute(sa.insert(table).values(values))

        try:
            await self.database.transaction(work)
        except sa.exc.IntegrityError as exc:
            raise CatalogConflictError(f"you already have a {label} at {values['path']!r}") from exc
        return kind(**values)
