"""What the store already holds, as a Plan, so planning can extend earlier batches."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, Table, select

from icp_migrate.plan import (
    ACCOUNT_COLUMNS,
    DECISION_COLUMNS,
    DOMAIN_COLUMNS,
    ENTITY_COLUMNS,
    LEDGER_COLUMNS,
    WEBSITE_COLUMNS,
    Plan,
)
from icp_migrate.store import schema
from icp_migrate.store.backend import backend_of

_BOOL_COLUMNS = {
    "has_cloud_resources",
    "resources_admin_differs",
    "entity_number_stated",
    "real_name_verification_required",
}
_DATE_COLUMNS = {"filed_on"}


def read_snapshot(engine: Engine) -> Plan:
    """Entities, accounts, websites and domains of the store; dispositions and links empty."""
    # One connection (and, on PostgreSQL, one snapshot) for all four tables, so the
    # frames agree with each other even while another run commits.
    with engine.connect() as connection:
        backend_of(connection).read_snapshot(connection)
        return Plan(
            entities=_read(connection, schema.entities, ENTITY_COLUMNS),
            accounts=_read(connection, schema.accounts, ACCOUNT_COLUMNS),
            website_filings=_read(connection, schema.website_filings, WEBSITE_COLUMNS),
            domains=_read(connection, schema.domains, DOMAIN_COLUMNS),
            decisions=_read(connection, schema.review_decisions, DECISION_COLUMNS),
            ledger=_ledger(connection),
        )


def _ledger(connection: Connection) -> pd.DataFrame:
    """Every conflict of the target with its claimants and its decision (blank if open)."""
    c, k, d = schema.conflicts, schema.conflict_competitors, schema.review_decisions
    query = (select(c.c.conflict_id, c.c.conflict_key, k.c.claimant, d.c.decision,
                    d.c.entity_id.label("chosen"))
             .join(k, k.c.conflict_id == c.c.conflict_id)
             .outerjoin(d, d.c.conflict_key == c.c.conflict_id)
             .order_by(c.c.conflict_id, k.c.claimant))
    return pd.read_sql(query, connection, dtype=object)[list(LEDGER_COLUMNS)]


def _read(connection: Connection, table: Table, columns: tuple[str, ...]) -> pd.DataFrame:
    query = select(*(table.c[name] for name in columns)).order_by(*table.primary_key.columns)
    frame = pd.read_sql(query, connection)
    for name in columns:
        if name in _BOOL_COLUMNS:
            frame[name] = frame[name].astype(bool)
        elif name in _DATE_COLUMNS:
            frame[name] = pd.to_datetime(frame[name])
    return frame[list(columns)]
