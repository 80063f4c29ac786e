"""Conflicts awaiting review: every open conflict of the target's ledger (from any run),
and the run's records held for review, with any decision made on their conflict since."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from icp_migrate.reports.artifact_text import md
from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import (
    Capped,
    capped,
    capped_json,
    lists,
    masked,
    more,
    nullable,
    records,
    shown_note,
    text,
)
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries

HELD_COLUMNS = ["conflict_key", "decision", "decided_entity", "decided_by", "source",
                "locator", "member_id", "website_filing_number", "reasons"]
OPEN_COLUMNS = ["conflict_id", "kind", "opened_run_id", "age_runs", "competitors",
                "competitor_ids", "in_run"]
REVIEW_EXPORT = "icp-migrate review export"  # every open conflict of the target


@dataclass
class Conflicts:
    held: Capped  # HELD_COLUMNS: the run's needs_review records by row id, any decision
    decided: int  # of held.total, records whose conflict a person decided
    # OPEN_COLUMNS: every open conflict of the ledger, the oldest first: age_runs counts the
    # runs started after the one that opened it; competitor_ids: the first ITEMS_PER_ROW
    # claimants (entity ids, `v:` versions); in_run: 1 when this run held records in it
    open: Capped


def read(q: ReportQueries) -> Conflicts:
    counts = q.reconciliation()
    total = int(counts.loc[counts["disposition"] == "needs_review", "records"].sum())
    found = q.conflicts(total)
    held = Capped(found["held"][HELD_COLUMNS] if total else
                  pd.DataFrame(columns=HELD_COLUMNS), total)
    top, opened = found["open"]
    if top.empty:
        return Conflicts(held, found["decided"], Capped(pd.DataFrame(columns=OPEN_COLUMNS),
                                                        opened))
    ids = top["k"].tolist()
    listed = lists(found["claimants"], "k", "v")
    return Conflicts(held, found["decided"], Capped(pd.DataFrame({
        "conflict_id": ids,
        "kind": top["kind"].to_numpy(dtype=object),
        "opened_run_id": top["opened_run_id"].to_numpy(dtype=object),
        "age_runs": top["age_runs"].astype("int64").to_numpy(),
        "competitors": top["n"].astype("int64").to_numpy(),
        "competitor_ids": [listed.get(k, []) for k in ids],
        "in_run": top["in_run"].astype("int64").to_numpy(),
    }, columns=OPEN_COLUMNS), opened))


def _held(rows: pd.DataFrame) -> pd.DataFrame:
    """Each record's conflict, whether a person has decided it since (`icp-migrate review
    apply`; the next run loads accordingly) and its masked reasons."""
    review = [
        f"decided: {d}{':' + e if isinstance(e, str) else ''} by {who}" if text(d) else "open"
        for d, e, who in zip(rows["decision"], rows["decided_entity"], rows["decided_by"],
                             strict=True)]
    return pd.DataFrame({
        "conflict": rows["conflict_key"].map(nullable),
        "review": review,
        "source": rows["source"].map(nullable),
        "locator": rows["locator"].map(nullable),
        "member_id": rows["member_id"].map(nullable),
        "website_filing_number": rows["website_filing_number"].map(nullable),
        "reasons": rows["reasons"].map(masked),
    }).astype(object)


def _open(rows: pd.DataFrame) -> pd.DataFrame:
    """Competitors are entity ids or website versions `v:…`, never a certificate number."""
    return pd.DataFrame({
        "conflict_id": rows["conflict_id"].map(text),
        "kind": rows["kind"].map(text),
        "opened_in_run": rows["opened_run_id"].map(text),
        "age_runs": rows["age_runs"].astype("int64"),
        "competitors": rows["competitors"].astype("int64"),
        "competitor_ids": [[text(c) for c in ids] for ids in rows["competitor_ids"]],
        "held_in_run": pd.Series([bool(v) for v in rows["in_run"]], index=rows.index,
                                 dtype=object),
    }, columns=["conflict_id", "kind", "opened_in_run", "age_runs", "competitors",
                "competitor_ids", "held_in_run"])


def html(data: Conflicts, run: Run) -> str:
    held, opened = capped(data.held, _held), capped(data.open, _open)
    total, still_open = held.total, held.total - data.decided
    rows = opened.rows.assign(
        competitor_ids=[more(ids, n) for ids, n in zip(opened.rows["competitor_ids"],
                                                       opened.rows["competitors"], strict=True)],
        held_in_run=["yes" if h else "no" for h in opened.rows["held_in_run"]])
    return section("conflicts", f"Conflicts awaiting review ({total:,})", [
        f"<p>Records held for review: <b>{total:,}</b>; their conflict still open: "
        f"<b>{still_open:,}</b>, decided since: <b>{total - still_open:,}</b>.</p>"
        if total else "",
        f"<h3>Open conflicts of the target, from any run ({opened.total:,})</h3>",
        note("Every open conflict of the target, with its candidates: icp-migrate review "
             "export. Age: runs started since the run that opened it.")
        if opened.total or total else "",
        shown_note(opened, "conflicts", "oldest first, then by id"),
        table(rows, {"conflict_id": "conflict", "kind": "kind",
                     "opened_in_run": "opened in run", "age_runs": "age (runs)",
                     "competitors": "competitors", "competitor_ids": "competitor ids",
                     "held_in_run": "held records of this run"},
              empty="No conflict of the target awaits review."),
        f"<h3>Records of this run held for review ({total:,})</h3>",
        shown_note(held, "records", "in input order"),
        table(held.rows, {"conflict": "conflict", "review": "open or decided",
                          "source": "source", "locator": "where", "member_id": "member id",
                          "website_filing_number": "website filing number",
                          "reasons": "reasons"}, empty="No record awaits review."),
    ])


def json(data: Conflicts, run: Run) -> dict[str, Any]:
    held = capped(data.held, _held)
    return {"conflicts": {"total": held.total, "open": held.total - data.decided,
                          "decided": data.decided, "full_list": REVIEW_EXPORT,
                          "rows": records(held.rows)},
            "open_conflicts": capped_json(capped(data.open, _open))}


def markdown(summary: dict[str, Any]) -> list[str]:
    conflicts = summary["conflicts"]
    return [f"Conflicts awaiting review: **{conflicts['total']:,}** ({conflicts['open']:,} "
            f"open, {conflicts['decided']:,} decided); open conflicts of the target (any "
            f"run): **{summary['open_conflicts']['total']:,}** (the full list: "
            f"`{md(conflicts['full_list'])}`).", ""]


SECTION = Section("conflicts", "Conflicts", read, html, json, markdown)
