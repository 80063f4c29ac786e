"""A source frame in its own columns -> the canonical record (RAW_FIELDS, still raw text)."""

from __future__ import annotations

import pandas as pd

from ..canonical import RAW_FIELDS
from ..errors import MappingError
from ..frames import EXTRACTED, conform, shared_objects
from ..mapping import Mapping, value_key
from .text import blank_to_none, map_unique


def to_canonical(frame: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """Rename, coalesce and value-map one source's records; bookkeeping columns kept."""
    out = pd.DataFrame(index=frame.index)
    for column in ("source", "locator", "layout", "read_error"):
        out[column] = shared_objects(frame[column]) if column in frame else None
    for name in RAW_FIELDS:
        if name in mapping.constants:
            out[name] = mapping.constants[name]
            continue
        sources = mapping.fields.get(name, ())
        missing = [c for c in sources if c not in frame.columns]
        if missing:
            raise MappingError(f"mapping {mapping.name}: fields.{name}: the source has no "
                               f"column {missing[0]!r}")
        out[name] = _coalesce([blank_to_none(frame[c]) for c in sources], frame.index)
        if name in mapping.values:
            out[name] = _map_values(out[name], mapping.values[name])
    unreadable = out["read_error"].notna()
    if unreadable.any():
        # an unreadable record keeps only what identifies where it is
        out.loc[unreadable, list(RAW_FIELDS)] = None
    return conform(out, EXTRACTED)


def _coalesce(columns: list[pd.Series], index: pd.Index) -> pd.Series:
    if not columns:
        return pd.Series([None] * len(index), index=index, dtype=object)
    result = columns[0]
    for column in columns[1:]:
        result = result.where(result.notna(), column)
    return result.astype(object)


def _map_values(values: pd.Series, table: dict[str, str]) -> pd.Series:
    """Known codes become the vocabulary; unknown ones stay as they are (rules decide)."""
    return map_unique(values, lambda v: table.get(value_key(v), v)).astype(object)
