"""The entity tables: entities, their accounts, their websites and the websites' domains."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from icp_migrate.canonical import ACCOUNT_KINDS
from icp_migrate.store.schema_base import Base, one_of


class Entity(Base):
    __tablename__ = "entities"

    entity_id: Mapped[str] = mapped_column(String, primary_key=True)
    entity_type: Mapped[str | None] = mapped_column(String)
    name: Mapped[str | None] = mapped_column(Text)
    cert_type: Mapped[str | None] = mapped_column(String)
    # Held whole only here; everything that leaves the store masks it.
    cert_number: Mapped[str | None] = mapped_column(String)
    province: Mapped[str | None] = mapped_column(String)
    entity_filing_number: Mapped[str | None] = mapped_column(String)
    has_cloud_resources: Mapped[bool] = mapped_column(Boolean, default=False)
    resources_admin_differs: Mapped[bool] = mapped_column(Boolean, default=False)
    # entity_filing_number was stated in a record's entity-number field, not derived from
    # a website number (only a stated number makes two certificates a pair conflict)
    entity_number_stated: Mapped[bool | None] = mapped_column(Boolean)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(one_of("account_kind", ACCOUNT_KINDS), name="account_kind"),
        # An entity has at most one account of each kind (rule 1 and rule 4).
        UniqueConstraint("entity_id", "account_kind"),
    )

    account_id: Mapped[str] = mapped_column(String, primary_key=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.entity_id"))
    account_kind: Mapped[str] = mapped_column(String)
    real_name_verification_required: Mapped[bool] = mapped_column(Boolean)
    # The administrator's e-mail: the resources administrator's for a `resources` account,
    # the filing administrator's otherwise. Held whole here; shown masked outside the store
    # (`plan export --unmasked-emails` gives it whole to the import team).
    admin_email: Mapped[str | None] = mapped_column(String)


class WebsiteFiling(Base):
    __tablename__ = "website_filings"

    website_filing_number: Mapped[str] = mapped_column(String, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.entity_id"), index=True)
    product: Mapped[str | None] = mapped_column(String)
    website_name: Mapped[str | None] = mapped_column(Text)
    homepage: Mapped[str | None] = mapped_column(Text)
    filed_on: Mapped[date | None] = mapped_column(Date)
    member_id: Mapped[str | None] = mapped_column(String)


class Domain(Base):
    __tablename__ = "domains"

    domain: Mapped[str] = mapped_column(String, primary_key=True)  # IDNA A-label
    unicode_domain: Mapped[str | None] = mapped_column(String)
    website_filing_number: Mapped[str] = mapped_column(
        ForeignKey("website_filings.website_filing_number"), index=True
    )
