"""The inbox ledger: every file the scheduled inbox flow has seen, by content hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_files",
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('loaded', 'failed')", name="ck_inbox_files_status"),
        sa.PrimaryKeyConstraint("content_hash", name="pk_inbox_files"),
    )


def downgrade() -> None:
    op.drop_table("inbox_files")
