"""Accounts of the run's entities by kind and by real-name verification requirement."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.canonical import ACCOUNT_KINDS
from icp_migrate.reports.artifact_text import md
from icp_migrate.reports.charts import bar_chart
from icp_migrate.reports.page import section
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries


def read(q: ReportQueries) -> pd.DataFrame:
    """account_kind, real_name ('required' or 'not required'), accounts."""
    return q.accounts()


def by_kind(accounts: pd.DataFrame) -> dict[str, int]:
    kinds = accounts.groupby("account_kind")["accounts"].sum() if len(accounts) else {}
    return {k: int(kinds.get(k, 0)) for k in ACCOUNT_KINDS}


def by_real_name(accounts: pd.DataFrame) -> dict[str, int]:
    counts = accounts.groupby("real_name")["accounts"].sum() if len(accounts) else {}
    return {k: int(counts.get(k, 0)) for k in ("required", "not required")}


def html(accounts: pd.DataFrame, run: Run) -> str:
    return section("accounts", "Accounts by kind and real-name requirement", [
        '<div class="charts">'
        + bar_chart("Accounts by kind", list(by_kind(accounts).items()))
        + bar_chart("Real-name verification", list(by_real_name(accounts).items()))
        + "</div>",
    ])


def json(accounts: pd.DataFrame, run: Run) -> dict[str, Any]:
    return {"accounts_by_kind": by_kind(accounts),
            "accounts_by_real_name": by_real_name(accounts)}


def markdown(summary: dict[str, Any]) -> list[str]:
    return ["| accounts | count |", "| --- | ---: |",
            *(f"| {md(k)} | {v:,} |" for k, v in summary["accounts_by_kind"].items()),
            *(f"| real-name {md(k)} | {v:,} |"
              for k, v in summary["accounts_by_real_name"].items()), ""]


SECTION = Section("accounts", "Accounts", read, html, json, markdown)
