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
from sqlalchemy import Boolean, Date, Integer, Table

TEXT = pa.large_string()
NULL = pa.scalar("\\N", TEXT)
# COPY text format: these must be escaped inside a value (backslash first)
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def encodable(table: Table, frame: pd.DataFrame, names: list[str], encoding: str) -> bool:
    """Whether copy_chunks can write the frame: a UTF-8 connection, and text columns that
    hold only text (or nulls)."""
    if encoding.replace("-", "").lower() != "utf8":
        return False
    for name in names:
        if name in frame.columns and not isinstance(table.c[name].type,
                                                    (Date, Boolean, Integer)):
            values = frame[name].to_numpy(dtype=object)
            if not all(isinstance(v, str) for v in values[pd.notna(values)]):
                return False
    return True


def copy_chunks(table: Table, frame: pd.DataFrame, names: list[str],
                constants: dict[str, Any], chunk_rows: int) -> Iterator[bytes]:
    """COPY text of the frame's rows in `names` order, chunk_rows rows per buffer (see
    encodable)."""
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start:start + chunk_rows]
        columns = [_constant(constants[n], len(part)) if n in constants
                   else _column(part[n], table.c[n].type) for n in names]
        lines = pc.binary_join_element_wise(*columns, pa.scalar("\t", TEXT))
        lines = pc.binary_join_element_wise(lines, pa.scalar("\n", TEXT), pa.scalar("", TEXT))
        yield _buffer(lines)


def _buffer(lines: pa.Array) -> bytes:
    """The bytes of a string array without nulls: its values, back to back."""
    lines = pa.concat_arrays([lines]) if lines.offset else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[:len(lines) + 1]
    data = lines.buffers()[2]
    return b"" if data is None else data.to_pybytes()[offsets[0]:offsets[-1]]


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
    elif isinstance(kind, Boolean):
        flags = np.array([bool(v) for v in series.to_numpy(dtype=object)[present]], dtype=bool)
        text = _spread(pc.if_else(pa.array(flags), pa.scalar("t", TEXT), pa.scalar("f", TEXT)),
                       present)
    elif isinstance(kind, Integer):
        numbers = np.array([int(v) for v in series.to_numpy(dtype=object)[present]],
                           dtype=np.int64)
        text = _spread(pc.cast(pa.array(numbers), TEXT), present)
    else:
        text = pa.array(np.where(present, series.to_numpy(dtype=object), None), type=TEXT)
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
