"""One account per entity: legacy members whose records went to several entities (split
into several accounts), and entities whose records came from several members (merged)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from icp_migrate.reports.page import section, table
from icp_migrate.reports.parts import (
    ITEMS_PER_ROW,
    LIST_ROWS,
    SAMPLES_PER_REASON,
    Capped,
    capped,
    capped_json,
    lists,
    more,
    shown_note,
    text,
)
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_queries import ReportQueries

SPLIT_COLUMNS = ["member_id", "entities", "accounts", "entity_names"]
MERGED_COLUMNS = ["entity_id", "name", "members", "member_ids"]


def read(q: ReportQueries) -> tuple[Capped, Capped]:
    """(split: SPLIT_COLUMNS, entity_names the first ITEMS_PER_ROW; merged: MERGED_COLUMNS,
    member_ids the first ITEMS_PER_ROW), each by most first, then by id."""
    found = q.members()
    (top, total), ranked = found["split"], found["member_entities"]
    if top.empty:
        split = Capped(pd.DataFrame(columns=SPLIT_COLUMNS), total)
    else:
        members = top["k"].tolist()
        names = lists(ranked, "k", "name")
        accounts = dict(zip(ranked["k"], ranked["accounts"], strict=True))
        split = Capped(pd.DataFrame({
            "member_id": members,
            "entities": top["n"].to_numpy(),
            "accounts": np.array([int(accounts.get(m, 0)) for m in members], dtype="int64"),
            "entity_names": [names.get(m, []) for m in members],
        }, columns=SPLIT_COLUMNS), total)
    (top, total), named = found["merged"], found["names"]
    if top.empty:
        return split, Capped(pd.DataFrame(columns=MERGED_COLUMNS), total)
    ids = top["k"].tolist()
    firsts = lists(found["first_members"], "k", "v")
    return split, Capped(pd.DataFrame({
        "entity_id": ids,
        "name": [named.get(e) for e in ids],
        "members": top["n"].astype("int64").to_numpy(),
        "member_ids": [firsts.get(e, []) for e in ids],
    }, columns=MERGED_COLUMNS), total)


def _split(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "member_id": rows["member_id"].map(text),
        "entities": rows["entities"].astype("int64"),
        "accounts": rows["accounts"].astype("int64"),
        "entity_names": [[text(n) for n in names] for names in rows["entity_names"]],
    })


def _merged(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "entity_id": rows["entity_id"].map(text),
        "name": rows["name"].map(text),
        "members": rows["members"].astype("int64"),
        "member_ids": [[text(m) for m in ids] for ids in rows["member_ids"]],
    })


def html(data: tuple[Capped, Capped], run: Run) -> str:
    split, merged = capped(data[0], _split), capped(data[1], _merged)
    split_rows = split.rows.assign(entity_names=[
        more(names, n) for names, n in zip(split.rows["entity_names"],
                                           split.rows["entities"], strict=True)])
    merged_rows = merged.rows.assign(member_ids=[
        more(ids, n) for ids, n in zip(merged.rows["member_ids"], merged.rows["members"],
                                       strict=True)])
    return section("members", "One account per entity: legacy members split and merged", [
        f"<h3>Legacy members split into several accounts ({split.total:,})</h3>",
        shown_note(split, "members", "most entities first"),
        table(split_rows, {"member_id": "member id", "entities": "entities",
                           "accounts": "accounts", "entity_names": "entities' names"},
              empty="No legacy member held filings of several entities."),
        f"<h3>Entities merged from several legacy members ({merged.total:,})</h3>",
        shown_note(merged, "entities", "most members first"),
        table(merged_rows, {"entity_id": "entity id", "name": "name",
                            "members": "members", "member_ids": "member ids"},
              empty="No entity's filings came from several legacy members."),
    ])


def json(data: tuple[Capped, Capped], run: Run) -> dict[str, Any]:
    # the limits of every list, given before the first list section
    return {"list_limits": {"rows": LIST_ROWS, "items_per_row": ITEMS_PER_ROW,
                            "samples_per_reason": SAMPLES_PER_REASON},
            "members_split": capped_json(capped(data[0], _split)),
            "entities_merged": capped_json(capped(data[1], _merged))}


def markdown(summary: dict[str, Any]) -> list[str]:
    return [f"Legacy members split: **{summary['members_split']['total']:,}**; entities "
            f"merged: **{summary['entities_merged']['total']:,}**.", ""]


SECTION = Section("members", "Members", read, html, json, markdown)
