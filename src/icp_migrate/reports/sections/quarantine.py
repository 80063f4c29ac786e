"""Quarantine reasons, largest first, each with a few masked sample records; and how many
of the run's records carry a warning."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from icp_migrate.reports.artifact_text import md
from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import (
    LIST_ROWS,
    SAMPLES_PER_REASON,
    Capped,
    capped,
    masked,
    records,
    shown_note,
    text,
)
from icp_migrate.reports.reasons import NO_REASON, reason_group, run_tally, with_unreasoned
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries

COLUMNS = ["reason", "records", "samples"]
SAMPLE_FIELDS = ("source", "locator", "member_id", "reasons", "warnings")
MARKDOWN_REASONS = 25  # rows of the artifact's quarantine table


@dataclass
class Quarantine:
    reasons: Capped  # COLUMNS: reason groups, samples: dicts of SAMPLE_FIELDS
    records: int  # quarantined records
    warnings: int  # records of the run with a warning


def read(q: ReportQueries) -> Quarantine:
    """The largest reason groups, each with its first records by row id.

    A group's first SAMPLES_PER_REASON records lie among the first records of the texts
    that start earliest in it (each text's first row is one of the group's): the tally
    keeps those texts, and only their first rows are read.
    """
    tally, counts = q.reasons(run_tally)
    held = tally.counts[tally.counts["disposition"] == "quarantined"]
    quarantined = counts.loc[counts["disposition"] == "quarantined"]
    unreasoned = (quarantined["records"] - quarantined["with_reasons"]).sum()
    groups = with_unreasoned(held, pd.Series({"quarantined": int(unreasoned)}))
    groups = groups.assign(records=groups["records"].astype("int64")).sort_values(
        ["records", "reason"], ascending=[False, True], ignore_index=True)
    totals = (int(quarantined["records"].sum()), int(counts["with_warnings"].sum()))
    shown = groups.head(LIST_ROWS)
    if shown.empty:
        return Quarantine(Capped(pd.DataFrame(columns=COLUMNS), len(groups)), *totals)
    earliest = tally.earliest[tally.earliest["reason"].isin(set(shown["reason"]))]
    nulls = NO_REASON in set(shown["reason"])  # records without any reason text
    rows = q.quarantine(earliest["reasons"].tolist(), nulls, SAMPLES_PER_REASON)
    rows["reason"] = rows["reasons"].map(reason_group)
    rows = rows.sort_values("row_id", kind="stable")
    samples = {reason: [{k: getattr(r, k) for k in SAMPLE_FIELDS}
                        for r in group.head(SAMPLES_PER_REASON).itertuples(index=False)]
               for reason, group in rows.groupby("reason", sort=False)}
    shown = shown.assign(samples=[samples.get(r, []) for r in shown["reason"]])
    return Quarantine(Capped(shown[COLUMNS].reset_index(drop=True), len(groups)), *totals)


def _shape(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "reason": rows["reason"].astype(object),
        "records": rows["records"].astype("int64"),
        "samples": [[{"source": text(s["source"]), "locator": text(s["locator"]),
                      "member_id": text(s["member_id"]), "reasons": masked(s["reasons"]),
                      "warnings": masked(s["warnings"])} for s in samples]
                    for samples in rows["samples"]],
    }, columns=COLUMNS)


def html(data: Quarantine, run: Run) -> str:
    reasons = capped(data.reasons, _shape)
    parts = [note(f"{data.records:,} records quarantined, for {reasons.total:,} reasons; "
                  f"up to {SAMPLES_PER_REASON} masked samples each.")] if data.records else []
    parts.append(shown_note(reasons, "reasons", "largest first"))
    for row in reasons.rows.itertuples(index=False):
        samples = pd.DataFrame(row.samples, columns=list(SAMPLE_FIELDS))
        parts.append(f"<h3>{escape(str(row.reason))} ({int(row.records):,})</h3>"
                     + table(samples, {"source": "source", "locator": "where",
                                       "member_id": "member id", "reasons": "reasons",
                                       "warnings": "warnings"}))
    return section("quarantine", "Quarantine reasons, with masked samples",
                   [p for p in parts if p] or [note("No record was quarantined.")])


def json(data: Quarantine, run: Run) -> dict[str, Any]:
    reasons = capped(data.reasons, _shape)
    return {"quarantine": {"total": reasons.total, "records": data.records,
                           "rows": records(reasons.rows)},
            "records_with_warnings": data.warnings}


def markdown(summary: dict[str, Any]) -> list[str]:
    quarantine = summary["quarantine"]
    if not quarantine["rows"]:
        return []
    shown = quarantine["rows"][:MARKDOWN_REASONS]
    lines = ["| quarantine reason | records |", "| --- | ---: |",
             *(f"| {md(q['reason'])} | {q['records']:,} |" for q in shown), ""]
    if quarantine["total"] > len(shown):
        lines += [f"The {len(shown)} largest of {quarantine['total']:,} quarantine reasons; "
                  "the report lists more.", ""]
    return lines


SECTION = Section("quarantine", "Quarantine", read, html, json, markdown)
