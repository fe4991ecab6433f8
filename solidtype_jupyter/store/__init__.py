"""Relational storage: SQLAlchemy engine set-up, Alembic migrations, repositories.

Public API:

* Database and schema: ``default_database_url``, ``normalize_database_url``, ``backend_name``,
  ``create_sync_engine``, ``upgrade_schema``, ``schema_status``, ``SchemaStatus``,
  ``SchemaBehindError``, ``ensure_schema``; ``ThreadedDatabase`` (blocking work off the loop).
* Chat sessions: ``ChatSessionRepository``, ``ChatSession``, ``SessionReferenceError``.
* Agents outside the server (``%ai_chat``): ``AgentHeartbeatRepository``, ``AgentHeartbeat``.
* Workspaces, projects, documents: ``CatalogRepository``, ``Workspace``, ``Project``,
  ``Document``, ``CatalogError``, ``CatalogNotFoundError``, ``CatalogConflictError``.
"""

from .catalog import (
    CatalogConflictError,
    CatalogError,
    CatalogNotFoundError,
    CatalogRepository,
    Document,
    Project,
    Workspace,
)
from .database import (
    SchemaBehindError,
    SchemaStatus,
    backend_name,
    create_sync_engine,
    default_database_url,
    ensure_schema,
    normalize_database_url,
    schema_status,
    upgrade_schema,
)
from .heartbeats import AgentHeartbeat, AgentHeartbeatRepository
from .sessions import ChatSession, ChatSessionRepository, SessionReferenceError
from .threaded import ThreadedDatabase

__all__ = [
    "AgentHeartbeat",
    "AgentHeartbeatRepository",
    "CatalogConflictError",
    "CatalogError",
    "CatalogNotFoundError",
    "CatalogRepository",
    "ChatSession",
    "ChatSessionRepository",
    "Document",
    "Project",
    "SchemaBehindError",
    "SchemaStatus",
    "SessionReferenceError",
    "ThreadedDatabase",
    "Workspace",
    "backend_name",
    "create_sync_engine",
    "default_database_url",
    "ensure_schema",
    "normalize_database_url",
    "schema_status",
    "upgrade_schema",
]
