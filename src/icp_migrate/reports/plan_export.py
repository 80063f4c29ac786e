"""The import team's worklist: one row per website filing under its account, from the store.

Each row names the account, its entity (certificate masked), whether real-name
verification is required, the account's administrator e-mail (the resources
administrator's for a `resources` account, the filing administrator's otherwise; its local
part masked unless `unmasked_emails`: personal data leaves the store masked, and only the
import team, who types it to create the account, asks for it whole), one website filing
to import into the account (name, product, filing date, the legacy HiChina member id it
was filed under) and that website's own domains, each `xn--` name with its Unicode form
beside it. An account holding no website (a `resources` account) is one row with the
website columns blank. The JSON is nested: one object per account with its `websites`,
each with its `domains`. Ordering and text are stable: the same store exports the same
bytes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from icp_migrate.errors import UsageError
from icp_migrate.masking import mask, mask_email
from icp_migrate.reports.build import write_file
from icp_migrate.store.exports import read_plan_frames

FORMATS = ("csv", "json")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FILE_STEM = "account_plan"
ACCOUNT_COLUMNS = (
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
    "admin_email",
)
WEBSITE_COLUMNS = ("website_filing_number", "website_name", "product", "filed_on", "domains",
                   "member_id")
COLUMNS = (*ACCOUNT_COLUMNS, *WEBSITE_COLUMNS)
_KIND_ORDER = {"filing": 0, "filing_and_resources": 1, "resources": 2}


def plan_rows(accounts: pd.DataFrame, websites: pd.DataFrame, domains: pd.DataFrame,
              unmasked_emails: bool = False) -> pd.DataFrame:
    """One row per website filing (COLUMNS) under its account, and one row with blank
    website columns per account holding none; `domains` is a list of {domain,
    unicode_domain} sorted by domain. Rows by entity, account kind, account, website.
    `admin_email` has its local part masked unless `unmasked_emails`."""
    frame = accounts.copy()
    frame["real_name_verification_required"] = frame["real_name_verification_required"].astype(
        bool)
    frame["cert_number_masked"] = frame["cert_number"].map(mask)
    emails = frame["admin_email"].astype(object)
    frame["admin_email"] = emails if unmasked_emails else emails.map(mask_email)
    frame["kind_order"] = frame["account_kind"].map(_KIND_ORDER).fillna(9)
    sites = websites.astype(object).copy()
    sites["filed_on"] = sites["filed_on"].map(_iso_date)
    sites["domains"] = _domain_lists(sites["website_filing_number"], domains)
    merged = frame.merge(sites, on="account_id", how="left", validate="one_to_many")
    merged = merged.sort_values(["entity_id", "kind_order", "account_id",
                                 "website_filing_number"], na_position="first",
                                ignore_index=True)
    out = merged[list(COLUMNS)].astype(object)
    out = out.where(out.notna(), None)
    out["domains"] = [d if isinstance(d, list) else [] for d in out["domains"]]
    return out


def _iso_date(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.isoformat()[:10] if isinstance(value, date) else str(value)[:10]


def _domain_lists(numbers: pd.Series, domains: pd.DataFrame) -> list[list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    rows = domains.astype(object).where(domains.notna(), None).sort_values("domain")
    for domain, unicode_domain, number in rows[
            ["domain", "unicode_domain", "website_filing_number"]].itertuples(index=False):
        found.setdefault(str(number), []).append(
            {"domain": str(domain), "unicode_domain": unicode_domain})
    return [found.get(str(n), []) for n in numbers]


def nested(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON form: one object per account (in row order) with its `websites`."""
    accounts: list[dict[str, Any]] = []
    for row in rows.to_dict("records"):
        if not accounts or accounts[-1]["account_id"] != row["account_id"]:
            accounts.append({**{c: row[c] for c in ACCOUNT_COLUMNS}, "websites": []})
        if row["website_filing_number"] is not None:
            accounts[-1]["websites"].append({c: row[c] for c in WEBSITE_COLUMNS})
    return accounts


def domain_text(domains: Iterable[dict[str, Any]]) -> str:
    """`a.cn;xn--fiqs8s.cn (中国.cn)`: each name, its Unicode form beside it when it differs."""
    return ";".join(d["domain"] if not d["unicode_domain"] or d["unicode_domain"] == d["domain"]
                    else f"{d['domain']} ({d['unicode_domain']})" for d in domains)


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a BOM (Excel opens it as UTF-8), CRLF lines; a cell Excel would read as a
    formula gets a leading `'` (legacy names and reasons are free text)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None or (isinstance(value, float) and value != value):
        text = ""  # missing (None, or NaN as pandas may give it)
    else:
        text = str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def to_csv(rows: pd.DataFrame) -> bytes:
    """The CSV form: COLUMNS, `domains` as `domain_text`; the JSON keeps values as they are."""
    shown = rows.copy()
    shown["domains"] = shown["domains"].map(domain_text)
    return csv_bytes(COLUMNS, shown.itertuples(index=False))


def to_json(rows: pd.DataFrame) -> bytes:
    return (json.dumps(nested(rows), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def output_of(out: str | Path | None, fmt: str | None) -> tuple[Path | None, str]:
    """Where `--out` writes and in which format. `-` is stdout; a name ending in .csv or
    .json is that file (its format unless --format says otherwise); anything else (an
    existing folder, `plan/`, a name without a suffix) is a folder that gets
    account_plan.<format>. The format defaults to csv."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    text = "." if out is None else str(out)
    if text == "-":
        return None, fmt or "csv"
    path = Path(text)
    suffix = path.suffix.lower().lstrip(".")
    if path.is_dir() or text.endswith(("/", "\\")) or not suffix:
        chosen = fmt or "csv"
        return path / f"{FILE_STEM}.{chosen}", chosen
    if suffix not in FORMATS:
        raise UsageError(f"--out {text}: a file must end in .csv or .json (or give a folder)")
    if fmt is not None and fmt != suffix:
        raise UsageError(f"--out {text} is a .{suffix} file but --format is {fmt}")
    return path, suffix


def export_plan(engine: Engine, out: str | Path | None = None, fmt: str | None = None,
                unmasked_emails: bool = False) -> tuple[Path | None, bytes, int, int]:
    """Write the plan to `out` (see `output_of`; None: stdout, left to the caller); returns
    the path, the bytes, the number of accounts and of website filings. E-mails are
    masked unless `unmasked_emails`."""
    path, chosen = output_of(out, fmt)
    frames = read_plan_frames(engine)
    rows = plan_rows(frames["accounts"], frames["websites"], frames["domains"],
                     unmasked_emails)
    data = to_csv(rows) if chosen == "csv" else to_json(rows)
    if path is not None:
        write_file(path, data)
    return path, data, rows["account_id"].nunique(), int(rows["website_filing_number"].notna()
                                                          .sum())
