"""What `icp-migrate show` reads of a target: row counts and the first accounts."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, func, select, text

from icp_migrate.store.binds import connected
from icp_migrate.store.schema import metadata

# The tables `show` counts, in its order.
COUNTED_TABLES = ("entities", "accounts", "website_filings", "domains", "runs",
                  "record_dispositions", "entity_links")
_ACCOUNTS = (
    "SELECT a.account_id, a.account_kind, a.real_name_verification_required AS real_name, "
    "e.entity_type, e.name, e.cert_type, e.cert_number, "
    "(SELECT COUNT(*) FROM website_filings w WHERE w.entity_id = e.entity_id) AS websites "
    "FROM accounts a JOIN entities e ON e.entity_id = a.entity_id "
    "ORDER BY e.name, a.account_kind LIMIT :n"
)


def table_counts(bind: Engine | Connection) -> dict[str, int]:
    """Rows of each of COUNTED_TABLES."""
    with connected(bind) as connection:
        return {name: int(connection.execute(
            select(func.count()).select_from(metadata.tables[name])).scalar_one())
            for name in COUNTED_TABLES}


def first_accounts(bind: Engine | Connection, limit: int) -> pd.DataFrame:
    """The first `limit` accounts by entity name then kind, with their entity's type, name
    and certificate (whole: the caller masks it) and its number of websites."""
    with connected(bind) as connection:
        return pd.read_sql(text(_ACCOUNTS), connection, params={"n": limit})
