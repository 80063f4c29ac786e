"""Possible matches: organizations with valid certificates whose names are one or two
edits apart in one province, at least one of them an entity of the run: listed, never
merged."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow.compute as pc

from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import LIST_ROWS, Capped, capped, capped_json, shown_note, text
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries
from icp_migrate.transforms.near_names import PAIR_COLUMNS, first_pairs

COLUMNS = PAIR_COLUMNS  # entity ids and names, province, edit distance


def read(q: ReportQueries) -> Capped:
    """The first pairs (COLUMNS) by province, then entity ids (first_pairs), of the store's
    organizations with a certificate (`q.possible_matches`: entity_id, name, province and
    in_run, 1 for the run's entities), read as Arrow."""
    orgs = q.possible_matches()
    in_run = pc.equal(orgs.column("in_run"), 1)
    # the provinces of the run's entities: the only ones a pair can be in
    provinces = pc.unique(orgs.column("province").filter(in_run))
    nearby = pc.is_in(orgs.column("province"), value_set=provinces)
    # the run's entities against the store's: the work grows with the run, not the store
    shown, total = first_pairs(orgs.filter(nearby), in_run.filter(nearby).to_numpy(),
                               LIST_ROWS)
    return Capped(shown, total)


def _shape(rows: pd.DataFrame) -> pd.DataFrame:
    """Two entities for a person to look at (no certificate number is shown)."""
    return pd.DataFrame({
        "entity_id_a": rows["entity_id_a"].map(text),
        "name_a": rows["name_a"].map(text),
        "entity_id_b": rows["entity_id_b"].map(text),
        "name_b": rows["name_b"].map(text),
        "province": rows["province"].map(text),
        "distance": rows["distance"].astype("int64"),
    }, columns=["entity_id_a", "name_a", "entity_id_b", "name_b", "province", "distance"])


def html(data: Capped, run: Run) -> str:
    pairs = capped(data, _shape)
    return section("possible-matches", f"Possible matches (not merged, {pairs.total:,})", [
        note("Organizations with valid certificates whose names are one or two edits apart "
             "in one province, one of them at least an entity of this run. A near name is "
             "never a merge: each stays its own entity, with its own account."),
        shown_note(pairs, "pairs", "by province, then entity id"),
        table(pairs.rows, {"entity_id_a": "entity id", "name_a": "name",
                           "entity_id_b": "entity id", "name_b": "name",
                           "province": "province", "distance": "edits"},
              empty="No two organizations have near names."),
    ])


def json(data: Capped, run: Run) -> dict[str, Any]:
    return {"possible_matches": capped_json(capped(data, _shape))}


def markdown(summary: dict[str, Any]) -> list[str]:
    return [f"Possible matches (not merged): **{summary['possible_matches']['total']:,}**.",
            ""]


SECTION = Section("possible_matches", "Possible matches", read, html, json, markdown)
