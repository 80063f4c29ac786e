"""The target's conflict ledger as conflict review reads and writes it: the open conflicts
with their claimants, the runs that held records of conflicts, and review decisions."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, Row, func, insert, select

from icp_migrate.store.schema import (
    conflict_competitors,
    conflicts,
    record_dispositions,
    review_decisions,
    runs,
)

# What the ledger describes of each claimant of an open conflict.
DESCRIPTION_COLUMNS = ("claimant", "owner", "role", "cert_type", "cert_number", "name",
                       "member_ids", "websites", "domains", "records", "detail")


def open_conflicts(engine: Engine) -> pd.DataFrame:
    """Every open conflict of the target (from any run), one row per claimant, with its
    description and its age (runs started since the run that opened it)."""
    c, k, d = conflicts, conflict_competitors, review_decisions
    later, opened = runs.alias("later_runs"), runs.alias("opened_runs")
    age = select(func.count()).select_from(later).where(
        later.c.started_at > opened.c.started_at).correlate(opened).scalar_subquery()
    query = (select(c.c.conflict_id, c.c.conflict_key, c.c.kind, c.c.opened_run_id,
                    age.label("age_runs"), *(k.c[n] for n in DESCRIPTION_COLUMNS))
             .join(k, k.c.conflict_id == c.c.conflict_id)
             .join(opened, opened.c.run_id == c.c.opened_run_id)
             .where(c.c.conflict_id.not_in(select(d.c.conflict_key)))
             .order_by(c.c.conflict_id, k.c.claimant))
    with engine.connect() as connection:
        return pd.read_sql(query, connection, dtype=object)


def completed_runs_holding(engine: Engine, conflict_ids: list[str]) -> list[Row[Any]]:
    """The runs rows of the completed runs that held records (needs_review) of any of
    `conflict_ids`, oldest first."""
    if not conflict_ids:
        return []
    held = select(record_dispositions.c.run_id).where(
        record_dispositions.c.disposition == "needs_review",
        record_dispositions.c.conflict_key.in_(conflict_ids))
    query = (select(runs).where(runs.c.status == "completed").where(runs.c.run_id.in_(held))
             .order_by(runs.c.started_at))
    with engine.connect() as connection:
        return list(connection.execute(query).all())


def record_decisions(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert review decisions (review_decisions' columns), all or none."""
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(review_decisions), rows)
