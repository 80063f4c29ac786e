"""The run's Great Expectations results as a Data Docs page of our own (gx/index.html).

GX's own `build_data_docs` pages load Bootstrap, jQuery and Vega from CDNs, which the
report must not; this page shows the same validation results, self-contained.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from icp_migrate.reports.expectations import expectation_rows, suite_rows, where
from icp_migrate.reports.page import note, page, section, table


def render_gx_docs(run_id: str, validations: dict[str, dict],
                   locators: pd.DataFrame | None = None) -> str:
    """`locators`: row_id, source, locator of the records the record suite flags."""
    title = f"Great Expectations results of run {run_id}"
    suites = suite_rows(validations)
    rows = expectation_rows(validations, None if locators is None else where(locators))
    body = [
        f"<header><h1>{escape(title)}</h1><p><a href=\"../index.html\">back to the report</a>"
        "</p></header>",
        table(suites, {"suite": "suite", "success": "passed", "evaluated": "expectations",
                       "successful": "succeeded", "unsuccessful": "failed"},
              empty="No validation results were stored for this run."),
        note("The record suite decides quarantine steps 1-3 and names the failing records "
             "by source and line; the plan suites must all pass for a run to load. Values "
             "are masked."),
    ]
    for suite in suites["suite"]:
        mine = rows[rows["suite"] == suite]
        body.append(section(f"suite-{suite}", f"Suite {suite}", [table(mine, {
            "rule": "rule", "expectation": "expectation", "column": "column",
            "condition": "row condition", "arguments": "arguments", "success": "passed",
            "element_count": "rows", "unexpected_count": "unexpected",
            "unexpected_percent": "unexpected %", "observed": "observed",
            "examples": "unexpected (examples)"})]))
    return page(title, body)
