"""Which CSV lines are plain records, and their cells, split in bulk with pyarrow.

A line is plain when it has no quote character, no NUL, no carriage return, exactly
`width - 1` delimiters, and no line that opens a quoted field within the
MAX_RECORD_LINES before it could have joined it to a record. For such a line the
per-line csv parse (csv_reader._parse) returns the line split on the delimiter, so the
split is the same cells; every other line goes through csv_reader's own walk.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def plain_lines(lines: list[str | None], delimiter: str, quote: str, width: int,
                reach: int) -> np.ndarray:
    """Mask of the lines that are plain records (see the module docstring)."""
    n = len(lines)
    if n == 0 or width < 2:
        return np.zeros(n, dtype=bool)
    text = pa.array(lines, type=pa.large_string())
    quotes = pc.fill_null(pc.count_substring(text, quote), 0).to_numpy()
    # a line with an odd number of quotes may join the next reach-1 lines into one record
    openers = np.flatnonzero(quotes % 2 == 1)
    window = np.zeros(n + reach + 1, dtype=np.int64)
    np.add.at(window, openers, 1)
    np.add.at(window, openers + reach, -1)
    joinable = np.cumsum(window)[:n] > 0
    delimiters = pc.fill_null(pc.count_substring(text, delimiter), -1).to_numpy()
    odd = pc.fill_null(pc.or_(pc.match_substring(text, "\x00"), pc.match_substring(text, "\r")),
                       True).to_numpy(zero_copy_only=False)
    return (quotes == 0) & ~joinable & ~odd & (delimiters == width - 1)


def split_plain(lines: list[str | None], mask: np.ndarray, delimiter: str,
                width: int) -> list[np.ndarray]:
    """The cells of the masked lines, one object array of str per column."""
    chosen = [line for line, keep in zip(lines, mask, strict=True) if keep]
    if not chosen:
        return [np.empty(0, dtype=object) for _ in range(width)]
    cells = pc.list_flatten(pc.split_pattern(pa.array(chosen, type=pa.large_string()),
                                             delimiter))
    flat = cells.to_numpy(zero_copy_only=False)
    grid = flat.reshape(len(chosen), width)
    return [grid[:, j].copy() for j in range(width)]
