"""Initial target tables: entities, accounts, websites, domains, runs and their records.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Vocabularies frozen as they were at this revision; later changes need a new migration.
_ACCOUNT_KINDS = "account_kind IN ('filing', 'resources', 'filing_and_resources')"
_STATUSES = "status IN ('running', 'completed', 'failed')"
_DISPOSITIONS = (
    "disposition IN ('loaded', 'duplicate', 'out_of_scope', 'quarantined', 'needs_review')"
)


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("entity_type", sa.String(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("cert_type", sa.String(), nullable=True),
        sa.Column("cert_number", sa.String(), nullable=True),
        sa.Column("province", sa.String(), nullable=True),
        sa.Column("entity_filing_number", sa.String(), nullable=True),
        sa.Column("has_cloud_resources", sa.Boolean(), nullable=False),
        sa.Column("resources_admin_differs", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name="pk_entities"),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sources", sa.Text(), nullable=True),
        *(
            sa.Column(name, sa.Integer(), nullable=True)
            for name in (
                "records_in",
                "loaded",
                "duplicate",
                "out_of_scope",
                "quarantined",
                "needs_review",
                "entities",
                "accounts",
                "websites",
                "domains",
            )
        ),
        sa.CheckConstraint(_STATUSES, name="ck_runs_status"),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("account_kind", sa.String(), nullable=False),
        sa.Column("real_name_verification_required", sa.Boolean(), nullable=False),
        sa.CheckConstraint(_ACCOUNT_KINDS, name="ck_accounts_account_kind"),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.entity_id"], name="fk_accounts_entity_id_entities"
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
        sa.UniqueConstraint("entity_id", "account_kind", name="uq_accounts_entity_id_account_kind"),
    )
    op.create_table(
        "website_filings",
        sa.Column("website_filing_number", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("product", sa.String(), nullable=True),
        sa.Column("website_name", sa.Text(), nullable=True),
        sa.Column("homepage", sa.Text(), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name="fk_website_filings_account_id_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entities.entity_id"], name="fk_website_filings_entity_id_entities"
        ),
        sa.PrimaryKeyConstraint("website_filing_number", name="pk_website_filings"),
    )
    op.create_index("ix_website_filings_account_id", "website_filings", ["account_id"])
    op.create_index("ix_website_filings_entity_id", "website_filings", ["entity_id"])
    op.create_table(
        "domains",
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("unicode_domain", sa.String(), nullable=True),
        sa.Column("website_filing_number", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["website_filing_number"],
            ["website_filings.website_filing_number"],
            name="fk_domains_website_filing_number_website_filings",
        ),
        sa.PrimaryKeyConstraint("domain", name="pk_domains"),
    )
    op.create_index("ix_domains_website_filing_number", "domains", ["website_filing_number"])
    op.create_table(
        "record_dispositions",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("locator", sa.Text(), nullable=True),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.Column("disposition", sa.String(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("warnings", sa.Text(), nullable=True),
        sa.Column("entity_id", sa.String(), nullable=True),
        sa.Column("website_filing_number", sa.String(), nullable=True),
        sa.CheckConstraint(_DISPOSITIONS, name="ck_record_dispositions_disposition"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name="fk_record_dispositions_run_id_runs"
        ),
        sa.PrimaryKeyConstraint("run_id", "row_id", name="pk_record_dispositions"),
    )
    op.create_table(
        "entity_links",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("locator", sa.Text(), nullable=True),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("link_kind", sa.String(), nullable=False),
        sa.Column("link_key", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_entity_links_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "row_id", name="pk_entity_links"),
    )
    op.create_index("ix_entity_links_entity_id", "entity_links", ["entity_id"])


def downgrade() -> None:
    for table in (
        "entity_links",
        "record_dispositions",
        "domains",
        "website_filings",
        "accounts",
        "runs",
        "entities",
    ):
        op.drop_table(table)
