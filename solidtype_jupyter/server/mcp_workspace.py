"""One MCP session's workspace inside the Jupyter server (``{base}solidtype/mcp``).

The document is the server's own copy, the one the chat's editor sessions edit
(``ChatService``'s open documents): an MCP edit and a chat edit of the same file go through
one object, each save writes what both did, and the viewer sees every save as the chat's
edits are seen. CAD work never runs in the server's process (CadQuery would hold the
interpreter lock, and with it every request): the editor tools run in an agent of the
server's ``AgentRuntimes`` (a kernel by default, as the chat's), whose changes come back as
Yjs updates merged into the server's copy; the copy is then saved, link-safe, after the
user's ``contents`` write permission is asked again. That agent is the MCP client's
presence: it is shown in the document's collaboration room under the client's own name
(``clientInfo``) while the session is open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path
from typing import Any, Literal

from tornado import web

from ..agent.chat_service import DocumentRefused, OpenDocument
from ..cad import CadDocument, CadError
from ..mcp.workspace import DOCUMENT_SUFFIX, Workspace
from ..tools import ToolContext, ToolResult
from ..tools.registry import ApprovalLevel

log = logging.getLogger(__name__)

_NO_ACCESS = "you may not {} files (jupyter_server's `contents` permission)"
#: Seconds beyond the tool time budget before a call into the agent is given up.
_AGENT_GRACE = 30.0


class Access:
    """The permissions of the latest request of the session (``ContentsAccess``)."""

    def __init__(self, contents: Any) -> None:
        self.contents = contents

    async def allowed(self, action: Literal["read", "write"]) -> bool:
        return bool(await self.contents.allowed(action))


class ServerWorkspace(Workspace):
    """``app``: the ``SolidTypeApp`` (its chat service, agents, presence, catalog)."""

    def __init__(
        self,
        app: Any,
        *,
        user_id: str,
        client_name: str,
        access: Access,
        overrides: dict[str, ApprovalLevel] | None = None,
    ) -> None:
        super().__init__(overrides=overrides)
        self.app = app
        self.user_id = user_id
        self.client_name = client_name
        self.access = access
        self.session_key = f"mcp-{uuid.uuid4().hex}"
        root = getattr(app.serverapp, "root_dir", None)
        self.root = Path(root) if root else Path.cwd()
        self._opened: OpenDocument | None = None  # the server's copy (the chat's too)
        self._client: Any = None  # agent.client.AgentClient
        self._synced: str | None = None
        self._lock = asyncio.Lock()
        self._root_spellings = sorted(
            {str(self.root), str(self.root.resolve())}, key=len, reverse=True
        )

    # --- the document -------------------------------------------------------------------

    async def open(self, path: str) -> ToolResult:
        from ..agent.client import AgentClient
        from .documents import document_location

        name = "open_document"
        if self.document_path is not None:
            return ToolResult.failure(
                name,
                "invalid_arguments",
                f"{self.document_path} is already open; one document per MCP session",
            )
        for action in ("read", "write"):
            if not await self.access.allowed(action):
                return ToolResult.failure(name, "not_found", _NO_ACCESS.format(action))
        if not path.endswith(DOCUMENT_SUFFIX):
            return ToolResult.failure(
                name, "invalid_arguments", f"{path!r} is not a {DOCUMENT_SUFFIX} file"
            )
        try:
            file = await asyncio.to_thread(
                document_location, self.root, path, folder_must_exist=True
            )
        except web.HTTPError as exc:
            return ToolResult.failure(name, "not_found", exc.log_message or f"no document {path}")
        chat = self.app.chat
        opened = chat.shared_document(file) if chat is not None else None
        if opened is None:
            try:
                document = await asyncio.to_thread(self._load_or_create, file)
            except (CadError, OSError) as exc:
                reason = getattr(exc, "strerror", None) or str(exc)
                return ToolResult.failure(name, "cad_error", f"{path} cannot be opened: {reason}")
            relative = file.relative_to(self.root.resolve()).as_posix()
            opened = OpenDocument(document, file, relative, self.root)
            if chat is not None:  # a chat run may have opened it while this one loaded
                opened = chat.share_document(opened)
        self._opened = opened
        self.document_path = opened.relative
        app = self.app
        self._client = AgentClient(
            app.agents,
            self.session_key,
            user_id=self.user_id,
            context="editor",
            model=str(app.model or ""),
            root_dir=self.root,
            tool_modules=list(app.agent_tool_modules),
            approval_overrides=dict(app.approval_overrides),
            tool_timeout=app.tool_timeout,
        )
        app.agents.documents[self.session_key] = opened.relative
        try:
            await self._agent()
        except Exception as exc:  # no kernel, the cap on agents: said, the session stays usable
            log.warning("solidtype mcp: the agent of %s did not start: %s", self.session_key, exc)
        return ToolResult(
            tool=name,
            ok=True,
            content={
                "document": {"path": opened.relative, "name": opened.document.name},
                "features": len(opened.document.features),
                "tools": self._editor.names(),
            },
        )

    @property
    def _copy(self) -> OpenDocument:
        if self._opened is None:
            raise CadError("no CAD document is open; call open_document first")
        return self._opened

    def _load_or_create(self, file: Path) -> CadDocument:
        if file.exists() and file.stat().st_size > 0:
            # Not built here: the agent builds its replica in its own process.
            return CadDocument.load(file, build=False)
        document = CadDocument(file.name.removesuffix(DOCUMENT_SUFFIX))
        document.save(file, root=self.root)
        return document

    async def _agent(self) -> Any:
        """The session's agent, started (and shown under the client's name) if need be."""
        client = self._client
        fresh = client.runtime is None or not client.runtime.alive
        if fresh:
            await client.spawn()
            self._synced = None
            self._present(client.runtime)
        document = self._copy.document
        if self._synced != document.revision:  # changed by the chat since: the truth is ours
            await client.sync_document(document)
            self._synced = document.revision
        return client

    def _present(self, runtime: Any) -> None:
        presence = getattr(self.app, "presence", None)
        if presence is None or runtime is None:
            return
        words = [w for w in self.client_name.replace("-", " ").split() if w]
        initials = "".join(w[0] for w in words[:2]).upper() or "MC"
        identity = runtime.identity.model_copy(
            update={"name": self.client_name, "initials": initials[:3]}
        )
        # The runtime reports under this identity from now on (its state changes, its end).
        runtime.identity = identity
        presence.agent_gone(self.session_key)
        presence.agent_changed(identity, runtime.state, document=self.document_path)

    # --- tools -------------------------------------------------------------------------

    async def execute_editor(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if self.level(name) != "auto" and not await self.access.allowed("write"):
            return ToolResult.failure(
                name,
                "cad_error",
                f"{self.document_path} is not changed: " + _NO_ACCESS.format("write"),
            )
        if not await self.access.allowed("read"):
            return ToolResult.failure(name, "cad_error", _NO_ACCESS.format("read"))
        return await self._run_in_agent(name, arguments)

    def _follow_shared_copy(self) -> None:
        """Stay on the one server copy: a chat run that could not save drops its copy (it
        reopens the file next time); whichever copy is registered now is the one to edit."""
        chat = self.app.chat
        assert self._opened is not None
        if chat is None:
            return
        current = chat.share_document(self._opened)
        if current is not self._opened:
            self._opened = current
            self._synced = None  # the agent's replica is of the other copy

    async def _run_in_agent(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        budget = self.app.tool_timeout or 3600.0
        async with self._lock:
            self._follow_shared_copy()
            try:
                client = await self._agent()
                event = await client.execute_tool(name, arguments, limit=budget + _AGENT_GRACE)
            except Exception as exc:
                return ToolResult.failure(
                    name, "internal_error", f"the agent could not run {name}: {exc}"
                )
            self._synced = self._copy.document.revision
            try:
                await self._copy.save_if_changed(self.access, True)
            except DocumentRefused as exc:
                return ToolResult.failure(name, "cad_error", exc.message)
        if isinstance(event.result, dict):
            result = ToolResult.model_validate(event.result)
        else:
            result = ToolResult.failure(name, "internal_error", event.error or "no result")
        return self._without_server_paths(result)

    async def execute_dashboard(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        # The create tools make folders and files only for a user who may write files.
        writes = await self.access.allowed("write")
        context = ToolContext(
            user_id=self.user_id,
            catalog=self.app.catalog,
            root_dir=self.root if writes else None,
        )
        return self._without_server_paths(await self._dashboard.execute(name, arguments, context))

    def _without_server_paths(self, result: ToolResult) -> ToolResult:
        text = original = result.model_dump_json()
        for root in self._root_spellings:
            text = text.replace(json.dumps(root.rstrip("/") + "/")[1:-1], "")
            text = text.replace(json.dumps(root)[1:-1], ".")
        return result if text == original else ToolResult.model_validate_json(text)

    # --- resources: the session's document ---------------------------------------------

    def _check(self, path: str) -> None:
        if path != self.document_path:
            raise CadError(
                f"only the document this MCP session opened ({self.document_path or 'none yet'}) "
                "can be read here"
            )

    async def document_json(self, path: str) -> str:
        self._check(path)
        if not await self.access.allowed("read"):
            raise CadError(_NO_ACCESS.format("read"))
        self._follow_shared_copy()  # the chat may have reopened the file since
        return str(self._copy.document.to_json())

    async def _through_agent(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if not await self.access.allowed("read"):
            raise CadError(_NO_ACCESS.format("read"))
        result = await self._run_in_agent(name, arguments)
        if not result.ok:
            assert result.error is not None
            raise CadError(result.error.message)
        return result

    async def document_script(self, path: str) -> str:
        self._check(path)
        result = await self._through_agent("export", {"format": "script"})
        return str(result.content["script"])

    async def document_png(self, path: str) -> bytes:
        import base64

        self._check(path)
        result = await self._through_agent("render_view", {"view": "iso"})
        return base64.b64decode(result.images[0].data_base64)

    async def close(self) -> None:
        """The session ended: its agent stops and leaves the document's room."""
        agents = getattr(self.app, "agents", None)
        if agents is None:
            return
        agents.documents.pop(self.session_key, None)
        try:
            await agents.terminate(self.session_key)
        except Exception:
            log.exception("solidtype mcp: stopping the agent of %s failed", self.session_key)
        presence = getattr(self.app, "presence", None)
        if presence is not None:
            presence.agent_gone(self.session_key)
