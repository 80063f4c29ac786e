"""CSV exports: a header row, then one record per row; broken rows kept with a reason."""

from __future__ import annotations

import csv
import sys

import pandas as pd

from ..mapping import CsvOptions
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


def _records(decoded: DecodedLines, start: int, width: int, options: CsvOptions):
    """Yield (first line index, cells or None, error) for each record after the header.

    A line with an open quote is joined with the next lines only if that yields a row of
    the header's width; otherwise the line alone is a broken row and the next line is
    read on its own, so one stray quote never swallows the records after it.
    """
    lines, quote = decoded.lines, options.quotechar
    i, n = start, len(lines)
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
    """Frame with the header's columns plus `locator` and `read_error` (all text)."""
    found = header_of(decoded, options)
    assert found is not None, "caller checks the header first"
    header_index, header = found
    width = len(header)
    blank = [None] * width
    locators: list[str] = []
    errors: list[str | None] = []
    rows: list[list[str] | list[None]] = []
    for index, cells, error in _records(decoded, header_index + 1, width, options):
        locators.append(f"line {index + 1}")
        errors.append(error)
        rows.append(cells if cells is not None else blank)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame["locator"] = locators
    frame["read_error"] = errors
    return frame
