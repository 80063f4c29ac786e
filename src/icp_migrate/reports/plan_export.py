"""The import team's worklist: one entry per planned account, from the store.

Each entry names the account, its entity (certificate masked), whether real-name
verification is required, the websites and domains to import into it, and the legacy
HiChina member ids the import logs in with. Ordering and text are stable: the same store
exports the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from icp_migrate.masking import mask
from icp_migrate.reports.build import write_file
from icp_migrate.store.exports import read_plan_frames

FORMATS = ("csv", "json")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FILE_STEM = "account_plan"
COLUMNS = (
    "account_id",
    "account_kind",
    "real_name_verification_required",
    "entity_id",
    "entity_type",
    "entity_name",
    "cert_type",
    "cert_number_masked",
    "province",
    "entity_filing_number",
    "website_filing_numbers",
    "domains",
    "member_ids",
)
LIST_COLUMNS = ("website_filing_numbers", "domains", "member_ids")
FILING_KINDS = ("filing", "filing_and_resources")  # the accounts filings are imported into
_KIND_ORDER = {"filing": 0, "filing_and_resources": 1, "resources": 2}


def plan_entries(accounts: pd.DataFrame, websites: pd.DataFrame, domains: pd.DataFrame,
                 members: pd.DataFrame) -> pd.DataFrame:
    """One row per account (COLUMNS), lists sorted, rows by entity then account kind."""
    frame = accounts.copy()
    frame["real_name_verification_required"] = frame["real_name_verification_required"].astype(
        bool)
    frame["cert_number_masked"] = frame["cert_number"].map(mask)
    frame["website_filing_numbers"] = _lists(frame["account_id"], websites, "account_id",
                                             "website_filing_number")
    frame["domains"] = _lists(frame["account_id"], domains, "account_id", "domain")
    by_entity = _lists(frame["entity_id"], members, "entity_id", "member_id")
    filing = frame["account_kind"].isin(FILING_KINDS)
    frame["member_ids"] = [m if f else [] for m, f in zip(by_entity, filing, strict=True)]
    frame["kind_order"] = frame["account_kind"].map(_KIND_ORDER).fillna(9)
    frame = frame.sort_values(["entity_id", "kind_order", "account_id"], ignore_index=True)
    out = frame[list(COLUMNS)].astype(object)
    return out.where(out.notna(), None)


def _lists(keys: pd.Series, rows: pd.DataFrame, key: str, value: str) -> list[list[str]]:
    grouped = rows.dropna(subset=[key, value]).groupby(key)[value].agg(
        lambda s: sorted({str(v) for v in s}))
    return [list(grouped.get(k, [])) for k in keys]


def to_csv(entries: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM (Excel opens it as UTF-8), lists joined with ';'.

    A cell Excel would read as a formula gets a leading `'`; the JSON keeps values as they are.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in entries.itertuples(index=False):
        writer.writerow([_csv_value(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value: object) -> str:
    if isinstance(value, list):
        text = ";".join(value)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = "" if value is None else str(value)
    # Excel runs a cell starting with one of these as a formula (legacy names are free text)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def to_json(entries: pd.DataFrame) -> bytes:
    records = [dict(zip(COLUMNS, row, strict=True)) for row in entries.itertuples(index=False)]
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def export_plan(engine: Engine, out_dir: str | Path, fmt: str = "csv") -> tuple[Path, int]:
    """Write `<out_dir>/account_plan.<fmt>`; returns its path and the number of accounts."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    frames = read_plan_frames(engine)
    entries = plan_entries(frames["accounts"], frames["websites"], frames["domains"],
                           frames["members"])
    path = Path(out_dir) / f"{FILE_STEM}.{fmt}"
    write_file(path, to_csv(entries) if fmt == "csv" else to_json(entries))
    return path, len(entries)
