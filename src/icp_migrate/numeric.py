"""Array helpers that numpy has, but slowly here.

`np.unique` of an integer array hashes it since numpy 2.3 (then sorts the result): on 2M
int64 keys that took 3.0 s on this machine, where sorting and dropping repeats took 0.07 s
(bench: see docs/performance.md, "numpy's unique").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def offsets(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[i] - 1 for each i, one after the other: each element's place in
    its run when runs of these lengths are laid end to end (np.repeat's companion)."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values) for a 1-d integer array: the distinct values, ascending."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def distinct_pairs(left: pd.Series, right: pd.Series,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (left, right) pairs of two aligned columns without nulls, as codes:
    (left values, right values, each pair's left code, its right code), the pairs ordered
    by left code (left values in order of first appearance), then right code. On integer
    codes, not on tuples of text: a million pairs of text in ~0.5 s, where
    drop_duplicates took ~3 s."""
    left_codes, left_values = pd.factorize(left)
    right_codes, right_values = pd.factorize(right)
    width = max(1, len(right_values))
    pairs = distinct(left_codes.astype(np.int64) * width + right_codes)
    left_of, right_of = np.divmod(pairs, width)
    return (np.asarray(left_values, dtype=object), np.asarray(right_values, dtype=object),
            left_of, right_of)


REPEAT_BLOCK = 1_000_000  # sorted values compared at a time by `repeated`


def repeated(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Whether each value occurs more than once (`Series.duplicated(keep=False)`); a null
    never does. By sorting, not hashing: only the sort's positions and a block of sorted
    values are held. Ten million text keys: about 0.15 GB, where a hash (Arrow's
    dictionary_encode, what pandas' duplicated does of Arrow text) took 1.2 GB."""
    out = np.zeros(len(values), dtype=bool)
    order = pc.array_sort_indices(values, null_placement="at_end").to_numpy()
    valid = len(values) - values.null_count
    for start in range(0, max(valid - 1, 0), REPEAT_BLOCK):
        block = values.take(pa.array(order[start:min(start + REPEAT_BLOCK + 1, valid)]))
        same = pc.equal(block.slice(0, len(block) - 1), block.slice(1))
        pairs = np.flatnonzero(same.to_numpy(zero_copy_only=False)) + start
        out[order[pairs]] = True
        out[order[pairs + 1]] = True
    return out
