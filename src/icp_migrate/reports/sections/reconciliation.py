"""Reconciliation: per source, records in = the sum of their dispositions."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.reports.artifact_text import md
from icp_migrate.reports.charts import DISPOSITION_COLORS, stacked_bars
from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import records
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries


def read(q: ReportQueries) -> pd.DataFrame:
    """source, disposition, records, with_reasons, with_warnings (one row a pair)."""
    return q.reconciliation()


def table_of(counts: pd.DataFrame) -> pd.DataFrame:
    """Per source: records in, each disposition, and whether they add up; a total row last.

    `counts`: source, disposition, records (one row per pair, as GROUP BY gives them)."""
    columns = ["source", "records_in", *DISPOSITIONS, "balanced"]
    if counts.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({"source": counts["source"].fillna("(unknown)").astype(str),
                          "disposition": counts["disposition"].astype(str),
                          "records": counts["records"].astype("int64")})
    table_ = frame.pivot_table(index="source", columns="disposition", values="records",
                               aggfunc="sum", fill_value=0)
    table_ = table_.reindex(columns=list(DISPOSITIONS), fill_value=0)
    table_.insert(0, "records_in", frame.groupby("source")["records"].sum())
    table_ = table_.sort_index()
    table_.loc["total"] = table_.sum()
    table_["balanced"] = table_["records_in"] == table_[list(DISPOSITIONS)].sum(axis=1)
    out = table_.reset_index(names="source")
    out.columns.name = None
    out[["records_in", *DISPOSITIONS]] = out[["records_in", *DISPOSITIONS]].astype("int64")
    out["source"] = out["source"].astype(object)
    out["balanced"] = out["balanced"].astype(bool)
    return out[columns]


def html(counts: pd.DataFrame, run: Run) -> str:
    table_ = table_of(counts)
    recorded = run.run.get("records_in")
    total = int(table_["records_in"].iloc[-1]) if len(table_) else 0
    if counts.empty:
        check = note("No record dispositions were stored for this run"
                     + (" (it failed: nothing was loaded)." if run.run["status"] == "failed"
                        else "."))
    else:
        ok = recorded is None or int(recorded) == total
        check = (f'<p>Records in: <b>{total:,}</b> = sum of dispositions '
                 f'<b>{int(table_[list(DISPOSITIONS)].iloc[-1].sum()):,}</b> '
                 f'{"<span class=ok>✓</span>" if ok else "<span class=bad>✗</span>"}'
                 + (f" (runs table: {int(recorded):,})" if recorded is not None else "")
                 + "</p>")
    headers = {"source": "source", "records_in": "records in",
               **{d: d.replace("_", " ") for d in DISPOSITIONS}, "balanced": "adds up"}
    per_source = table_[table_["source"] != "total"]
    chart = stacked_bars(
        "Dispositions by source",
        [(_short_source(str(r["source"])), {d: int(r[d]) for d in DISPOSITIONS})
         for _, r in per_source.iterrows()],
        DISPOSITIONS, DISPOSITION_COLORS)
    return section("reconciliation", "Reconciliation: records in = dispositions, per source",
                   [check, table(table_, headers, table_id="reconciliation-table"),
                    f'<div class="charts">{chart}</div>'])


def _short_source(source: str) -> str:
    """A file's name, or a database URL's last part: chart labels are short."""
    return source.rstrip("/").rsplit("/", 1)[-1] or source


def json(counts: pd.DataFrame, run: Run) -> dict[str, Any]:
    table_ = table_of(counts)
    total = table_[table_["source"] == "total"]
    recorded = run.run.get("records_in")
    return {
        "reconciliation": {
            "records_in": int(total["records_in"].iloc[0]) if len(total) else 0,
            "runs_records_in": None if recorded is None else int(recorded),
            "balanced": bool(total["balanced"].all()) if len(total) else True,
            "by_source": records(table_[table_["source"] != "total"]),
        },
        "dispositions": records(total.drop(columns=["source", "records_in", "balanced"]))[0]
        if len(total) else {},
    }


def markdown(summary: dict[str, Any]) -> list[str]:
    rec = summary["reconciliation"]
    return [f"Records in: **{rec['records_in']:,}**, reconciled: "
            f"**{'yes' if rec['balanced'] else 'NO'}**", "",
            "| disposition | records |", "| --- | ---: |",
            *(f"| {md(k)} | {v:,} |" for k, v in summary["dispositions"].items()), ""]


SECTION = Section("reconciliation", "Reconciliation", read, html, json, markdown)
