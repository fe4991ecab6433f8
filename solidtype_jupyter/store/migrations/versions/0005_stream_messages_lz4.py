"""Durable stream messages compressed with LZ4 on PostgreSQL, where the server has it.

A fast model's answer is stored in appends of up to a few hundred KB (every event made
while the previous append was committing). PostgreSQL compresses values that large before
storing them (TOAST), by default with pglz: 4.2 ms for a 420 KB append on the machines this
project is measured on, against 1.5 ms with LZ4, which also stores it smaller (BENCHMARKS.md,
Chat). Appends under about 2 KB (a chat delta) are not compressed either way. Values stored
before this migration keep their compression. SQLite: nothing to do.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# LZ4 needs PostgreSQL 14 or later built with it; elsewhere the column keeps pglz.
_HAS_LZ4 = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"


def _postgres_with_lz4() -> bool:
    bind = op.get_bind()
    return bind.dialect.name == "postgresql" and bool(bind.execute(sa.text(_HAS_LZ4)).scalar())


def upgrade() -> None:
    if _postgres_with_lz4():
        op.execute("ALTER TABLE durable_stream_messages ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    if _postgres_with_lz4():
        op.execute("ALTER TABLE durable_stream_messages ALTER COLUMN data SET COMPRESSION default")
