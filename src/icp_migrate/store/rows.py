"""Plan frames as tuples of plain Python values, the form a DBAPI driver takes them in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Date, Integer, Table

from icp_migrate import progress


def rows(table: Table, frame: pd.DataFrame, names: list[str], constants: dict[str, Any],
         dates_as_text: bool, chunk_rows: int) -> Iterator[Iterator[tuple]]:
    """Tuples of plain Python values in `names` order (None for NA), chunk_rows at a time
    (each chunk's tuples made as executemany takes them). `dates_as_text`: DATE values as
    ISO text (how SQLAlchemy stores a DATE where the database has no date type). Each
    chunk, once written (the next one asked for), counts in the load's progress bar."""
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start:start + chunk_rows]
        columns = [[constants[n]] * len(part) if n in constants
                   else _values(part[n], table.c[n].type, dates_as_text) for n in names]
        yield zip(*columns, strict=True)
        progress.advance("load", len(part))


def _values(series: pd.Series, kind: Any, dates_as_text: bool) -> list[Any]:
    present = series.notna().to_numpy()
    if isinstance(kind, Date):
        # datetime64, Timestamps, dates or ISO strings; the column is a DATE
        stamps = pd.to_datetime(series)
        if dates_as_text and not isinstance(stamps.dtype, pd.DatetimeTZDtype):
            # ISO text, as SQLAlchemy stores a DATE in SQLite (numpy formats it in bulk)
            values = stamps.to_numpy(dtype="datetime64[D]").astype(str).astype(object)
        else:
            values = stamps.dt.date.to_numpy(dtype=object, copy=True)
            if dates_as_text:
                values = np.array([d.isoformat() if isinstance(d, dt.date) else d
                                   for d in values], dtype=object)
    elif isinstance(kind, (Boolean, Integer)):  # bool(v) / int(v) of each value, in bulk
        cast = bool if isinstance(kind, Boolean) else np.int64
        values = np.full(len(series), None, dtype=object)
        values[present] = series.to_numpy(dtype=object)[present].astype(cast).tolist()
    else:
        values = series.to_numpy(dtype=object, copy=True)
    if not present.all():
        values[~present] = None
    return values.tolist()
