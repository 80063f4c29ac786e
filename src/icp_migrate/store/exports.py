"""What the exports read: the account plan (accounts with their entities, websites and the
websites' domains, as frames of one snapshot) and one run's records of a disposition."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select, text

from icp_migrate.store.backend import backend_of
from icp_migrate.store.runs import LATEST_FIRST
from icp_migrate.store.schema import record_dispositions, runs

_QUERIES = {
    "accounts": (
        "SELECT a.account_id, a.account_kind, a.real_name_verification_required, e.entity_id, "
        "e.entity_type, e.name AS entity_name, e.cert_type, e.cert_number, e.province, "
        "e.entity_filing_number, a.admin_email "
        "FROM accounts a JOIN entities e ON e.entity_id = a.entity_id"
    ),
    "websites": (
        "SELECT website_filing_number, account_id, website_name, product, filed_on, member_id "
        "FROM website_filings"
    ),
    "domains": "SELECT domain, unicode_domain, website_filing_number FROM domains",
}

# What `records export` lists of each record, in this order.
RECORD_COLUMNS = ("source", "locator", "member_id", "website_filing_number", "disposition",
                  "reasons", "warnings", "entity_id", "conflict_key")


def read_plan_frames(engine: Engine) -> dict[str, pd.DataFrame]:
    """`accounts` (with their entity's fields), `websites` (by account_id) and `domains`
    (by website_filing_number), read in one snapshot."""
    with engine.connect() as connection:
        backend_of(connection).read_snapshot(connection)
        return {name: pd.read_sql(text(query), connection) for name, query in _QUERIES.items()}


def read_run_records(engine: Engine, disposition: str,
                     run_id: str | None) -> tuple[str | None, pd.DataFrame | None]:
    """The run (`run_id`, else the latest started) and its records of `disposition` in the
    run's record order (RECORD_COLUMNS); (None, None) when the target holds no such run."""
    with engine.connect() as connection:
        backend_of(connection).read_snapshot(connection)
        found = select(runs.c.run_id)
        found = (found.where(runs.c.run_id == run_id) if run_id is not None
                 else found.order_by(*LATEST_FIRST).limit(1))
        chosen = connection.execute(found).scalar_one_or_none()
        if chosen is None:
            return None, None
        rd = record_dispositions.c
        query = (select(*(rd[name] for name in RECORD_COLUMNS))
                 .where(rd.run_id == chosen, rd.disposition == disposition)
                 .order_by(rd.row_id))
        return str(chosen), pd.read_sql(query, connection)
