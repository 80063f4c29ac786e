"""text.py's clean-ups over whole columns: pyarrow for the common characters, Python for the rest.

Legacy text is mostly ASCII, CJK Unified Ideographs, full-width ASCII forms and the
ideographic space. For a value made only of those ("simple"), `nfkc` is known exactly: the
full-width forms (U+FF01-FF5E) become their ASCII characters, U+3000 a space, and nothing
else changes (no dash, invisible mark or combining character is among them). Such values
are cleaned in bulk; any other value goes through the Python function itself, once per
distinct value, so every result is the Python function's. tests/test_text_fast.py checks it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .text import compact, map_unique, squash

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
    return pc.replace_substring(text, " ", "")


def map_bulk(values: pd.Series, bulk: Callable[[pa.Array], pa.Array],
             func: Callable[[Any], Any]) -> pd.Series:
    """map_unique(values, func), where `bulk` computes func for the nfkc'd simple values."""
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
    """map_unique(values, squash)."""
    return map_bulk(values, lambda t: simple_squash(t), squash)


def compact_column(values: pd.Series) -> pd.Series:
    """map_unique(values, compact)."""
    return map_bulk(values, simple_compact, compact)


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
