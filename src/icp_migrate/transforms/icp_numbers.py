"""ICP filing numbers in their normal Chinese form: `浙ICP备12345678号`, website `…号-1`."""

from __future__ import annotations

import re

import pandas as pd

from .text import compact, map_unique_columns

AUTHORITIES = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝蜀黔滇藏陕陇青宁新"
# legacy data sometimes writes the province's common abbreviation instead
ALIASES = {"川": "蜀", "贵": "黔", "云": "滇", "甘": "陇"}
_FILING = re.compile(
    rf"^(?P<auth>[{AUTHORITIES}{''.join(ALIASES)}])ICP备(?P<digits>\d+)号?"
    r"(?:-(?P<suffix>\d+))?号?$"
)
_LICENCE = re.compile(r"ICP证")


def parse_filing_number(raw: str) -> tuple[str | None, str | None, str | None]:
    """(entity number, website number or None, problem or None) of one legacy value."""
    text = compact(raw).upper().replace("備", "备").replace("ICP備", "ICP备")
    if _LICENCE.search(text):
        return None, None, f"{text} is a commercial ICP licence, not a filing"
    match = _FILING.match(text)
    if not match:
        return None, None, f"not an ICP filing number: {text[:40]}"
    digits = match["digits"]
    if not (1 <= len(digits) <= 8 or len(digits) == 10):
        return None, None, f"ICP filing number with {len(digits)} digits: {text[:40]}"
    authority = ALIASES.get(match["auth"], match["auth"])
    entity = f"{authority}ICP备{digits}号"
    suffix = match["suffix"]
    if suffix is None or int(suffix) == 0:
        return entity, None, None
    return entity, f"{entity}-{int(suffix)}", None


def normalize_filing_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """entity_filing_number, website_filing_number, website_entity_number, problems."""
    names = ("entity", "website", "problem")
    site = map_unique_columns(frame["website_filing_number"], parse_filing_number, names)
    subject = map_unique_columns(frame["entity_filing_number"], parse_filing_number, names)
    out = pd.DataFrame(index=frame.index)
    out["website_filing_number"] = site["website"]
    out["website_entity_number"] = site["entity"].where(site["website"].notna(), None)
    out["entity_filing_number"] = subject["entity"]
    problem = site["problem"].copy()
    problem[site["entity"].notna() & site["website"].isna()] = (
        "website filing number without its -N suffix")
    problem[frame["website_filing_number"].isna()] = "website filing number missing"
    out["website_number_problem"] = problem
    out["entity_number_problem"] = subject["problem"]
    return out
