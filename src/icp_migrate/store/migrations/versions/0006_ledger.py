"""The conflict ledger across runs, the change history, and the new review decisions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD = "decision IN ('assign', 'reject')"
NEW = "decision IN ('assign', 'reject', 'keep', 'replace', 'merge', 'separate')"


def upgrade() -> None:
    with op.batch_alter_table("entities") as batch:
        batch.add_column(sa.Column("entity_number_stated", sa.Boolean(), nullable=True))
    op.create_table(
        "conflicts",
        sa.Column("conflict_id", sa.Text(), nullable=False),
        sa.Column("conflict_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("opened_run_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["opened_run_id"], ["runs.run_id"],
                                name="fk_conflicts_opened_run_id_runs"),
        sa.PrimaryKeyConstraint("conflict_id", name="pk_conflicts"),
    )
    op.create_index("ix_conflicts_conflict_key", "conflicts", ["conflict_key"])
    op.create_table(
        "conflict_competitors",
        sa.Column("conflict_id", sa.Text(), nullable=False),
        sa.Column("claimant", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("cert_type", sa.String(), nullable=True),
        sa.Column("cert_number", sa.String(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("member_ids", sa.Text(), nullable=True),
        sa.Column("websites", sa.Text(), nullable=True),
        sa.Column("domains", sa.Text(), nullable=True),
        sa.Column("records", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("last_run_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["conflict_id"], ["conflicts.conflict_id"],
                                name="fk_conflict_competitors_conflict_id_conflicts"),
        sa.PrimaryKeyConstraint("conflict_id", "claimant", name="pk_conflict_competitors"),
    )
    op.create_table(
        "changes",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("subject_key", sa.Text(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_changes_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_changes"),
    )
    op.create_index("ix_changes_subject_key", "changes", ["subject_key"])
    with op.batch_alter_table("review_decisions") as batch:
        batch.drop_constraint("ck_review_decisions_decision", type_="check")
        batch.create_check_constraint("decision", NEW)
    # Conflicts the latest completed run held, and the ones decided before: the ledger
    # starts from what `review export` listed until now.
    op.execute(
        "INSERT INTO conflicts (conflict_id, conflict_key, kind, opened_run_id) "
        "SELECT c.conflict_key, c.conflict_key, MIN(c.kind), MIN(c.run_id) FROM run_conflicts c "
        "GROUP BY c.conflict_key")
    op.execute(
        "INSERT INTO conflict_competitors (conflict_id, claimant, owner, cert_type, "
        "cert_number, name, member_ids, websites, last_run_id) "
        "SELECT c.conflict_key, c.entity_id, c.entity_id, c.cert_type, c.cert_number, c.name, "
        "c.member_ids, c.websites, c.run_id FROM run_conflicts c "
        "WHERE c.run_id = (SELECT MAX(d.run_id) FROM run_conflicts d "
        "WHERE d.conflict_key = c.conflict_key)")


def downgrade() -> None:
    with op.batch_alter_table("review_decisions") as batch:
        batch.drop_constraint("ck_review_decisions_decision", type_="check")
        batch.create_check_constraint("decision", OLD)
    op.drop_index("ix_changes_subject_key", table_name="changes")
    op.drop_table("changes")
    op.drop_table("conflict_competitors")
    op.drop_index("ix_conflicts_conflict_key", table_name="conflicts")
    op.drop_table("conflicts")
    with op.batch_alter_table("entities") as batch:
        batch.drop_column("entity_number_stated")
