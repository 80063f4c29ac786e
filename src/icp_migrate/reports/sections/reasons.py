"""Dispositions by reason: records per disposition and reason group (the rule behind it)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.reports.charts import DISPOSITION_COLORS, bar_chart
from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import records
from icp_migrate.reports.reasons import run_tally, with_unreasoned
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries

CHART_REASONS = 25  # bars of the chart


def read(q: ReportQueries) -> pd.DataFrame:
    """disposition, reason (its group), records: the run's reason texts tallied by rule
    (run_tally); records without a reason are the rest of their disposition's count."""
    tally, counts = q.reasons(run_tally)
    sums = counts.groupby("disposition")[["records", "with_reasons"]].sum()
    return with_unreasoned(tally.counts, sums["records"] - sums["with_reasons"])


def by_reason(reasons: pd.DataFrame) -> pd.DataFrame:
    """Records per disposition and reason group, largest first within each disposition."""
    columns = ["disposition", "reason", "records"]
    if reasons.empty:
        return pd.DataFrame(columns=columns)
    counts = pd.DataFrame({"disposition": reasons["disposition"].astype(object),
                           "reason": reasons["reason"].astype(object),
                           "records": reasons["records"].astype("int64")})
    counts["order"] = counts["disposition"].map({k: i for i, k in enumerate(DISPOSITIONS)})
    counts = counts.sort_values(["order", "records", "reason"], ascending=[True, False, True])
    return counts[columns].reset_index(drop=True)


def html(reasons: pd.DataFrame, run: Run) -> str:
    rows = by_reason(reasons)
    shown = rows[rows["disposition"] != "loaded"].head(CHART_REASONS)
    chart = bar_chart("Records by reason (all but loaded)",
                      [(f"{r.disposition}: {r.reason}", int(r.records))
                       for r in shown.itertuples(index=False)],
                      colors=[DISPOSITION_COLORS[d] for d in shown["disposition"]])
    return section("reasons", "Dispositions by reason", [
        note("Reasons are grouped by their rule: the text before ':', ';' or '(', numbers "
             "as #."),
        f'<div class="charts">{chart}</div>',
        table(rows, {"disposition": "disposition", "reason": "reason", "records": "records"}),
    ])


def json(reasons: pd.DataFrame, run: Run) -> dict[str, Any]:
    return {"dispositions_by_reason": records(by_reason(reasons))}


SECTION = Section("reasons", "Reasons", read, html, json)
