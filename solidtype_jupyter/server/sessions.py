"""Chat session routes under ``{base}solidtype/api/ai/sessions``.

``GET`` lists the user's sessions (``?context=&limit=``), ``POST`` creates one; ``GET``,
``PATCH`` and ``DELETE`` on ``/{id}`` read, rename or change the status, and delete (with the
session's durable stream); ``POST /{id}/archive`` archives. The owner is always the server's
identity of the caller: another user's session answers 404 exactly like a missing one.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from jupyter_server.auth.decorator import authorized
from pydantic import BaseModel, ValidationError
from tornado import web

from ..protocol.sessions import (
    ChatContext,
    ChatSessionList,
    ChatSessionSchema,
    CreateChatSessionRequest,
    ListChatSessionsQuery,
    UpdateChatSessionRequest,
)
from ..store.sessions import ChatSession, SessionReferenceError
from .base import ModelT, SolidTypeAPIHandler
from .documents import ContentsAccess, document_location

SESSIONS_ROUTE = "ai/sessions"
SESSION_ID = r"([^/]+)"


def session_json(session: ChatSession) -> ChatSessionSchema:
    return ChatSessionSchema.model_validate(session, from_attributes=True)


class _SessionsBase(SolidTypeAPIHandler):
    async def catalogued_document(self, path: str) -> uuid.UUID:
        """The catalogue id of the user's ``*.solid.json`` at ``path`` (registered on first
        use, so a side panel can start an editor chat on the file it shows)."""
        from ..store.catalog import CatalogError

        catalog = getattr(self.extensionapp, "catalog", None)
        if catalog is None:
            raise web.HTTPError(503, "the document catalogue is not available")
        try:
            document = await catalog.register_document(self.username, path)
        except CatalogError as exc:
            raise web.HTTPError(422, str(exc)) from None
        return uuid.UUID(str(document.id))

    async def check_document_access(self) -> None:
        """403 unless the caller may read and write files: an editor session's agent reads
        its document and saves every change (each save asks again, see ``ContentsAccess``)."""
        access = ContentsAccess(self)
        if not (await access.allowed("read") and await access.allowed("write")):
            raise web.HTTPError(
                403,
                "an editor session reads and saves its document: that needs permission to "
                "read and write files (jupyter_server's `contents`), which this account lacks",
            )

    def session_id(self, raw: str) -> uuid.UUID:
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise web.HTTPError(400, f"{raw!r} is not a session id (a UUID)") from None

    def not_found(self, session_id: uuid.UUID) -> web.HTTPError:
        # The same answer for a missing session and another user's: ids cannot be probed.
        return web.HTTPError(404, f"no session {session_id}")

    def parse_query(self, model: type[ModelT]) -> ModelT:
        """Validate the query string like a body: 422 with the reasons."""
        values: dict[str, Any] = {}
        for name, raw_values in self.request.query_arguments.items():
            if len(raw_values) != 1:
                raise web.HTTPError(400, f"query parameter {name!r} is given more than once")
            values[name] = raw_values[0].decode("utf-8", "replace")
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            self._invalid("query string is invalid", exc)
            raise  # unreachable: _invalid finishes the request

    def _invalid(self, message: str, exc: ValidationError) -> None:
        errors = [
            {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False, include_context=False)
        ]
        self.set_status(422)
        self.finish({"message": message, "errors": errors})
        raise web.Finish() from exc

    def reply(self, payload: BaseModel, status: int = 200) -> None:
        self.write_json(payload, status=status)


class SessionsHandler(_SessionsBase):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        query = self.parse_query(ListChatSessionsQuery)
        found = await self.sessions.list(self.username, context=query.context, limit=query.limit)
        self.reply(ChatSessionList(sessions=[session_json(session) for session in found]))

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.parse_body(CreateChatSessionRequest)
        document_id = body.document_id
        if body.context == ChatContext.EDITOR and (document_id or body.document_path):
            await self.check_document_access()
        if body.document_path is not None:
            # Resolving links and probing folders is file I/O: not on the event loop.
            await asyncio.to_thread(
                document_location,
                self.serverapp.root_dir,
                body.document_path,
                folder_must_exist=True,
            )
            document_id = await self.catalogued_document(body.document_path)
        elif document_id is not None and body.context == ChatContext.EDITOR:
            catalog = getattr(self.extensionapp, "catalog", None)
            entry = (
                None if catalog is None else await catalog.get_document(self.username, document_id)
            )
            if entry is not None:  # an unknown id is the repository's 404 below
                await asyncio.to_thread(document_location, self.serverapp.root_dir, entry.path)
        try:
            session = await self.sessions.create(
                self.username,
                body.context,
                document_id=document_id,
                project_id=body.project_id,
                title=body.title,
            )
        except SessionReferenceError as exc:
            # A well-formed id that names nothing of the caller's: not found, like a session.
            raise web.HTTPError(404, str(exc)) from None
        self.set_header("Location", self.request.path.rstrip("/") + f"/{session.id}")
        self.reply(session_json(session), status=201)


class SessionHandler(_SessionsBase):
    @web.authenticated
    @authorized
    async def get(self, raw_id: str) -> None:
        session_id = self.session_id(raw_id)
        session = await self.sessions.get(self.username, session_id)
        if session is None:
            raise self.not_found(session_id)
        self.reply(session_json(session))

    @web.authenticated
    @authorized
    async def patch(self, raw_id: str) -> None:
        session_id = self.session_id(raw_id)
        body = self.parse_body(UpdateChatSessionRequest)
        session = await self.sessions.update(
            self.username, session_id, title=body.title, status=body.status
        )
        if session is None:
            raise self.not_found(session_id)
        self.reply(session_json(session))

    @web.authenticated
    @authorized
    async def delete(self, raw_id: str) -> None:
        session_id = self.session_id(raw_id)
        if not await self.sessions.delete(self.username, session_id):
            raise self.not_found(session_id)
        self.set_status(204)
        self.finish()


class ArchiveSessionHandler(_SessionsBase):
    @web.authenticated
    @authorized
    async def post(self, raw_id: str) -> None:
        session_id = self.session_id(raw_id)
        session = await self.sessions.archive(self.username, session_id)
        if session is None:
            raise self.not_found(session_id)
        self.reply(session_json(session))


def session_routes(api: str) -> list[tuple[str, type[Any]]]:
    """The patterns under ``api`` (``{prefix}/api``)."""
    base = f"{api}/{SESSIONS_ROUTE}"
    return [
        (base, SessionsHandler),
        (f"{base}/{SESSION_ID}", SessionHandler),
        (f"{base}/{SESSION_ID}/archive", ArchiveSessionHandler),
    ]
