"""Text clean-up shared by the normalizers: one implementation, over whole columns.

`nfkc`, `squash` and `compact` define each clean-up for one value. Over a column
(`squash_column`, `compact_column`, `map_bulk`) the common values are cleaned in bulk with
pyarrow and the rest, once per distinct value, by those functions: the per-value path is the
fallback for the rare hard value, never a second implementation.

Legacy text is mostly ASCII, CJK Unified Ideographs, full-width ASCII forms and the
ideographic space. For a value made only of those ("simple"), `nfkc` is known exactly: the
full-width forms (U+FF01-FF5E) become their ASCII characters, U+3000 a space, and nothing
else changes (no dash, invisible mark or combining character is among them). Such values
are cleaned in bulk; any other value goes through the per-value function, so every result
is that function's (tests/test_text.py checks it against per-value oracles).
"""

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


# The bulk path: simple values (see the module docstring) cleaned with pyarrow.
_SIMPLE = r"^[\x{20}-\x{7e}\x{3000}\x{4e00}-\x{9fff}\x{ff01}-\x{ff5e}]*$"
_WIDE = r"[\x{3000}\x{ff01}-\x{ff5e}]"
WIDE_CHARS = "\u3000" + "".join(map(chr, range(0xFF01, 0xFF5F)))
_NARROW = {c: unicodedata.normalize("NFKC", c) for c in WIDE_CHARS}


def as_arrow(values: pd.Series) -> pa.Array | None:
    """The column as an arrow string array, or None when it holds anything but text."""
    try:
        return pa.array(values.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def simple_nfkc(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(nfkc of each simple value, null elsewhere) and the mask of simple values."""
    simple = pc.fill_null(pc.match_substring_regex(text, _SIMPLE), False)
    text = pc.if_else(simple, text, pa.scalar(None, text.type))
    wide = pc.fill_null(pc.match_substring_regex(text, _WIDE), False)
    if pc.any(wide).as_py():
        subset = pc.filter(text, wide)
        present = set("".join(subset.to_pylist())) & set(WIDE_CHARS)
        for char in sorted(present):
            subset = pc.replace_substring(subset, char, _NARROW[char])
        text = pc.replace_with_mask(text, wide, subset)
    return text, simple.to_numpy(zero_copy_only=False)


def simple_squash(text: pa.Array) -> pa.Array:
    """squash of nfkc'd simple values: their only white space is the ASCII space."""
    return pc.utf8_trim(pc.replace_substring_regex(text, " +", " "), " ")


def simple_compact(text: pa.Array) -> pa.Array:
    """compact of nfkc'd simple values."""
    return pc.replace_substring(text, " ", "")


def map_bulk(values: pd.Series, bulk: Callable[[pa.Array], pa.Array],
             func: Callable[[Any], Any]) -> pd.Series:
    """`func` of each non-null value (as map_unique gives it): `bulk` computes it for the
    nfkc'd simple values in one pass, `func` itself, once per distinct value, the rest."""
    text = as_arrow(values)
    if text is None:
        return map_unique(values, func)
    cleaned, simple = simple_nfkc(text)
    out = bulk(cleaned).to_numpy(zero_copy_only=False).astype(object)
    out[pd.isna(out)] = np.nan  # as map_unique gives a null value
    rest = ~simple & values.notna().to_numpy()
    if rest.any():
        out[rest] = map_unique(values[rest], func).to_numpy()
    return pd.Series(out, index=values.index, dtype=object)


def squash_column(values: pd.Series) -> pd.Series:
    """squash of each value (null stays null), in bulk with the per-value fallback."""
    return map_bulk(values, lambda t: simple_squash(t), squash)


def compact_column(values: pd.Series) -> pd.Series:
    """compact of each value (null stays null), in bulk with the per-value fallback."""
    return map_bulk(values, simple_compact, compact)


def compact_text(text: pa.Array | pa.ChunkedArray) -> pa.Array:
    """compact_column of Arrow text, as Arrow text: the simple values in bulk, `compact`
    once per distinct other value; no Python string made for a simple one."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    text = text.cast(pa.large_string())
    cleaned, simple = simple_nfkc(text)
    out = simple_compact(cleaned)
    rest = ~simple & text.is_valid().to_numpy(zero_copy_only=False)
    if rest.any():
        values = pd.Series(pc.filter(text, pa.array(rest)).to_numpy(zero_copy_only=False),
                           dtype=object)
        fixed = map_unique(values, compact).to_numpy()
        out = pc.replace_with_mask(out, pa.array(rest),
                                   pa.array(fixed, type=out.type, from_pandas=True))
    return out


def is_in(values: pd.Series, among: Any) -> pd.Series:
    """`values.isin(among)` for text keys, by pyarrow's hash set: pandas' own isin on
    pyarrow-backed text walks `among` value by value in Python (2 s for 100k keys)."""
    pool = among if isinstance(among, pd.Series) else pd.Series(list(among), dtype=object)
    try:
        left = pa.chunked_array([pa.array(values.to_numpy(dtype=object), from_pandas=True,
                                          type=pa.large_string())]) \
            if values.dtype == object else pa.chunked_array(pa.array(values)).cast(
                pa.large_string())
        right = pa.array(pool.to_numpy(dtype=object), from_pandas=True, type=pa.large_string()) \
            if pool.dtype == object else pa.array(pool).cast(pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: pandas' general path
        return values.isin(pool)
    found = pc.is_in(left, value_set=right.drop_null()).to_numpy(zero_copy_only=False)
    return pd.Series(np.asarray(found, dtype=bool), index=values.index)
