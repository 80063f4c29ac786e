"""The run's Great Expectations results: each suite, each expectation, the failing ones;
the records the record suite flags named by source and line (`gx/index.html` has all)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.reports.artifact_text import md
from icp_migrate.reports.expectations import EXAMPLES, expectation_rows, suite_rows, where
from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import records
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries

GX_PAGE = "gx/index.html"

Validation = tuple[dict[str, dict], pd.DataFrame]


def read(q: ReportQueries) -> Validation:
    """(suite name -> GX result; row_id, source, locator of the records the record suite
    flags, the first EXAMPLES of each expectation)."""
    return q.validation(EXAMPLES)


def html(data: Validation, run: Run) -> str:
    validations, locators = data
    suites = suite_rows(validations)
    rows = expectation_rows(validations, where(locators))
    failed = rows[rows["success"].eq(False)]
    return section("validation", "Great Expectations results", [
        f'<p><a href="{GX_PAGE}">Data Docs of this run (every expectation, its arguments '
        "and counts)</a></p>",
        table(suites, {"suite": "suite", "success": "passed", "evaluated": "expectations",
                       "successful": "succeeded", "unsuccessful": "failed"},
              empty="No validation results were stored for this run."),
        table(rows, {"suite": "suite", "rule": "rule", "column": "column",
                     "success": "passed", "element_count": "rows",
                     "unexpected_count": "unexpected", "examples": "unexpected (examples)"},
              empty="", table_id="expectations"),
        note(f"{len(failed):,} failed expectation(s).") if len(rows) else "",
    ])


def json(data: Validation, run: Run) -> dict[str, Any]:
    failed = expectation_rows(data[0])
    failed = failed[failed["success"].eq(False)]
    return {"validations": {
        "suites": records(suite_rows(data[0])),
        "failed_expectations": [f"{r.suite}: {r.rule}" for r in failed.itertuples()],
        "data_docs": GX_PAGE,
    }}


def markdown(summary: dict[str, Any]) -> list[str]:
    failed = summary["validations"]["failed_expectations"]
    suites = summary["validations"]["suites"]
    return [f"Great Expectations: {sum(s['success'] for s in suites)} of {len(suites)} "
            f"suites passed" + (": failed " + md("; ".join(failed)) if failed else ".")]


SECTION = Section("validation", "Expectations", read, html, json, markdown)
