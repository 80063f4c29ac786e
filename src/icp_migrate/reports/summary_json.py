"""The run report as JSON (summary.json): the same sections as the page, for machines."""

from __future__ import annotations

import json
from typing import Any

from icp_migrate.masking import mask_text
from icp_migrate.reports.data import ReportData
from icp_migrate.reports.sections import SECTIONS
from icp_migrate.store.target import display_url

SCHEMA_VERSION = 2  # 2: list sections are {"total", "rows"}: the first LIST_ROWS rows


def summary_dict(data: ReportData) -> dict[str, Any]:
    """The run, then each section's keys, in SECTIONS order."""
    run = data.run
    sources = json.loads(run["sources"]) if run.get("sources") else []
    content: dict[str, Any] = {
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
    }
    for section in SECTIONS:
        content.update(section.json(data.parts[section.name], data.facts))
    return content


def render_summary(data: ReportData, content: dict[str, Any] | None = None) -> str:
    """Stable text: same store, same bytes. `content`: summary_dict(data), if at hand."""
    return json.dumps(content if content is not None else summary_dict(data),
                      ensure_ascii=False, indent=2) + "\n"
