"""Chat sessions, and the workspaces, projects and documents they point at.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the enums at this revision (a migration never imports the live models).
CONTEXTS = ("dashboard", "editor")
STATUSES = ("active", "archived", "error")


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("owner_id", "path", name="uq_workspaces_owner_path"),
    )
    op.create_table(
        "projects",
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
        *_timestamps(),
        sa.UniqueConstraint("owner_id", "path", name="uq_projects_owner_path"),
    )
    op.create_index("idx_projects_workspace", "projects", ["workspace_id"])
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column(
            "project_id",
            sa.Uuid(),
            sa.ForeignKey("projects.id", ondelete="SET NULL", name="fk_documents_project"),
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("owner_id", "path", name="uq_documents_owner_path"),
    )
    op.create_index("idx_documents_project", "documents", ["project_id"])
    op.create_table(
        "ai_chat_sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column(
            "context",
            sa.Enum(*CONTEXTS, name="ai_chat_context", create_constraint=True),
            nullable=False,
        ),
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
            sa.Enum(*STATUSES, name="ai_chat_status", create_constraint=True),
            nullable=False,
            server_default="active",
        ),
        sa.Column("title", sa.Text(), server_default="New Chat"),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_message_at", sa.DateTime(timezone=True)),
        sa.Column("durable_stream_id", sa.Text()),
        *_timestamps(),
    )
    # The seed's per-user indexes, widened so the listing (newest first) needs no sort.
    op.create_index(
        "idx_ai_chat_sessions_user",
        "ai_chat_sessions",
        ["user_id", sa.text("updated_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "idx_ai_chat_sessions_user_context",
        "ai_chat_sessions",
        ["user_id", "context", sa.text("updated_at DESC"), sa.text("id DESC")],
    )
    op.create_index("idx_ai_chat_sessions_document", "ai_chat_sessions", ["document_id"])
    op.create_index("idx_ai_chat_sessions_project", "ai_chat_sessions", ["project_id"])


def downgrade() -> None:
    op.drop_table("ai_chat_sessions")
    op.drop_table("documents")
    op.drop_table("projects")
    op.drop_table("workspaces")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        sa.Enum(name="ai_chat_status").drop(bind, checkfirst=True)
        sa.Enum(name="ai_chat_context").drop(bind, checkfirst=True)
