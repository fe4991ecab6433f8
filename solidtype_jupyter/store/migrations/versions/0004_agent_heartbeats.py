"""Agent heartbeats: agents outside the server (``%ai_chat`` in a kernel) say they are alive.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_agent_heartbeats",
        sa.Column("session_id", sa.Text(), primary_key=True),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("document_path", sa.Text()),
        sa.Column("beat_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ai_agent_heartbeats")
