"""Text clean-up shared by the normalizers, applied once per distinct value."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Dashes legacy data uses where a hyphen is meant (NFKC leaves these alone).
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASH_TABLE = str.maketrans({d: "-" for d in DASHES})
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def map_unique(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """Apply `func` once per distinct non-null value (legacy columns repeat a lot).

    Null inputs give NaN; results are typed as `pd.Series(results)` infers them (text
    results: a None becomes NaN), then made object, as `Series.map(dict)` would.
    """
    codes, uniques = pd.factorize(values)
    mapped = pd.Series([func(v) for v in uniques]).astype(object).to_numpy()
    table = np.append(mapped, np.nan)  # code -1 (null input) picks the trailing NaN
    return pd.Series(table[codes], index=values.index, dtype=object)


def nfkc(text: str) -> str:
    """NFKC with dashes unified and invisible marks removed (full-width digits become ASCII)."""
    text = unicodedata.normalize("NFKC", text).translate(_DASH_TABLE)
    return _INVISIBLE.sub("", text)


def squash(text: str) -> str:
    """NFKC, runs of white space made one space, trimmed."""
    return _SPACES.sub(" ", nfkc(text)).strip()


def compact(text: str) -> str:
    """NFKC with all white space removed."""
    return _SPACES.sub("", nfkc(text))


def blank_to_none(values: pd.Series) -> pd.Series:
    """Text column, trimmed, with blank strings and nulls as None."""
    # per value, not per distinct value: a strip is cheaper than hashing the value
    cleaned = [(v.strip() or None) if isinstance(v, str) else (None if _null(v) else v)
               for v in values.astype(object).to_numpy()]
    return pd.Series(cleaned, index=values.index, dtype=object)


def _null(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and value != value)


def map_unique_columns(
    values: pd.Series, func: Callable[[Any], tuple], names: tuple[str, ...]
) -> pd.DataFrame:
    """Like map_unique for a function returning a tuple: one column per tuple item."""
    codes, uniques = pd.factorize(values)
    results = [func(v) for v in uniques]
    out = pd.DataFrame(index=values.index)
    for position, name in enumerate(names):
        column = pd.array([r[position] for r in results] + [None], dtype=object)
        out[name] = column[codes]  # code -1 (null input) picks the trailing None
    return out


def join_texts(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    """'; '-joined non-blank texts of several columns per row, None when a row has none."""
    joined = np.full(len(index), None, dtype=object)
    has = np.zeros(len(index), dtype=bool)
    for part in parts:
        values = part.reindex(index).to_numpy(dtype=object)
        ok = pd.notna(values)  # few rows have a text: test only those
        ok[ok] = [isinstance(v, str) and v != "" for v in values[ok]]
        both = ok & has
        if both.any():
            joined[both] = [f"{a}; {b}" for a, b in zip(joined[both], values[both], strict=True)]
        joined[ok & ~has] = values[ok & ~has]
        has |= ok
    joined[~has] = np.nan
    return pd.Series(joined, index=index, dtype=object)


def join_groups(keys: pd.Series, values: pd.Series, sep: str) -> pd.Series:
    """key -> `sep`.join(its values, in their order), per distinct non-null key.

    `groupby(keys).agg(sep.join)` without a Python call per group; values are text.
    """
    codes, uniques = pd.factorize(keys)
    kept = codes >= 0
    codes = codes[kept]
    order = np.argsort(codes, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(uniques)))])
    lists = pa.LargeListArray.from_arrays(
        pa.array(offsets, type=pa.int64()),
        pa.array(values.to_numpy(dtype=object)[kept][order], type=pa.large_string()))
    joined = pc.binary_join(lists, pa.scalar(sep, pa.large_string()))
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=pd.Index(uniques, dtype=object),
                     dtype=object)
