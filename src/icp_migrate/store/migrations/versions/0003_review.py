"""Conflict review: the conflict each needs_review record waits on, and people's decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record_dispositions") as batch:
        batch.add_column(sa.Column("conflict_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("candidates", sa.Text(), nullable=True))
    op.create_table(
        "run_conflicts",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("conflict_key", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("cert_type", sa.String(), nullable=True),
        sa.Column("cert_number", sa.String(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("member_ids", sa.Text(), nullable=True),
        sa.Column("websites", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name="fk_run_conflicts_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "conflict_key", "entity_id", name="pk_run_conflicts"),
    )
    op.create_table(
        "review_decisions",
        sa.Column("conflict_key", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.CheckConstraint("decision IN ('assign', 'reject')",
                           name="ck_review_decisions_decision"),
        sa.PrimaryKeyConstraint("conflict_key", name="pk_review_decisions"),
    )


def downgrade() -> None:
    op.drop_table("review_decisions")
    op.drop_table("run_conflicts")
    with op.batch_alter_table("record_dispositions") as batch:
        batch.drop_column("candidates")
        batch.drop_column("conflict_key")
