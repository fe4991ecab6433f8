"""Table definitions of the relational store (SQLAlchemy Core).

The migrations in ``migrations/versions`` create exactly these tables; a test compares the two.
Timestamps are timezone-aware UTC everywhere: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, and on
SQLite (which has no such type) fixed-width UTC text that sorts chronologically.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from ..protocol.sessions import DEFAULT_TITLE, ChatContext, ChatStatus


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store only takes aware UTC times")
        value = value.astimezone(UTC)
        # SQLite keeps text: store naive UTC so every value has the same width and sorts.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    # Native enum type on PostgreSQL, CHECK constraint on SQLite; the values (not the Python
    # member names) are what the database stores.
    return sa.Enum(
        cls,
        name=name,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


metadata = sa.MetaData()


def _created_updated() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
    ]


# Workspaces, projects and documents: folders and ``*.solid.json`` files of the Jupyter contents
# tree, given stable ids here so a rename (tracked from the contents manager's events) keeps the
# sessions that point at them. ``path`` is the contents API path, relative to the server root.
workspaces = sa.Table(
    "workspaces",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("path", sa.Text(), nullable=False),
    *_created_updated(),
    sa.UniqueConstraint("owner_id", "path", name="uq_workspaces_owner_path"),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column(
        "workspace_id",
        sa.Uuid(),
        sa.ForeignKey("workspaces.id", ondelete="CASCADE", name="fk_projects_workspace"),
        nullable=False,
    ),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("path", sa.Text(), nullable=False),
    *_created_updated(),
    sa.UniqueConstraint("owner_id", "path", name="uq_projects_owner_path"),
    sa.Index("idx_projects_workspace", "workspace_id"),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    # A document outside every project (e.g. opened with ``%ai_chat part.solid.json``) has none.
    sa.Column(
        "project_id",
        sa.Uuid(),
        sa.ForeignKey("projects.id", ondelete="SET NULL", name="fk_documents_project"),
    ),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("path", sa.Text(), nullable=False),
    *_created_updated(),
    sa.UniqueConstraint("owner_id", "path", name="uq_documents_owner_path"),
    sa.Index("idx_documents_project", "project_id"),
)

ai_chat_sessions = sa.Table(
    "ai_chat_sessions",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    # The jupyter_server identity's username; there is no user table to reference.
    sa.Column("user_id", sa.Text(), nullable=False),
    sa.Column("context", _enum(ChatContext, "ai_chat_context"), nullable=False),
    sa.Column(
        "document_id",
        sa.Uuid(),
        sa.ForeignKey("documents.id", ondelete="SET NULL", name="fk_ai_chat_sessions_document"),
    ),
    sa.Column(
        "project_id",
        sa.Uuid(),
        sa.ForeignKey("projects.id", ondelete="SET NULL", name="fk_ai_chat_sessions_project"),
    ),
    sa.Column(
        "status",
        _enum(ChatStatus, "ai_chat_status"),
        nullable=False,
        server_default=ChatStatus.ACTIVE.value,
    ),
    sa.Column("title", sa.Text(), server_default=DEFAULT_TITLE),
    sa.Column("message_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_message_at", UTCDateTime()),
    sa.Column("durable_stream_id", sa.Text()),
    *_created_updated(),
    sa.Index("idx_ai_chat_sessions_document", "document_id"),
    sa.Index("idx_ai_chat_sessions_project", "project_id"),
)

# The seed's two per-user indexes, widened with (updated_at DESC, id DESC): they still serve
# every lookup by user (and context) the seed's served, and now also hand out "the newest
# sessions of a user" in index order, so the listing reads `limit` entries and never sorts.
# (With separate ordered indexes beside the seed's narrow ones, PostgreSQL 15 picked the
# narrow index plus a sort on a 10,000-row table; see BENCHMARKS.md.)
sa.Index(
    "idx_ai_chat_sessions_user",
    ai_chat_sessions.c.user_id,
    ai_chat_sessions.c.updated_at.desc(),
    ai_chat_sessions.c.id.desc(),
)
sa.Index(
    "idx_ai_chat_sessions_user_context",
    ai_chat_sessions.c.user_id,
    ai_chat_sessions.c.context,
    ai_chat_sessions.c.updated_at.desc(),
    ai_chat_sessions.c.id.desc(),
)


# Agents that run outside the server (``%ai_chat`` in a notebook's kernel) write a row here
# every few seconds; the server shows each fresh one as a collaborator (``presence``).
# ``identity`` and ``state`` are the wire JSON of ``protocol.agent``'s models.
agent_heartbeats = sa.Table(
    "ai_agent_heartbeats",
    metadata,
    sa.Column("session_id", sa.Text(), primary_key=True),
    sa.Column("user_id", sa.Text(), nullable=False),
    sa.Column("identity", sa.Text(), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
    sa.Column("document_path", sa.Text()),
    sa.Column("beat_at", sa.Float(), nullable=False),
)
