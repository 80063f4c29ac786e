"""Plan frames as PostgreSQL COPY text, built a column at a time with pyarrow.

`Copy.write_row` formats each value in Python (a million rows: tens of seconds); here each
column becomes text in bulk (backslash, tab, newline and carriage return escaped, NULL as
`\\N`), columns are joined with tabs and rows with newlines, and the buffer goes to COPY
as it is. A column that is not plain text (or a client encoding other than UTF-8) makes
the caller fall back to `write_row` (see encodable).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype
from sqlalchemy import Boolean, Date, Integer, Table

from icp_migrate import progress

TEXT = pa.large_string()
NULL = pa.scalar("\\N", TEXT)
# COPY text format: these must be escaped inside a value (backslash first)
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NEEDS_ESCAPE = np.frombuffer(b"\\\t\n\r", dtype=np.uint8)


def encodable(table: Table, frame: pd.DataFrame, names: list[str], encoding: str) -> bool:
    """Whether copy_chunks can write the frame: a UTF-8 connection, and text columns that
    hold only text (or nulls)."""
    if encoding.replace("-", "").lower() != "utf8":
        return False
    for name in names:
        if name in frame.columns and not isinstance(table.c[name].type,
                                                    (Date, Boolean, Integer)):
            values = frame[name].to_numpy(dtype=object)
            if infer_dtype(values[pd.notna(values)], skipna=False) not in ("string", "empty"):
                return False
    return True


def copy_chunks(table: Table, frame: pd.DataFrame, names: list[str],
                constants: dict[str, Any], chunk_rows: int) -> Iterator[memoryview]:
    """COPY text of the frame's rows in `names` order, chunk_rows rows per buffer (see
    encodable). Each chunk, once written, counts in the load's progress bar."""
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start:start + chunk_rows]
        columns = [_constant(constants[n], len(part)) if n in constants
                   else _column(part[n], table.c[n].type) for n in names]
        lines = pc.binary_join_element_wise(*columns, pa.scalar("\t", TEXT))
        lines = pc.binary_join_element_wise(lines, pa.scalar("\n", TEXT), pa.scalar("", TEXT))
        yield _buffer(lines)
        progress.advance("load", len(part))


def _buffer(lines: pa.Array) -> memoryview:
    """The bytes of a string array without nulls: its values, back to back (no copy)."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:][:len(lines) + 1]
    data = lines.buffers()[2]
    if data is None or not len(lines):
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]):int(offsets[-1])]


def _has_any_byte(text: pa.Array, needles: np.ndarray) -> bool:
    """Whether a value of the string array holds one of the ASCII bytes `needles` (UTF-8
    uses bytes below 0x80 only for ASCII characters, so a byte scan is exact)."""
    data = text.buffers()[2]
    if data is None:
        return False
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset:][:len(text) + 1]
    values = np.frombuffer(data, dtype=np.uint8)[int(offsets[0]):int(offsets[-1])]
    return bool(np.isin(values, needles).any())


def _constant(value: Any, count: int) -> pa.Array:
    return pa.array([_escape_one(str(value))], type=TEXT).take(np.zeros(count, dtype=np.int64))


def _escape_one(text: str) -> str:
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def _column(series: pd.Series, kind: Any) -> pa.Array:
    present = series.notna().to_numpy()
    if isinstance(kind, Date):
        stamps = pa.Array.from_pandas(pd.to_datetime(series))  # any unit: no overflow
        text = pc.cast(pc.cast(stamps, pa.date32()), TEXT)
    elif isinstance(kind, (Boolean, Integer)):
        # bool(v) / int(v) of each present value, in bulk (numpy's object casts call them)
        values = series.to_numpy(dtype=object)[present]
        if isinstance(kind, Boolean):
            text = pc.if_else(pa.array(values.astype(bool)), pa.scalar("t", TEXT),
                              pa.scalar("f", TEXT))
        else:
            text = pc.cast(pa.array(values.astype(np.int64)), TEXT)
        text = _spread(text, present)
    else:
        text = pa.array(np.where(present, series.to_numpy(dtype=object), None), type=TEXT)
        if _has_any_byte(text, _NEEDS_ESCAPE):
            for raw, escaped in _ESCAPES:
                text = pc.replace_substring(text, raw, escaped)
    return pc.fill_null(text, NULL)


def _spread(values: pa.Array, present: np.ndarray) -> pa.Array:
    """`values` (one per present row) at the present rows, nulls elsewhere."""
    if present.all():
        return values
    positions = np.full(len(present), -1, dtype=np.int64)
    positions[present] = np.arange(int(present.sum()))
    return values.take(pa.array(positions, mask=~present))
