"""The conflict ledger: the target's conflicts and their competitors, the review decisions
on them, and every replaced value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from icp_migrate.store.schema_base import Base, one_of

DECISIONS = ("assign", "reject", "keep", "replace", "merge", "separate")


class ReviewDecision(Base):
    """A person's decision on a conflict (`conflict_key` holds the conflict's id): `assign`
    or `merge` (entity_id: the chosen entity), `reject`, `separate`, `keep` or `replace`
    (entity_id: the chosen version of the website)."""

    __tablename__ = "review_decisions"
    __table_args__ = (CheckConstraint(one_of("decision", DECISIONS), name="decision"),)

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
