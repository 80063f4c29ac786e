"""The runs of a target: which one is the latest, and what a run recorded.

"Latest" means the run started last (ties: the greater run id), in two flavours:
`latest_run_id` of any status (the report of the latest run, even one that failed) and
`latest_completed_run` (only a completed run can be repeated by `review apply --now`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Row, select

from icp_migrate.store.binds import connected
from icp_migrate.store.schema import runs

# The order that makes the first row the latest run.
LATEST_FIRST = (runs.c.started_at.desc(), runs.c.run_id.desc())
# What a report shows of its run.
_REPORTED = ("run_id", "started_at", "finished_at", "status", "error", "sources", "records_in")
# What `show` lists of the latest runs: counts and settings.
_LISTED = ("run_id", "status", "records_in", "loaded", "duplicate", "out_of_scope",
           "quarantined", "needs_review", "cutoff", "mapping_name", "mapping_path", "sources")


def latest_run_id(bind: Engine | Connection) -> str | None:
    """The run started last, whatever its status; None when the target has no run."""
    with connected(bind) as connection:
        run_id = connection.execute(
            select(runs.c.run_id).order_by(*LATEST_FIRST).limit(1)).scalar_one_or_none()
    return None if run_id is None else str(run_id)


def latest_completed_run(bind: Engine | Connection) -> Row[Any] | None:
    """The runs row (every column: the run's settings) of the completed run started last."""
    with connected(bind) as connection:
        return connection.execute(
            select(runs).where(runs.c.status == "completed").order_by(*LATEST_FIRST).limit(1)
        ).first()


def run_row(bind: Engine | Connection, run_id: str) -> dict[str, Any] | None:
    """A run's id, times, status, error, sources (JSON) and records in, as stored."""
    with connected(bind) as connection:
        row = connection.execute(
            select(*(runs.c[n] for n in _REPORTED)).where(runs.c.run_id == run_id)
        ).mappings().one_or_none()
    return None if row is None else dict(row)


def recent_runs(bind: Engine | Connection, limit: int) -> pd.DataFrame:
    """The `limit` latest runs, latest first: status, counts and recorded settings."""
    with connected(bind) as connection:
        return pd.read_sql(select(*(runs.c[n] for n in _LISTED)).order_by(*LATEST_FIRST)
                           .limit(limit), connection)
