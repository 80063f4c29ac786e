"""Test oracles: the per-value (or per-line) definitions each bulk transform must equal.

The library has one implementation per transform, the bulk one, falling back per value for
the rare hard value. What it is checked against lives here, not in the library: the
per-value function over every distinct value, python-stdnum for check digits, `idna` for
domains, the CSV reader's per-line walk alone, and plain pandas for joins.
"""

from __future__ import annotations

import idna
import pandas as pd
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

from icp_migrate.mapping import CsvOptions
from icp_migrate.readers import csv_reader
from icp_migrate.readers.lines import DecodedLines
from icp_migrate.transforms import domains as dom
from icp_migrate.transforms.text import map_unique, map_unique_columns

__all__ = ["clean_domain_each", "csv_walk_only", "each", "each_columns", "idna_pair",
           "join_texts_by_stacking", "mod_11_10", "ric", "split_domains_each", "uscc"]


def each(values: pd.Series, func) -> pd.Series:
    """`func` applied to every non-null value (once per distinct value: same result)."""
    return map_unique(values, func)


def each_columns(values: pd.Series, func, names: tuple[str, ...]) -> pd.DataFrame:
    """`func` (returning a tuple) applied to every non-null value, one column per item."""
    return map_unique_columns(values, func, names)


def idna_pair(text: str) -> tuple[str, str] | None:
    """(A-label, Unicode form) as the `idna` library gives them, None when it rejects."""
    try:
        alabel = idna.encode(text, uts46=True).decode("ascii")
        return alabel, idna.decode(alabel)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


DOMAIN_NAMES = ("domain", "unicode_domain", "problem")


def clean_domain_each(tokens: pd.Series) -> pd.DataFrame:
    """domains.clean_domain (the per-token path, `idna` included) on every token."""
    return each_columns(tokens, dom.clean_domain, DOMAIN_NAMES)


def split_domains_each(domains: pd.Series) -> pd.Series:
    """Each record's domain tokens by pandas' regex split, blanks dropped."""
    tokens = domains.dropna().str.split(dom.SEPARATORS).explode().dropna()
    return tokens[tokens != ""]


def csv_walk_only(decoded: DecodedLines, options: CsvOptions) -> pd.DataFrame:
    """The CSV reader without its bulk split: every line through the per-line walk."""
    found = csv_reader.header_of(decoded, options)
    assert found is not None
    header_index, header = found
    blank = [None] * len(header)
    locators, errors, rows = [], [], []
    for index, cells, error in csv_reader._records(decoded, header_index + 1, len(header),
                                                   options):
        locators.append(f"line {index + 1}")
        errors.append(error)
        rows.append(cells if cells is not None else blank)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame["locator"] = locators
    frame["read_error"] = errors
    return frame


def join_texts_by_stacking(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    """text.join_texts by pandas' stack and groupby."""
    frame = pd.concat([p.reindex(index) for p in parts], axis=1, keys=range(len(parts)))
    stacked = frame.stack()
    stacked = stacked[stacked.map(lambda v: isinstance(v, str) and v != "")]
    joined = stacked.astype(str).groupby(level=0).agg("; ".join)
    return joined.reindex(index).astype(object)
