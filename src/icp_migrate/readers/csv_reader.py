"""CSV exports: a header row, then one record per row; broken rows kept with a reason.

One reader with a fallback: plain lines (`plain_lines`) are split in bulk with pyarrow;
every other line (quotes, a record spanning lines, NUL, CR, a wrong field count, and the
lines a quote could join) takes the per-line walk (`_records`), which cuts records itself
so one stray quote cannot swallow the rest of a file and each record keeps its line number.

A line is plain when it has no quote character, no NUL, no carriage return, exactly
`width - 1` delimiters, and no line that opens a quoted field within the MAX_RECORD_LINES
before it could have joined it to a record. For such a line the walk's csv parse
(`_parse`) returns the line split on the delimiter, so the bulk split gives the same
cells. tests/test_csv_reader.py checks the reader against the walk alone.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frames import shared_objects
from ..mapping import CsvOptions
from .blocks import LineWindow
from .lines import DecodedLines

# A quoted field may span lines; a stray quote must not swallow the rest of the file.
MAX_RECORD_LINES = 50
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def header_of(decoded: DecodedLines, options: CsvOptions) -> tuple[int, list[str]] | None:
    """Index of the header line and its cells (trimmed), or None for a file without one."""
    for index, line in enumerate(decoded.lines):
        if line is None:
            return None
        if line.strip():
            try:
                cells = next(csv.reader([line], delimiter=options.delimiter,
                                        quotechar=options.quotechar))
            except csv.Error:
                return None
            return index, [c.strip() for c in cells]
    return None


def _records(decoded: DecodedLines, start: int, width: int, options: CsvOptions,
             stop: int | None = None):
    """Yield (first line index, cells or None, error) for each record of lines start..stop.

    A line with an open quote is joined with the next lines only if that yields a row of
    the header's width; otherwise the line alone is a broken row and the next line is
    read on its own, so one stray quote never swallows the records after it.
    """
    lines, quote = decoded.lines, options.quotechar
    i, n = start, len(lines) if stop is None else stop
    while i < n:
        line = lines[i]
        if line is None:
            yield i, None, decoded.errors.get(i, "undecodable bytes")
            i += 1
            continue
        if not line.strip():
            i += 1
            continue
        if line.count(quote) % 2 == 0:
            cells, error = _parse(line, width, options)
            yield i, cells, error
            i += 1
            continue
        j, text = i + 1, line
        while j < n and j - i < MAX_RECORD_LINES and lines[j] is not None:
            text += "\n" + lines[j]  # type: ignore[operator]
            j += 1
            if text.count(quote) % 2 == 0:
                break
        cells, error = _parse(text, width, options) if text.count(quote) % 2 == 0 else (None, "")
        if cells is not None:
            yield i, cells, None
            i = j
        else:
            yield i, None, "broken CSV row: unbalanced quote"
            i += 1


def _parse(text: str, width: int, options: CsvOptions) -> tuple[list[str] | None, str | None]:
    """The cells of one record's text, or why it is broken."""
    if "\x00" in text:
        return None, "broken CSV row: NUL byte"
    try:
        cells = next(csv.reader([text], delimiter=options.delimiter,
                                quotechar=options.quotechar, strict=False))
    except (csv.Error, StopIteration) as exc:
        return None, f"broken CSV row: {exc}"
    if len(cells) > width and not any(c.strip() for c in cells[width:]):
        cells = cells[:width]  # trailing delimiters
    if len(cells) != width:
        return None, f"broken CSV row: {len(cells)} fields where the header has {width}"
    return cells, None


def read_csv_records(decoded: DecodedLines, options: CsvOptions) -> pd.DataFrame:
    """Frame with the header's columns plus `locator` and `read_error` (all text).

    Plain lines are split in bulk; the others, in runs, take the walk above.
    """
    return next(csv_chunks(LineWindow.whole(decoded), options, None))


def csv_chunks(window: LineWindow, options: CsvOptions,
               lines_per_chunk: int | None) -> Iterator[pd.DataFrame]:
    """`read_csv_records`' frame in chunks of about `lines_per_chunk` lines (None: one),
    each cut at a line that starts a record whatever precedes it (`next_cut`), so the
    chunks hold the records the whole file holds, in order. The window holds the lines of
    one chunk (and the search for its cut) at a time."""
    found = None
    while found is None and window.load(len(window.held.lines) + 1_000) > 0:
        found = header_of(window.held, options)
        if window.done:
            break
    assert found is not None, "caller checks the header first"
    header_index, header = found
    start = header_index + 1
    while True:
        cut = next_cut(window, options, len(header), start, lines_per_chunk)
        stop = len(window.held.lines) if cut is None else cut
        yield _records_between(window, options, header, start, stop)
        if cut is None:
            return
        window.drop(cut)
        start = 0


def chunk_starts(decoded: DecodedLines, options: CsvOptions, width: int, start: int,
                 lines_per_chunk: int | None) -> list[int]:
    """Where `csv_chunks` cuts the body (lines `start`..) of lines decoded whole."""
    window, cuts = LineWindow.whole(decoded), list[int]()
    while (cut := next_cut(window, options, width, cuts[-1] if cuts else start,
                           lines_per_chunk)) is not None:
        cuts.append(cut)
    return cuts


def next_cut(window: LineWindow, options: CsvOptions, width: int, start: int,
             lines_per_chunk: int | None) -> int | None:
    """Where the chunk of the window's lines `start`.. ends, about `lines_per_chunk` lines
    on (None: at the end of the file): at a plain line (module docstring). No line within
    MAX_RECORD_LINES before a plain line opens a quote, so no record spans the cut, and
    the plain and walked lines after it are what they are in the whole file (their
    look-back ends at the cut). Loads the lines it looks at."""
    if not lines_per_chunk:
        window.load()
        return None
    candidate, search = start + lines_per_chunk, min(lines_per_chunk, 1_000)
    while candidate < window.load(candidate + search):
        lines = window.held.lines
        low = max(start, candidate - MAX_RECORD_LINES + 1)  # the look-back of `candidate`
        high = min(len(lines), candidate + search)
        part = pa.array(lines[low:high], type=pa.large_string())
        plain = np.flatnonzero(plain_lines(part, options.delimiter, options.quotechar,
                                           width, MAX_RECORD_LINES)[candidate - low:])
        if len(plain):
            return candidate + int(plain[0])
        candidate = high  # none in the search: look further
    return None


def _records_between(window: LineWindow, options: CsvOptions, header: list[str],
                     start: int, stop: int) -> pd.DataFrame:
    """The records of the window's lines start..stop (a whole body, or a chunk of it
    between cuts), located by their line numbers in the file."""
    decoded, width = window.held, len(header)
    body = pa.array(decoded.lines[start:stop], type=pa.large_string())  # nulls undecodable
    plain = plain_lines(body, options.delimiter, options.quotechar, width, MAX_RECORD_LINES)
    starts: list[int] = []
    errors: list[str | None] = []
    rows: list[list[str] | None] = []
    for run_start, run_stop in _runs(~plain):
        for index, cells, error in _records(decoded, start + run_start, width, options,
                                            stop=start + run_stop):
            starts.append(index)
            errors.append(error)
            rows.append(cells)
    fast_starts = np.flatnonzero(plain) + start
    where = np.concatenate([fast_starts, np.asarray(starts, dtype=np.int64)])
    order = np.argsort(where, kind="stable")
    grid = np.full((len(where), width), None, dtype=object)
    for j, column in enumerate(split_plain(body, plain, options.delimiter, width)):
        grid[:len(fast_starts), j] = column
    for k, cells in enumerate(rows, start=len(fast_starts)):
        if cells is not None:
            grid[k] = cells
    all_errors = np.full(len(where), None, dtype=object)
    all_errors[len(fast_starts):] = errors
    frame = pd.DataFrame(grid[order], columns=header, dtype=object)
    frame["locator"] = [f"line {index + 1}" for index in (where[order] + window.first).tolist()]
    frame["read_error"] = all_errors[order].tolist()
    return frame


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in `mask`."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))

def plain_lines(text: pa.Array, delimiter: str, quote: str, width: int,
                reach: int) -> np.ndarray:
    """Mask of the lines (`text`, null where undecodable) that are plain records (see the
    module docstring)."""
    n = len(text)
    if n == 0 or width < 2:
        return np.zeros(n, dtype=bool)
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


def split_plain(text: pa.Array, mask: np.ndarray, delimiter: str,
                width: int) -> list[np.ndarray]:
    """The cells of the masked lines, one object array of str per column; each column's
    equal cells are one str object (a province, a product: not one per row)."""
    if not mask.any():
        return [np.empty(0, dtype=object) for _ in range(width)]
    cells = pc.list_flatten(pc.split_pattern(text.filter(pa.array(mask)), delimiter))
    every = np.arange(0, len(cells), width)
    return [shared_objects(cells.take(every + j)) for j in range(width)]
