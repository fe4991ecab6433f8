"""What one MCP connection works on: no document yet (the dashboard tools and
``open_document``), then one CAD document (the editor tools).

``Workspace`` holds what both transports share (which tools are served, the
``open_document`` tool, the approval levels); ``LocalWorkspace`` is the stdio one: tools run
in this process (CadQuery in worker threads; the process is the client's own), the document
is saved after every change, link-safe, as the rest of the project saves (a new exclusively
created file beside it, renamed over it, never outside the root).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..cad import CadDocument, CadError
from ..cad.document import document_file
from ..tools import ToolContext, ToolRegistry, ToolResult, dashboard_registry, editor_registry
from ..tools.registry import ApprovalLevel, ToolSpec, approval_level

DOCUMENT_SUFFIX = ".solid.json"


class OpenDocumentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1,
        max_length=1024,
        description="the *.solid.json to edit, relative to the server's root folder "
        "(created empty when missing, if its folder exists)",
    )


OPEN_DOCUMENT_DESCRIPTION = (
    "Open a CAD document (a *.solid.json file) to work on; the CAD editor tools then act on "
    "it. One document per connection."
)


#: Where MCP's tool differs from the chat's of the same name: the chat's open_document only
#: navigates (auto, read-only), MCP's creates the file when it is missing (additive: notify).
MCP_LEVELS: dict[str, ApprovalLevel] = {"open_document": "notify"}


async def _not_run_here(args: Any, ctx: ToolContext) -> dict[str, Any]:
    raise AssertionError("open_document is run by the workspace, not the registry")


def dashboard_tools() -> ToolRegistry:
    """The dashboard's tools with ``open_document(path)`` in place of the UI's navigation
    tools (``open_project``, and ``open_document`` by catalog id, which the chat's UI runs)."""
    registry = ToolRegistry()
    for name in dashboard_registry().names():
        spec = dashboard_registry().spec(name)
        if not spec.client_side:
            registry.register(spec)
    registry.register(
        ToolSpec("open_document", OPEN_DOCUMENT_DESCRIPTION, OpenDocumentArgs, _not_run_here)
    )
    return registry


@functools.cache
def _shared_editor() -> ToolRegistry:
    """The editor tools, once per process: specs hold no state, and one registry per
    connection would only repeat their schemas."""
    return editor_registry()


@functools.cache
def _shared_dashboard() -> ToolRegistry:
    return dashboard_tools()


class Workspace(ABC):
    """One connection's tools and document. Subclasses say how tools run and where the
    document lives (``execute_editor``, ``execute_dashboard``, ``open``)."""

    def __init__(self, *, overrides: dict[str, ApprovalLevel] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.document_path: str | None = None  # the open document, as the client names it
        self._editor = _shared_editor()
        self._dashboard = _shared_dashboard()
        # Clients call tools in parallel: two open_document calls at once must not both
        # open (two agents, the second document silently replacing the first).
        self._opening = asyncio.Lock()

    def registry(self) -> ToolRegistry:
        """The tools served now: the editor's with a document open, else the dashboard's."""
        return self._editor if self.document_path is not None else self._dashboard

    def level(self, name: str) -> ApprovalLevel:
        return self.overrides.get(name, MCP_LEVELS.get(name, approval_level(name)))

    def levels(self) -> dict[str, ApprovalLevel]:
        return {name: self.level(name) for name in self.registry().names()}

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if self.document_path is None and name == "open_document":
            try:
                args = OpenDocumentArgs.model_validate(arguments)
            except ValueError as exc:
                return ToolResult.failure(name, "invalid_arguments", f"invalid arguments: {exc}")
            async with self._opening:  # open() refuses when one is open by now
                return await self.open(args.path)
        if name not in self.registry():
            if self.document_path is None and name in self._editor:
                return ToolResult.failure(
                    name, "no_document", "no CAD document is open; call open_document first"
                )
            return await self.registry().execute(name, arguments, ToolContext(user_id="-"))
        if self.document_path is None:
            return await self.execute_dashboard(name, arguments)
        return await self.execute_editor(name, arguments)

    @abstractmethod
    async def open(self, path: str) -> ToolResult: ...

    @abstractmethod
    async def execute_editor(self, name: str, arguments: dict[str, Any]) -> ToolResult: ...

    @abstractmethod
    async def execute_dashboard(self, name: str, arguments: dict[str, Any]) -> ToolResult: ...

    @abstractmethod
    async def document_json(self, path: str) -> str:
        """The document at ``path`` as saved (the feature tree JSON)."""
        ...

    @abstractmethod
    async def document_script(self, path: str) -> str: ...

    @abstractmethod
    async def document_png(self, path: str) -> bytes: ...

    async def close(self) -> None:
        return None


def _resolve(root: Path, raw: str) -> Path:
    """The real location of the document ``raw`` under ``root`` (``CadError`` when it is
    not a ``*.solid.json`` under it)."""
    from ..cad import DocumentError

    if not raw.endswith(DOCUMENT_SUFFIX):
        raise DocumentError(f"{raw!r} is not a {DOCUMENT_SUFFIX} file")
    path = document_file(root, raw)
    if path.is_dir():
        raise DocumentError(f"{raw!r} is a folder, not a {DOCUMENT_SUFFIX} file")
    return path


def _load_or_create(path: Path, root: Path, *, build: bool) -> CadDocument:
    if path.exists() and path.stat().st_size > 0:
        return CadDocument.load(path, build=build)
    if not path.parent.is_dir():
        from ..cad import DocumentError

        folder = path.parent.relative_to(root).as_posix()
        raise DocumentError(f"no folder {folder!r} for {path.name!r}: create the folder first")
    document = CadDocument(path.name.removesuffix(DOCUMENT_SUFFIX))
    document.save(path, root=root)
    return document


def script_of_file(path: str) -> str:
    """The CadQuery script of the document saved at ``path`` (builds it: a worker's job)."""
    return CadDocument.load(path).to_script()


def _picture(document: CadDocument | None, root: Path, path: str) -> bytes:
    if document is None:
        document = CadDocument.load(_resolve(root, path))
    if not document.bodies:
        raise CadError(f"{path} has no solid to picture yet")
    return document.render("iso", 800, 600)


class LocalWorkspace(Workspace):
    """The stdio server's workspace: files under ``root`` (the current folder), tools run in
    this process. ``catalog``: the dashboard tools' catalog (none: they are refused)."""

    def __init__(
        self,
        root: Path,
        *,
        user_id: str,
        catalog: Any = None,
        overrides: dict[str, ApprovalLevel] | None = None,
    ) -> None:
        super().__init__(overrides=overrides)
        self.root = root.resolve()
        self.user_id = user_id
        self.catalog = catalog
        self.document: CadDocument | None = None
        self._file: Path | None = None
        self._saved: str | None = None
        self._lock = asyncio.Lock()  # one tool call at a time on the document

    async def open(self, path: str) -> ToolResult:
        if self.document_path is not None:
            return ToolResult.failure(
                "open_document",
                "invalid_arguments",
                f"{self.document_path} is already open; one document per connection",
            )
        try:
            file = await asyncio.to_thread(_resolve, self.root, path)
            document = await asyncio.to_thread(_load_or_create, file, self.root, build=True)
        except CadError as exc:
            return ToolResult.failure("open_document", "not_found", str(exc))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            return ToolResult.failure("open_document", "not_found", f"{path}: {reason}")
        self.document, self._file, self._saved = document, file, document.revision
        self.document_path = file.relative_to(self.root).as_posix()
        if self.catalog is not None:
            with contextlib.suppress(Exception):  # the catalog is a convenience here
                await self.catalog.register_document(self.user_id, self.document_path)
        return ToolResult(
            tool="open_document",
            ok=True,
            content={
                "document": {"path": self.document_path, "name": document.name},
                "features": len(document.features),
                "tools": self._editor.names(),
            },
        )

    async def execute_editor(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        assert self.document is not None and self._file is not None
        async with self._lock:
            context = ToolContext(
                user_id=self.user_id, document=self.document, workdir=self._file.parent
            )
            result = await self._editor.execute(name, arguments, context)
            await self._save_if_changed()
        return result

    async def _save_if_changed(self) -> None:
        assert self.document is not None and self._file is not None
        revision = self.document.revision
        if revision == self._saved:
            return
        self._saved = revision
        await asyncio.to_thread(self.document.save, self._file, root=self.root)

    async def execute_dashboard(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return await self._dashboard.execute(
            name,
            arguments,
            ToolContext(user_id=self.user_id, catalog=self.catalog, root_dir=self.root),
        )

    def _current(self, path: str) -> bool:
        return self.document is not None and path == self.document_path

    async def document_json(self, path: str) -> str:
        if self._current(path):
            assert self.document is not None
            return self.document.to_json()
        file = await asyncio.to_thread(_resolve, self.root, path)
        return await asyncio.to_thread(file.read_text, encoding="utf-8")

    async def document_script(self, path: str) -> str:
        if self._current(path):
            assert self.document is not None
            return await asyncio.to_thread(self.document.to_script)
        file = await asyncio.to_thread(_resolve, self.root, path)
        return await asyncio.to_thread(script_of_file, str(file))

    async def document_png(self, path: str) -> bytes:
        current = self.document if self._current(path) else None
        return await asyncio.to_thread(_picture, current, self.root, path)
