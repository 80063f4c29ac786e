"""Entities of the run's loaded and duplicate records, by type and by province."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.reports.charts import bar_chart
from icp_migrate.reports.page import note, section
from icp_migrate.reports.parts import nullable
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries


def read(q: ReportQueries) -> pd.DataFrame:
    """entity_type, province, entities (one row a pair, as GROUP BY gives them)."""
    return q.entities()


def counts(frame: pd.DataFrame, column: str, count: str) -> dict[str, int]:
    """Counts per value (NULL as `(unknown)`), largest first, then by value."""
    if frame.empty:
        return {}
    keys = frame[column].map(lambda v: "(unknown)" if nullable(v) is None else str(v))
    summed = frame.assign(key=keys).groupby("key")[count].sum()
    ordered = sorted(summed.items(), key=lambda kv: (-kv[1], kv[0]))
    return {str(k): int(v) for k, v in ordered}


def html(entities: pd.DataFrame, run: Run) -> str:
    return section("entities", "Entities by type and province", [
        note("Entities of this run's loaded and duplicate records."),
        '<div class="charts">'
        + bar_chart("Entities by type", list(counts(entities, "entity_type",
                                                    "entities").items()))
        + bar_chart("Entities by province", list(counts(entities, "province",
                                                        "entities").items()))
        + "</div>",
    ])


def json(entities: pd.DataFrame, run: Run) -> dict[str, Any]:
    return {"entities_by_type": counts(entities, "entity_type", "entities"),
            "entities_by_province": counts(entities, "province", "entities")}


SECTION = Section("entities", "Entities", read, html, json)
