"""Durable streams: stream rows, their messages, idempotent producer states.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "durable_streams",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        # One live row per path: an expired or deleted stream's row is removed (or, while
        # forks read it, kept soft-deleted) before the path can be created again.
        sa.Column("path", sa.Text(), nullable=False, unique=True),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("tail", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_access", sa.Float(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("closed_by_producer", sa.Text()),
        sa.Column("closed_by_epoch", sa.BigInteger()),
        sa.Column("closed_by_seq", sa.BigInteger()),
        sa.Column("stream_seq", sa.Text()),
        sa.Column("ttl_seconds", sa.BigInteger()),
        sa.Column("expires_at", sa.Text()),
        sa.Column("expires_at_ts", sa.Float()),
        sa.Column("forked_from", sa.Text()),
        sa.Column("forked_from_id", sa.BigInteger()),
        sa.Column("fork_offset", sa.BigInteger()),
        sa.Column("fork_sub_offset", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("ref_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("soft_deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "durable_stream_messages",
        sa.Column("stream_id", sa.BigInteger(), nullable=False),
        # Position after the message's last byte: the offset a reader resumes from.
        sa.Column("end_pos", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", "end_pos"),
    )
    op.create_table(
        "durable_stream_producers",
        sa.Column("stream_id", sa.BigInteger(), nullable=False),
        sa.Column("producer_id", sa.Text(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", "producer_id"),
    )


def downgrade() -> None:
    op.drop_table("durable_stream_producers")
    op.drop_table("durable_stream_messages")
    op.drop_table("durable_streams")
