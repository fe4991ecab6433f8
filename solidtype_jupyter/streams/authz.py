"""Who may read or write which stream.

A user reaches only the streams of their own chat sessions (``ai-chat/<session id>``) and
of their own documents (``documents/<document id>``); every other path is refused. The
owner lookups come from the session (and, later, document) repositories, through the
small protocols below, so this module stays free of storage details.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any, Protocol

SESSION_PREFIX = "ai-chat/"
DOCUMENT_PREFIX = "documents/"


class StreamAccess(enum.Enum):
    READ = "read"
    WRITE = "write"


class StreamAuthorizer(Protocol):
    async def allowed(self, user_id: str, path: str, access: StreamAccess) -> bool:
        """Whether ``user_id`` may ``access`` the stream at ``path``."""


class SessionLookup(Protocol):
    """``store.sessions.ChatSessionRepository`` satisfies this."""

    async def get(self, user_id: str, session_id: str) -> Any | None: ...


class DocumentLookup(Protocol):
    async def get(self, user_id: str, document_id: str) -> Any | None: ...


class CatalogDocumentLookup:
    """``DocumentLookup`` over ``store.catalog.CatalogRepository.get_document`` (which takes
    UUIDs): a name that is not a UUID can never be a document, so it finds nothing."""

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog

    async def get(self, user_id: str, document_id: str) -> Any | None:
        try:
            parsed = uuid.UUID(document_id)
        except ValueError:
            return None
        return await self.catalog.get_document(user_id, parsed)


class SessionStreamAuthorizer:
    """Allows a user the streams of the sessions (and documents) the repositories say
    they own: the lookups are scoped to the user, so another user's id finds nothing."""

    def __init__(self, sessions: SessionLookup, documents: DocumentLookup | None = None) -> None:
        self.sessions = sessions
        self.documents = documents

    async def allowed(self, user_id: str, path: str, access: StreamAccess) -> bool:
        owner_id = _single_segment(path, SESSION_PREFIX)
        if owner_id is not None:
            return await self.sessions.get(user_id, owner_id) is not None
        owner_id = _single_segment(path, DOCUMENT_PREFIX)
        if owner_id is not None and self.documents is not None:
            return await self.documents.get(user_id, owner_id) is not None
        return False


def _single_segment(path: str, prefix: str) -> str | None:
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix) :]
    return rest if rest and "/" not in rest else None
