"""What a run's report is made of, read from the store as frames (plain SQL, no rendering)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, Engine, text

from icp_migrate.errors import TargetError, UsageError
from icp_migrate.store.target import display_url
from icp_migrate.store.validations import read_validations

HISTORY_RUNS = 30  # runs shown in the history chart, this one and those before it
_KEPT = "('loaded', 'duplicate')"
_RUN_ENTITIES = (
    "SELECT DISTINCT entity_id FROM record_dispositions "
    f"WHERE run_id = :run AND disposition IN {_KEPT} AND entity_id IS NOT NULL"
)
_RUN_SITES = (
    "SELECT DISTINCT website_filing_number FROM record_dispositions "
    "WHERE run_id = :run AND disposition = 'loaded' AND website_filing_number IS NOT NULL"
)
_QUERIES = {
    "dispositions": (
        "SELECT row_id, source, locator, member_id, disposition, reasons, warnings, entity_id, "
        "website_filing_number, conflict_key FROM record_dispositions WHERE run_id = :run "
        "ORDER BY row_id"
    ),
    "entities": (
        "SELECT entity_id, entity_type, name, cert_type, cert_number, province "
        f"FROM entities WHERE entity_id IN ({_RUN_ENTITIES}) ORDER BY entity_id"
    ),
    "accounts": (
        "SELECT account_id, entity_id, account_kind, real_name_verification_required "
        f"FROM accounts WHERE entity_id IN ({_RUN_ENTITIES}) ORDER BY account_id"
    ),
    "websites": (
        "SELECT website_filing_number, entity_id, account_id, website_name, member_id "
        f"FROM website_filings WHERE website_filing_number IN ({_RUN_SITES}) "
        "ORDER BY website_filing_number"
    ),
    "domains": (
        "SELECT domain, unicode_domain, website_filing_number FROM domains "
        f"WHERE website_filing_number IN ({_RUN_SITES}) ORDER BY website_filing_number, domain"
    ),
    "decisions": (
        "SELECT conflict_key, decision, entity_id, decided_by FROM review_decisions "
        "ORDER BY conflict_key"
    ),
    "history": (
        "SELECT run_id, started_at, status, records_in, loaded, duplicate, out_of_scope, "
        "quarantined, needs_review FROM runs "
        "WHERE started_at <= (SELECT started_at FROM runs WHERE run_id = :run) "
        f"ORDER BY started_at DESC, run_id DESC LIMIT {HISTORY_RUNS}"
    ),
}


@dataclass
class ReportData:
    """One run as the store holds it: its row, its records, and what they planned."""

    run: dict
    target: str  # display form, password hidden
    dispositions: pd.DataFrame
    entities: pd.DataFrame  # entities of the run's loaded and duplicate records
    accounts: pd.DataFrame  # their accounts
    websites: pd.DataFrame  # websites the run loaded
    domains: pd.DataFrame  # their domains
    history: pd.DataFrame  # runs up to this one, oldest first
    decisions: pd.DataFrame = field(default_factory=pd.DataFrame)  # review decisions so far
    validations: dict[str, dict] = field(default_factory=dict)


def latest_run_id(engine: Engine) -> str:
    """The run started last; TargetError when the store has none."""
    with engine.connect() as connection:
        run_id = connection.execute(
            text("SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1")
        ).scalar_one_or_none()
    if run_id is None:
        raise TargetError(f"no run recorded in {display_url(engine.url)}")
    return str(run_id)


def read_report_data(engine: Engine, run_id: str) -> ReportData:
    """Every frame of the run's report, read in one connection."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        run = _run_row(connection, run_id)
        frames = {
            name: pd.read_sql(text(query), connection, params={"run": run_id})
            for name, query in _QUERIES.items()
        }
        validations = read_validations(connection, run_id)
    frames["accounts"]["real_name_verification_required"] = frames["accounts"][
        "real_name_verification_required"
    ].astype(bool)
    history = frames["history"].iloc[::-1].reset_index(drop=True)
    history["started_at"] = history["started_at"].map(utc_text)
    for column in history.columns[3:]:  # counts; NULL for a failed run
        history[column] = pd.Series([None if pd.isna(v) else int(v) for v in history[column]],
                                    dtype=object)
    return ReportData(
        run=run,
        target=display_url(engine.url),
        dispositions=frames["dispositions"].astype(object),
        entities=frames["entities"],
        accounts=frames["accounts"],
        websites=frames["websites"],
        domains=frames["domains"],
        history=history,
        decisions=frames["decisions"].astype(object),
        validations=validations,
    )


def _run_row(connection: Connection, run_id: str) -> dict:
    row = (
        connection.execute(
            text(
                "SELECT run_id, started_at, finished_at, status, error, sources, records_in "
                "FROM runs WHERE run_id = :run"
            ),
            {"run": run_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise UsageError(f"no run {run_id!r} in {display_url(connection.engine.url)}")
    run = dict(row)
    run["started_at"] = utc_text(run["started_at"])
    run["finished_at"] = utc_text(run["finished_at"])
    return run


def utc_text(value: object) -> str | None:
    """A stored time as `2025-01-01T08:00:00Z`; SQLite hands back naive UTC, PostgreSQL aware."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
