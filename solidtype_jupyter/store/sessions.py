"""Chat session metadata: ``ChatSessionRepository`` over the ``ai_chat_sessions`` table.

Every method takes the owner's user id explicitly and scopes its query to it, so another user's
session id finds nothing (the routes turn that into 404). Message content is not here: it lives
in the durable stream ``ai-chat/{session id}``, which ``delete`` removes with the row.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..protocol.sessions import (
    DEFAULT_LIST_LIMIT,
    DEFAULT_TITLE,
    MAX_LIST_LIMIT,
    TITLE_MAX_LENGTH,
    ChatContext,
    ChatStatus,
    MessageRole,
    auto_title,
    chat_stream_path,
)
from .schema import ai_chat_sessions, documents, projects, utc_now
from .threaded import ThreadedDatabase

DeleteStream = Callable[[str], Awaitable[None]]


class SessionReferenceError(ValueError):
    """A session was to point at a document or project the user does not own (or that does
    not exist); the message says which."""


@dataclass(frozen=True, slots=True)
class ChatSession:
    id: uuid.UUID
    user_id: str
    context: ChatContext
    document_id: uuid.UUID | None
    project_id: uuid.UUID | None
    status: ChatStatus
    title: str | None
    message_count: int
    last_message_at: datetime | None
    durable_stream_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> ChatSession:
        return cls(**{name: row[name] for name in _FIELDS})


_FIELDS = tuple(ChatSession.__dataclass_fields__)
_COLUMNS = [ai_chat_sessions.c[name] for name in _FIELDS]
_table = ai_chat_sessions


async def _no_stream_store(path: str) -> None:
    """Used only when no stream store is wired (tests of the table alone)."""


def parse_session_id(session_id: uuid.UUID | str) -> uuid.UUID | None:
    """A session id as a UUID, or ``None`` for anything that is not one (such an id can never
    name a session, so callers answer "not found" instead of failing)."""
    if isinstance(session_id, uuid.UUID):
        return session_id
    try:
        return uuid.UUID(session_id)
    except (ValueError, TypeError, AttributeError):
        return None


def list_query(
    user_id: str, context: ChatContext | str | None = None, limit: int = DEFAULT_LIST_LIMIT
) -> sa.Select[Any]:
    """The listing query: ordered to match ``idx_ai_chat_sessions_user[_context]``, so
    the database reads the first ``limit`` index entries and never sorts."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}")
    query = sa.select(*_COLUMNS).where(_table.c.user_id == user_id)
    if context is not None:
        query = query.where(_table.c.context == ChatContext(context))
    return query.order_by(_table.c.updated_at.desc(), _table.c.id.desc()).limit(limit)


def _check_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise ValueError(f"a title has 1 to {TITLE_MAX_LENGTH} characters")
    return title


class ChatSessionRepository:
    """Async access to chat sessions; the blocking database work runs on ``database``'s threads.

    ``delete_stream(path)`` removes a durable stream: the server wires the stream engine's
    delete (``SolidTypeApp.initialize_settings``); without one, deleting a session removes only
    its row.
    """

    def __init__(
        self, database: ThreadedDatabase, *, delete_stream: DeleteStream | None = None
    ) -> None:
        self.database = database
        self.delete_stream: DeleteStream = delete_stream or _no_stream_store

    async def list(
        self,
        user_id: str,
        context: ChatContext | str | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
    ) -> list[ChatSession]:
        """The user's sessions, most recently updated first."""
        query = list_query(user_id, context, limit)

        def work(connection: sa.Connection) -> list[ChatSession]:
            return [ChatSession.from_row(row) for row in connection.execute(query).mappings()]

        return await self.database.transaction(work)

    async def create(
        self,
        user_id: str,
        context: ChatContext | str,
        document_id: uuid.UUID | None = None,
        project_id: uuid.UUID | None = None,
        title: str | None = None,
    ) -> ChatSession:
        """A new active session of ``user_id``; ``SessionReferenceError`` if the document or
        project is not one of the user's."""
        session_id = uuid.uuid4()
        now = utc_now()
        values: dict[str, Any] = {
            "id": session_id,
            "user_id": user_id,
            "context": ChatContext(context),
            "document_id": document_id,
            "project_id": project_id,
            "status": ChatStatus.ACTIVE,
            "title": _check_title(title) if title else DEFAULT_TITLE,
            "message_count": 0,
            "last_message_at": None,
            "durable_stream_id": chat_stream_path(session_id),
            "created_at": now,
            "updated_at": now,
        }

        def work(connection: sa.Connection) -> ChatSession:
            _check_owned(connection, documents, document_id, user_id, "document")
            _check_owned(connection, projects, project_id, user_id, "project")
            connection.execute(sa.insert(_table).values(values))
            return ChatSession(**values)

        return await self.database.transaction(work)

    async def get(self, user_id: str, session_id: uuid.UUID | str) -> ChatSession | None:
        parsed = parse_session_id(session_id)
        if parsed is None:
            return None
        query = sa.select(*_COLUMNS).where(_table.c.id == parsed, _table.c.user_id == user_id)

        def work(connection: sa.Connection) -> ChatSession | None:
            row = connection.execute(query).mappings().first()
            return None if row is None else ChatSession.from_row(row)

        return await self.database.transaction(work)

    async def update(
        self,
        user_id: str,
        session_id: uuid.UUID | str,
        *,
        title: str | None = None,
        status: ChatStatus | str | None = None,
    ) -> ChatSession | None:
        """Rename and/or change the status; ``None`` if the user has no such session."""
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = _check_title(title)
        if status is not None:
            changes["status"] = ChatStatus(status)
        if not changes:
            return await self.get(user_id, session_id)
        return await self._update(user_id, session_id, changes)

    async def archive(self, user_id: str, session_id: uuid.UUID | str) -> ChatSession | None:
        return await self._update(user_id, session_id, {"status": ChatStatus.ARCHIVED})

    async def record_message(
        self, user_id: str, session_id: uuid.UUID | str, *, role: MessageRole | str, text: str
    ) -> ChatSession | None:
        """Count one message (the chat route calls this for each message it appends to the
        stream). The first user message titles a session whose title is still the default."""
        role = MessageRole(role)
        now = utc_now()
        changes: dict[str, Any] = {
            "message_count": _table.c.message_count + 1,
            "last_message_at": now,
        }
        if role is MessageRole.USER:
            untitled = sa.or_(_table.c.title.is_(None), _table.c.title == DEFAULT_TITLE)
            changes["title"] = sa.case(
                (untitled, sa.literal(auto_title(text))), else_=_table.c.title
            )
        return await self._update(user_id, session_id, changes, now=now)

    async def delete(self, user_id: str, session_id: uuid.UUID | str) -> bool:
        """Delete the session and its durable stream; ``False`` if the user has no such
        session. The stream goes first: if the stream store fails, the error propagates and
        the session is still there, so deleting again finishes the job (a row deleted first
        would leave the messages behind with nothing left to delete them through)."""
        session = await self.get(user_id, session_id)
        if session is None:
            return False
        await self.delete_stream(session.durable_stream_id or chat_stream_path(session.id))
        statement = sa.delete(_table).where(_table.c.id == session.id, _table.c.user_id == user_id)

        def work(connection: sa.Connection) -> None:
            connection.execute(statement)

        await self.database.transaction(work)
        return True

    async def _update(
        self,
        user_id: str,
        session_id: uuid.UUID | str,
        changes: dict[str, Any],
        *,
        now: datetime | None = None,
    ) -> ChatSession | None:
        parsed = parse_session_id(session_id)
        if parsed is None:
            return None
        statement = (
            sa.update(_table)
            .where(_table.c.id == parsed, _table.c.user_id == user_id)
            .values(updated_at=now or utc_now(), **changes)
            .returning(*_COLUMNS)
        )

        def work(connection: sa.Connection) -> ChatSession | None:
            row = connection.execute(statement).mappings().first()
            return None if row is None else ChatSession.from_row(row)

        return await self.database.transaction(work)


def _check_owned(
    connection: sa.Connection,
    table: sa.Table,
    item_id: uuid.UUID | None,
    user_id: str,
    kind: str,
) -> None:
    if item_id is None:
        return
    found = connection.execute(
        sa.select(table.c.id).where(table.c.id == item_id, table.c.owner_id == user_id)
    ).first()
    if found is None:
        raise SessionReferenceError(f"no {kind} {item_id} among your {kind}s")
