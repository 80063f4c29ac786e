"""The Great Expectations results of each run: run_validations.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_validations",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("suite", sa.String(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name="fk_run_validations_run_id_runs"
        ),
        sa.PrimaryKeyConstraint("run_id", "suite", name="pk_run_validations"),
    )


def downgrade() -> None:
    op.drop_table("run_validations")
