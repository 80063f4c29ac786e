"""ICP filing numbers in their normal Chinese form: `浙ICP备12345678号`, website `…号-1`."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .text import as_arrow, compact, map_unique_columns, simple_compact, simple_nfkc

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
    site = parse_filing_numbers(frame["website_filing_number"])
    subject = parse_filing_numbers(frame["entity_filing_number"])
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


_NAMES = ("entity", "website", "problem")
_BULK = (rf"^(?P<auth>[{AUTHORITIES}{''.join(ALIASES)}])ICP备(?P<digits>[0-9]+)号?"
         r"(?:-(?P<suffix>[0-9]+))?号?$")


def parse_filing_numbers(values: pd.Series) -> pd.DataFrame:
    """map_unique_columns(values, parse_filing_number, (entity, website, problem)).

    Simple values (text.py) that parse as a filing number are parsed in bulk; the
    rest (licences, problems, unusual characters) by parse_filing_number itself.
    """
    text = as_arrow(values)
    if text is None:
        return map_unique_columns(values, parse_filing_number, _NAMES)
    cleaned, simple = simple_nfkc(text)
    upper = pc.replace_substring(pc.utf8_upper(simple_compact(cleaned)), "備", "备")
    parts = pc.extract_regex(upper, _BULK)
    auth, digits, suffix = (pc.struct_field(parts, name) for name in ("auth", "digits", "suffix"))
    for alias, authority in ALIASES.items():
        auth = pc.replace_substring(auth, alias, authority)
    width = pc.utf8_length(digits)
    settled = pc.and_kleene(pc.invert(pc.match_substring(upper, "ICP证")), pc.and_kleene(
        pc.or_(pc.and_(pc.greater_equal(width, 1), pc.less_equal(width, 8)),
               pc.equal(width, 10)),
        pc.less_equal(pc.utf8_length(suffix), 18)))
    settled = pc.fill_null(settled, False).to_numpy(zero_copy_only=False) & simple
    def lit(text: str) -> pa.Scalar:
        return pa.scalar(text, pa.large_string())

    entity = pc.binary_join_element_wise(auth, lit("ICP备"), digits, lit("号"), lit(""))
    short = pc.and_(pc.not_equal(suffix, ""), pc.less_equal(pc.utf8_length(suffix), 18))
    number = pc.cast(pc.if_else(short, suffix, lit("0")), pa.int64())  # "-002" is "-2"
    website = pc.if_else(pc.equal(number, 0), pa.scalar(None, pa.large_string()),
                         pc.binary_join_element_wise(entity, pc.cast(number, pa.large_string()),
                                                     lit("-")))
    columns = {"entity": _objects(entity, settled), "website": _objects(website, settled),
               "problem": np.full(len(values), None, dtype=object)}
    rest = ~settled & values.notna().to_numpy()
    if rest.any():
        slow = map_unique_columns(values[rest], parse_filing_number, _NAMES)
        for name in _NAMES:
            columns[name][rest] = slow[name].to_numpy()
    return pd.DataFrame(columns, index=values.index)


def _objects(values: pa.Array, keep: np.ndarray) -> np.ndarray:
    out = np.full(len(keep), None, dtype=object)
    out[keep] = values.to_numpy(zero_copy_only=False)[keep]
    return out
