"""Filing dates: `2015-03-02`, `2015/3/2`, `2015年3月2日`, `20150302` (and with a time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .text import compact_column

_PATTERN = (r"^(?P<y>\d{4})(?:[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?|"
            r"(?P<m8>\d{2})(?P<d8>\d{2}))(?:[T ]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_dates(values: pd.Series) -> pd.Series:
    """datetime64 dates; NaT where missing or not a real date."""
    codes, uniques = pd.factorize(values)  # a few thousand distinct dates in a million rows
    parsed = _parse(pd.Series(uniques, dtype=object)).to_numpy()
    table = np.append(parsed, np.datetime64("NaT", "ns"))
    return pd.Series(table[codes], index=values.index, dtype="datetime64[ns]")


def _parse(values: pd.Series) -> pd.Series:
    text = compact_column(values)
    parts = text.str.extract(_PATTERN)
    month = parts["m"].fillna(parts["m8"])
    day = parts["d"].fillna(parts["d8"])
    frame = pd.DataFrame({"year": pd.to_numeric(parts["y"], errors="coerce"),
                          "month": pd.to_numeric(month, errors="coerce"),
                          "day": pd.to_numeric(day, errors="coerce")})
    plausible = frame["year"].between(1990, 2100)
    frame = frame.where(plausible)
    return pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]")
