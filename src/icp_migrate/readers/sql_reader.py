"""Legacy databases: one record per row of the mapping's query, domains aggregated per key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import SourceError
from ..mapping import Mapping
from ..transforms.text import join_groups


def read_sql_records(engine: sa.Engine, mapping: Mapping, label: str) -> pd.DataFrame:
    """Frame with the query's columns (as text) plus `domains`, `locator`, `read_error`."""
    assert mapping.sql is not None
    options = mapping.sql
    try:
        with engine.connect() as conn:
            frame = pd.read_sql(sa.text(options.query), conn, dtype=object)
            domains = (pd.read_sql(sa.text(options.domains_query), conn, dtype=object)
                       if options.domains_query else None)
    except sa.exc.SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["?"])[0]
        raise SourceError(f"{label}: the mapping's query failed: {reason}") from None
    if options.key not in frame.columns:
        raise SourceError(f"{label}: the query of {mapping.path.name} returns no {options.key!r}")
    frame = frame.astype(object).where(frame.notna(), None)
    key = _texts(frame[options.key])
    if domains is not None and len(domains.columns) >= 2:
        key_col, domain_col = domains.columns[:2]
        domains = domains.dropna()
        joined = join_groups(_texts(domains[key_col]), domains[domain_col].map(str), ";")
        frame["domains"] = key.map(joined)
    for column in frame.columns:
        if column != "domains":
            frame[column] = _texts(frame[column])
    frame["locator"] = [options.locator.format(**{options.key: k}) for k in key]
    # as in the file layouts, a NUL makes a record unreadable (PostgreSQL text cannot hold it)
    nul = np.zeros(len(frame), dtype=bool)
    for column in frame.columns:
        nul |= np.fromiter((isinstance(v, str) and "\x00" in v for v in frame[column]),
                           dtype=bool, count=len(frame))
    frame["read_error"] = pd.Series("NUL character in a column", index=frame.index,
                                    dtype=object).where(nul, None)
    return frame


def _texts(values: pd.Series) -> pd.Series:
    """_text of each value (a str stays as it is), as an object column."""
    return pd.Series([v if type(v) is str else _text(v) for v in values], index=values.index,
                     dtype=object)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # integer columns come back as floats when they hold NULLs
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
