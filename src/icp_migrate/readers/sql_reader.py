"""Legacy databases: one record per row of the mapping's query, domains aggregated per key."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from ..errors import SourceError
from ..mapping import Mapping


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
    key = frame[options.key].map(_text)
    if domains is not None and len(domains.columns) >= 2:
        key_col, domain_col = domains.columns[:2]
        domains = domains.dropna()
        joined = (domains.assign(k=domains[key_col].map(_text), d=domains[domain_col].map(str))
                  .groupby("k", sort=False)["d"].agg(";".join))
        frame["domains"] = key.map(joined)
    for column in frame.columns:
        if column != "domains":
            frame[column] = frame[column].map(_text)
    frame["locator"] = [options.locator.format(**{options.key: k}) for k in key]
    # as in the file layouts, a NUL makes a record unreadable (PostgreSQL text cannot hold it)
    nul = pd.Series(False, index=frame.index)
    for column in frame.columns:
        nul |= frame[column].map(lambda v: "\x00" in v, na_action="ignore").eq(True)
    frame["read_error"] = pd.Series("NUL character in a column", index=frame.index,
                                    dtype=object).where(nul, None)
    return frame


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # integer columns come back as floats when they hold NULLs
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
