"""A run's settings as part of its record: cut-off, mapping, source hashes, reports dir.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("cutoff", sa.Date(), nullable=True))
        batch.add_column(sa.Column("mapping_name", sa.Text(), nullable=True))
        batch.add_column(sa.Column("mapping_path", sa.Text(), nullable=True))
        batch.add_column(sa.Column("mapping_hash", sa.String(), nullable=True))
        batch.add_column(sa.Column("source_hashes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reports_dir", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name in (
            "reports_dir",
            "source_hashes",
            "mapping_hash",
            "mapping_path",
            "mapping_name",
            "cutoff",
        ):
            batch.drop_column(name)
