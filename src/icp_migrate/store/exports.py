"""What the account plan export reads: the target's accounts with their entities, websites,
domains and legacy member ids, as frames of one snapshot."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, text

from icp_migrate.store.backend import backend_of

_QUERIES = {
    "accounts": (
        "SELECT a.account_id, a.account_kind, a.real_name_verification_required, e.entity_id, "
        "e.entity_type, e.name AS entity_name, e.cert_type, e.cert_number, e.province, "
        "e.entity_filing_number FROM accounts a JOIN entities e ON e.entity_id = a.entity_id"
    ),
    "websites": "SELECT website_filing_number, account_id FROM website_filings",
    "domains": (
        "SELECT d.domain, w.account_id FROM domains d "
        "JOIN website_filings w ON w.website_filing_number = d.website_filing_number"
    ),
    # Every member whose loaded or duplicate records (any run) went to the entity.
    "members": (
        "SELECT entity_id, member_id FROM record_dispositions "
        "WHERE disposition IN ('loaded', 'duplicate') AND entity_id IS NOT NULL "
        "AND member_id IS NOT NULL "
        "UNION SELECT entity_id, member_id FROM website_filings WHERE member_id IS NOT NULL"
    ),
}


def read_plan_frames(engine: Engine) -> dict[str, pd.DataFrame]:
    """`accounts` (with their entity's fields), `websites` and `domains` (by account_id) and
    `members` (entity_id, member_id), read in one snapshot."""
    with engine.connect() as connection:
        backend_of(connection).read_snapshot(connection)
        return {name: pd.read_sql(text(query), connection) for name, query in _QUERIES.items()}
