"""The run report as JSON (summary.json): the same sections as the page, for machines."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from icp_migrate.masking import mask_text
from icp_migrate.reports import data as report_data
from icp_migrate.reports.data import ReportData
from icp_migrate.reports.expectations import expectation_rows, suite_rows
from icp_migrate.reports.sections import Capped, Sections
from icp_migrate.store.target import display_url

SCHEMA_VERSION = 2  # 2: list sections are {"total", "rows"}: the first LIST_ROWS rows
REVIEW_EXPORT = "icp-migrate review export"  # every open conflict of the target


def summary_dict(data: ReportData, s: Sections) -> dict[str, Any]:
    run = data.run
    sources = json.loads(run["sources"]) if run.get("sources") else []
    total = s.reconciliation[s.reconciliation["source"] == "total"]
    failed = expectation_rows(data.validations)
    failed = failed[failed["success"].eq(False)]
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "run_id": run["run_id"],
            "status": run["status"],
            "started_at": run["started_at"],
            "finished_at": run["finished_at"],
            "error": mask_text(str(run["error"])) if run.get("error") else None,
            "target": data.target,
            "sources": [display_url(x) if "://" in x else x for x in sources],
        },
        "reconciliation": {
            "records_in": int(total["records_in"].iloc[0]) if len(total) else 0,
            "runs_records_in": None if run.get("records_in") is None else int(run["records_in"]),
            "balanced": bool(total["balanced"].all()) if len(total) else True,
            "by_source": _records(s.reconciliation[s.reconciliation["source"] != "total"]),
        },
        "dispositions": _records(total.drop(columns=["source", "records_in", "balanced"]))[0]
        if len(total) else {},
        "dispositions_by_reason": _records(s.by_reason),
        "entities_by_type": s.entities_by_type,
        "entities_by_province": s.entities_by_province,
        "accounts_by_kind": s.accounts_by_kind,
        "accounts_by_real_name": s.accounts_by_real_name,
        "list_limits": {"rows": report_data.LIST_ROWS,
                        "items_per_row": report_data.ITEMS_PER_ROW,
                        "samples_per_reason": report_data.SAMPLES_PER_REASON},
        "members_split": _capped(s.members_split),
        "entities_merged": _capped(s.entities_merged),
        "multi_domain_websites": _capped(s.multi_domain),
        "possible_matches": _capped(s.possible_matches),
        "conflicts": {"total": s.conflicts.total, "open": s.conflicts_open,
                      "decided": s.conflicts.total - s.conflicts_open,
                      "full_list": REVIEW_EXPORT, "rows": _records(s.conflicts.rows)},
        "open_conflicts": _capped(s.open_conflicts),
        "quarantine": {"total": s.quarantine.total, "records": s.quarantined,
                       "rows": _records(s.quarantine.rows)},
        "records_with_warnings": s.warnings,
        "validations": {
            "suites": _records(suite_rows(data.validations)),
            "failed_expectations": [f"{r.suite}: {r.rule}" for r in failed.itertuples()],
            "data_docs": "gx/index.html",
        },
        "history": _records(data.history),
    }


def render_summary(data: ReportData, s: Sections, content: dict[str, Any] | None = None) -> str:
    """Stable text: same store, same bytes. `content`: summary_dict(data, s), if at hand."""
    return json.dumps(content if content is not None else summary_dict(data, s),
                      ensure_ascii=False, indent=2) + "\n"


def _capped(part: Capped) -> dict[str, Any]:
    return {"total": part.total, "rows": _records(part.rows)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
