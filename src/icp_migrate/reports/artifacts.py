"""The run's summary as Prefect artifacts on the flow run: one markdown, one table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from icp_migrate.canonical import DISPOSITIONS

MARKDOWN_KEY = "icp-migrate-report"
TABLE_KEY = "icp-migrate-reconciliation"
QUARANTINE_REASONS = 25  # rows of the markdown's quarantine table


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
    run = summary["run"]
    rec = summary["reconciliation"]
    conflicts = summary["conflicts"]
    lines = [
        f"# ICP migration run {_md(run['run_id'])}: {_md(run['status'])}",
        "",
        f"Target {_md(run['target'])}; report `{_md(str(index))}`.",
        "",
    ]
    if run.get("error"):
        lines += [f"**Error:** {_md(run['error'])}", ""]
    lines += [
        f"Records in: **{rec['records_in']:,}**, reconciled: "
        f"**{'yes' if rec['balanced'] else 'NO'}**",
        "",
        "| disposition | records |",
        "| --- | ---: |",
        *(f"| {_md(k)} | {v:,} |" for k, v in summary["dispositions"].items()),
        "",
        "| accounts | count |",
        "| --- | ---: |",
        *(f"| {_md(k)} | {v:,} |" for k, v in summary["accounts_by_kind"].items()),
        *(f"| real-name {_md(k)} | {v:,} |"
          for k, v in summary["accounts_by_real_name"].items()),
        "",
        f"Conflicts awaiting review: **{conflicts['total']:,}** ({conflicts['open']:,} open, "
        f"{conflicts['decided']:,} decided); open conflicts of the target (any run): "
        f"**{summary['open_conflicts']['total']:,}** (the full list: "
        f"`{_md(conflicts['full_list'])}`); "
        f"websites with several domains (follow-up): "
        f"**{summary['multi_domain_websites']['total']:,}**; legacy members split: "
        f"**{summary['members_split']['total']:,}**; entities merged: "
        f"**{summary['entities_merged']['total']:,}**.",
        "",
    ]
    quarantine = summary["quarantine"]
    if quarantine["rows"]:
        shown = quarantine["rows"][:QUARANTINE_REASONS]
        lines += ["| quarantine reason | records |", "| --- | ---: |",
                  *(f"| {_md(q['reason'])} | {q['records']:,} |" for q in shown), ""]
        if quarantine["total"] > len(shown):
            lines += [f"The {len(shown)} largest of {quarantine['total']:,} quarantine "
                      "reasons; the report lists more.", ""]
    failed = summary["validations"]["failed_expectations"]
    suites = summary["validations"]["suites"]
    lines.append(f"Great Expectations: {sum(s['success'] for s in suites)} of {len(suites)} "
                 f"suites passed" + (": failed " + _md("; ".join(failed)) if failed else "."))
    return "\n".join(lines) + "\n"


def _md(text: object) -> str:
    """Plain text in markdown: no markup, no table breaks, no raw HTML."""
    value = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for char in "<>*_`[]":
        value = value.replace(char, "\\" + char)
    return value
