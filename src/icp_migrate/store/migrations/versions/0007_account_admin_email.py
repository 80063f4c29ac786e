"""Each account's administrator e-mail.

A new nullable column: accounts loaded before it hold NULL until the next run that sees
their entity fills it in (an update without a history row: nothing stored is replaced).

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("admin_email", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("admin_email")
