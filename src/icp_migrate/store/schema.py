"""The target tables: entities, their accounts and websites, and the record of every run."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from icp_migrate.canonical import ACCOUNT_KINDS, DISPOSITIONS

RUN_STATUSES = ("running", "completed", "failed")

# Explicit constraint names, so migrations can name what they alter on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


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
        CheckConstraint(_in("account_kind", ACCOUNT_KINDS), name="account_kind"),
        # An entity has at most one account of each kind (rule 1 and rule 4).
        UniqueConstraint("entity_id", "account_kind"),
    )

    account_id: Mapped[str] = mapped_column(String, primary_key=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.entity_id"))
    account_kind: Mapped[str] = mapped_column(String)
    real_name_verification_required: Mapped[bool] = mapped_column(Boolean)


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


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (CheckConstraint(_in("status", RUN_STATUSES), name="status"),)

    run_id: Mapped[str] = mapped_column(String, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String)
    error: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[str | None] = mapped_column(Text)  # JSON list: absolute paths, masked URLs
    records_in: Mapped[int | None] = mapped_column(Integer)
    loaded: Mapped[int | None] = mapped_column(Integer)
    duplicate: Mapped[int | None] = mapped_column(Integer)
    out_of_scope: Mapped[int | None] = mapped_column(Integer)
    quarantined: Mapped[int | None] = mapped_column(Integer)
    needs_review: Mapped[int | None] = mapped_column(Integer)
    entities: Mapped[int | None] = mapped_column(Integer)
    accounts: Mapped[int | None] = mapped_column(Integer)
    websites: Mapped[int | None] = mapped_column(Integer)
    domains: Mapped[int | None] = mapped_column(Integer)
    # the run's settings, so a re-run (`review apply --now`) repeats exactly this run
    cutoff: Mapped[date | None] = mapped_column(Date)
    mapping_name: Mapped[str | None] = mapped_column(Text)
    mapping_path: Mapped[str | None] = mapped_column(Text)  # absolute; null for built-ins
    mapping_hash: Mapped[str | None] = mapped_column(String)  # sha256 of the mapping yaml
    source_hashes: Mapped[str | None] = mapped_column(Text)  # JSON: source -> sha256 or null
    reports_dir: Mapped[str | None] = mapped_column(Text)  # absolute


# Dispositions and links name entities and websites that may never have been loaded
# (quarantined, needs_review), so only run_id is a foreign key.
class RecordDisposition(Base):
    __tablename__ = "record_dispositions"
    __table_args__ = (CheckConstraint(_in("disposition", DISPOSITIONS), name="disposition"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    row_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    member_id: Mapped[str | None] = mapped_column(String)
    disposition: Mapped[str] = mapped_column(String)
    reasons: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[str | None] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(String)
    website_filing_number: Mapped[str | None] = mapped_column(String)
    # the conflict a needs_review record waits on, and the entities competing in it
    conflict_key: Mapped[str | None] = mapped_column(Text)
    candidates: Mapped[str | None] = mapped_column(Text)


class RunConflict(Base):
    """An open conflict of a run and one entity competing in it (for `review export`)."""

    __tablename__ = "run_conflicts"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    conflict_key: Mapped[str] = mapped_column(Text, primary_key=True)
    entity_id: Mapped[str] = mapped_column(String, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    cert_type: Mapped[str | None] = mapped_column(String)
    cert_number: Mapped[str | None] = mapped_column(String)
    name: Mapped[str | None] = mapped_column(Text)
    member_ids: Mapped[str | None] = mapped_column(Text)
    websites: Mapped[str | None] = mapped_column(Text)


DECISIONS = ("assign", "reject", "keep", "replace", "merge", "separate")


class ReviewDecision(Base):
    """A person's decision on a conflict (`conflict_key` holds the conflict's id): `assign`
    or `merge` (entity_id: the chosen entity), `reject`, `separate`, `keep` or `replace`
    (entity_id: the chosen version of the website)."""

    __tablename__ = "review_decisions"
    __table_args__ = (CheckConstraint(_in("decision", DECISIONS), name="decision"),)

    conflict_key: Mapped[str] = mapped_column(Text, primary_key=True)
    decision: Mapped[str] = mapped_column(String)
    entity_id: Mapped[str | None] = mapped_column(String)
    decided_by: Mapped[str] = mapped_column(String)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_file: Mapped[str | None] = mapped_column(Text)


class Conflict(Base):
    """A conflict of the target's ledger, from the run that opened it; open until a
    review decision names its id. `conflict_id` is its key, or `key#n` once reopened."""

    __tablename__ = "conflicts"

    conflict_id: Mapped[str] = mapped_column(Text, primary_key=True)
    conflict_key: Mapped[str] = mapped_column(Text, index=True)
    kind: Mapped[str] = mapped_column(String)
    opened_run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"))


class ConflictCompetitor(Base):
    """A claimant of a ledger conflict as last described: an entity, or for a `changed:`
    conflict one version of the website (`v:<hash>`, its entity in `owner`)."""

    __tablename__ = "conflict_competitors"

    conflict_id: Mapped[str] = mapped_column(ForeignKey("conflicts.conflict_id"),
                                             primary_key=True)
    claimant: Mapped[str] = mapped_column(String, primary_key=True)
    owner: Mapped[str | None] = mapped_column(String)
    role: Mapped[str | None] = mapped_column(String)  # changed: stored | new
    cert_type: Mapped[str | None] = mapped_column(String)
    cert_number: Mapped[str | None] = mapped_column(String)
    name: Mapped[str | None] = mapped_column(Text)
    member_ids: Mapped[str | None] = mapped_column(Text)
    websites: Mapped[str | None] = mapped_column(Text)
    domains: Mapped[str | None] = mapped_column(Text)
    records: Mapped[str | None] = mapped_column(Text)  # source:line of its held records
    detail: Mapped[str | None] = mapped_column(Text)
    last_run_id: Mapped[str | None] = mapped_column(String)


class Change(Base):
    """A replaced value: website fields, domain moves and removals, account kind and
    real-name flag; `cause` is a decision's conflict id or the rule that changed it."""

    __tablename__ = "changes"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String)  # website | domain | account | entity
    subject_key: Mapped[str] = mapped_column(Text, index=True)
    field: Mapped[str] = mapped_column(String)
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)


class InboxFile(Base):
    """A file the inbox flow has taken, by content hash: never loaded or retried twice."""

    __tablename__ = "inbox_files"
    __table_args__ = (CheckConstraint("status IN ('loaded', 'failed')", name="status"),)

    content_hash: Mapped[str] = mapped_column(String, primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String)
    run_id: Mapped[str | None] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EntityLink(Base):
    __tablename__ = "entity_links"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    row_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str | None] = mapped_column(Text)
    locator: Mapped[str | None] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(String, index=True)
    link_kind: Mapped[str] = mapped_column(String)
    link_key: Mapped[str | None] = mapped_column(Text)


class RunValidation(Base):
    """The Great Expectations result of one suite of a run (`validations.py` reads and
    writes them)."""

    __tablename__ = "run_validations"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    suite: Mapped[str] = mapped_column(String, primary_key=True)
    success: Mapped[bool] = mapped_column(Boolean)
    # The JSON-able GX result; the record suite's is scrubbed of data values (row ids only).
    result: Mapped[str | None] = mapped_column(Text)


metadata = Base.metadata
entities = metadata.tables["entities"]
accounts = metadata.tables["accounts"]
website_filings = metadata.tables["website_filings"]
domains = metadata.tables["domains"]
runs = metadata.tables["runs"]
record_dispositions = metadata.tables["record_dispositions"]
entity_links = metadata.tables["entity_links"]
review_decisions = metadata.tables["review_decisions"]
run_conflicts = metadata.tables["run_conflicts"]
inbox_files = metadata.tables["inbox_files"]
conflicts = metadata.tables["conflicts"]
conflict_competitors = metadata.tables["conflict_competitors"]
changes = metadata.tables["changes"]
run_validations = metadata.tables["run_validations"]
