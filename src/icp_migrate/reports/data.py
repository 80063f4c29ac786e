"""What a run's report is made of, read from the store: the run's row, and what each
section of SECTIONS gathers through its query (`store/report_queries.py`), as stored.

`tests/report_oracle.py` computes the same ReportData in pandas from whole frames: the
reference the tests hold the store's SQL to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from icp_migrate.errors import TargetError, UsageError
from icp_migrate.reports.parts import ITEMS_PER_ROW, LIST_ROWS, Capped
from icp_migrate.reports.section import Run
from icp_migrate.reports.sections import SECTIONS
from icp_migrate.reports.times import utc_text
from icp_migrate.store import runs
from icp_migrate.store.report_queries import ReportQueries, report_queries
from icp_migrate.store.target import display_url

PREVIEW = "preview"  # a dry run's report: what the run would make of the target
__all__ = ["PREVIEW", "ITEMS_PER_ROW", "LIST_ROWS", "Capped", "ReportData", "latest_run_id",
           "read_report_data", "utc_text"]


@dataclass
class ReportData:
    """One run as the store holds it: its row, and each section's data by section name.

    Values are as stored (certificate numbers whole, names unescaped): sections mask."""

    run: dict
    target: str  # display form, password hidden
    parts: dict[str, Any]  # section name -> what its `read` gave

    @property
    def facts(self) -> Run:
        return Run(self.run, self.target)


def latest_run_id(engine: Engine) -> str:
    """The run started last, whatever its status; TargetError when the store has none."""
    run_id = runs.latest_run_id(engine)
    if run_id is None:
        raise TargetError(f"no run recorded in {display_url(engine.url)}")
    return run_id


def read_report_data(engine: Engine, run_id: str, preview_of: str | None = None,
                     ) -> ReportData:
    """Every section of the run's report, counted by the database in one connection.
    `preview_of`: the target a dry run previews, `engine` its scratch target; the run's
    status shows as `preview` (in its facts and its row of the history)."""
    with report_queries(engine, run_id, LIST_ROWS, ITEMS_PER_ROW) as q:
        run = _run(q, engine)
        parts = {section.name: section.read(q) for section in SECTIONS}
    if preview_of is not None:
        run["status"] = PREVIEW
        history = parts["history"]
        history.loc[history["run_id"] == run_id, "status"] = PREVIEW
    return ReportData(run=run, target=display_url(preview_of or engine.url), parts=parts)


def _run(q: ReportQueries, engine: Engine) -> dict:
    run = q.run()
    if run is None:
        raise UsageError(f"no run {q.run_id!r} in {display_url(engine.url)}")
    run["started_at"] = utc_text(run["started_at"])
    run["finished_at"] = utc_text(run["finished_at"])
    return run
