"""The runs up to this one, oldest first, with their dispositions."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.reports.charts import DISPOSITION_COLORS, history_chart
from icp_migrate.reports.page import section, table
from icp_migrate.reports.parts import records
from icp_migrate.reports.section import Run, Section
from icp_migrate.reports.times import utc_text
from icp_migrate.store.report_queries import ReportQueries

HISTORY_RUNS = 30  # runs shown in the history chart, this one and those before it


def read(q: ReportQueries) -> pd.DataFrame:
    """run_id, started_at (UTC text), status, records_in and one column per disposition
    (None for a failed run), oldest first."""
    history = q.history(HISTORY_RUNS).iloc[::-1].reset_index(drop=True)
    history["started_at"] = history["started_at"].map(utc_text)
    for column in history.columns[3:]:  # counts; NULL for a failed run
        history[column] = pd.Series([None if pd.isna(v) else int(v) for v in history[column]],
                                    dtype=object)
    return history


def html(h: pd.DataFrame, run: Run) -> str:
    runs = [(str(r["run_id"]), str(r["status"]),
             {d: 0 if pd.isna(r[d]) else int(r[d]) for d in DISPOSITIONS})
            for _, r in h.iterrows()]
    chart = history_chart("Dispositions per run", runs, DISPOSITIONS, DISPOSITION_COLORS,
                          current=str(run.run["run_id"]))
    return section("history", "History of runs", [
        f'<div class="charts">{chart}</div>',
        table(h, {"run_id": "run", "started_at": "started", "status": "status",
                  "records_in": "records in", **{d: d.replace("_", " ") for d in DISPOSITIONS}}),
    ])


def json(h: pd.DataFrame, run: Run) -> dict[str, Any]:
    return {"history": records(h)}


SECTION = Section("history", "History", read, html, json)
