"""The run ledgers: each run, its records' dispositions and entity links, its open conflicts
and validation results, and the files the inbox has taken."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.store.schema_base import Base, one_of

RUN_STATUSES = ("running", "completed", "failed")


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (CheckConstraint(one_of("status", RUN_STATUSES), name="status"),)

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
    __table_args__ = (CheckConstraint(one_of("disposition", DISPOSITIONS), name="disposition"),)

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
