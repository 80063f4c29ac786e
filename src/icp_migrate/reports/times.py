"""Stored times as the report shows them."""

from __future__ import annotations

import pandas as pd


def utc_text(value: object) -> str | None:
    """A stored time as `2025-01-01T08:00:00Z`; SQLite hands back naive UTC, PostgreSQL aware."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
