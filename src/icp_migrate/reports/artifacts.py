"""The run's summary as Prefect artifacts on the flow run: one markdown (each section's
lines), one table (the reconciliation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.reports.artifact_text import md
from icp_migrate.reports.sections import SECTIONS

MARKDOWN_KEY = "icp-migrate-report"
TABLE_KEY = "icp-migrate-reconciliation"


def publish_artifacts(summary: dict[str, Any], index: Path) -> None:
    """Create both artifacts; call inside a flow or task run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(markdown=summary_markdown(summary, index), key=MARKDOWN_KEY,
                             description="ICP migration run summary")
    create_table_artifact(table=reconciliation_table(summary), key=TABLE_KEY,
                          description="Records in and dispositions per source")


def reconciliation_table(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"source": row["source"], "records_in": row["records_in"],
             **{d: row[d] for d in DISPOSITIONS}, "balanced": row["balanced"]}
            for row in summary["reconciliation"]["by_source"]]


def summary_markdown(summary: dict[str, Any], index: Path) -> str:
    """The run, then each section's lines (SECTIONS order), from summary.json's content."""
    run = summary["run"]
    lines = [f"# ICP migration run {md(run['run_id'])}: {md(run['status'])}", "",
             f"Target {md(run['target'])}; report `{md(str(index))}`.", ""]
    if run.get("error"):
        lines += [f"**Error:** {md(run['error'])}", ""]
    for section in SECTIONS:
        lines += section.markdown(summary)
    return "\n".join(lines) + "\n"
