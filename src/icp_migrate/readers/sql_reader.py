"""Legacy databases: one record per row of the mapping's query, domains aggregated per key.

Text is decoded value by value where the driver gives bytes (SQLite: its connection returns
every text as bytes while the queries run), each value as a file line is: UTF-8, else
GB18030. A value neither decodes makes its record unreadable, never the whole source.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import SourceError
from ..mapping import Mapping
from ..transforms.text import join_groups
from .lines import decode_value, undecodable

ENCODINGS = ("utf-8", "gb18030")  # as for files (detect.DEFAULT_ENCODINGS)


def read_sql_records(engine: sa.Engine, mapping: Mapping, label: str) -> pd.DataFrame:
    """Frame with the query's columns (as text) plus `domains`, `locator`, `read_error`."""
    assert mapping.sql is not None
    options = mapping.sql
    try:
        with engine.connect() as conn, _text_as_bytes(conn):
            frame = pd.read_sql(sa.text(options.query), conn, dtype=object)
            domains = (pd.read_sql(sa.text(options.domains_query), conn, dtype=object)
                       if options.domains_query else None)
    except sa.exc.SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["?"])[0]
        raise SourceError(f"{label}: the mapping's query failed: {reason}") from None
    if options.key not in frame.columns:
        raise SourceError(f"{label}: the query of {mapping.path.name} returns no {options.key!r}")
    frame = frame.astype(object).where(frame.notna(), None)
    errors = np.full(len(frame), None, dtype=object)  # the first reason of each record
    for column in list(frame.columns):
        frame[column], bad = _texts(frame[column], keep_bad=column == options.key)
        _note(errors, bad, undecodable(ENCODINGS, str(column)))
    key = frame[options.key]
    if domains is not None and len(domains.columns) >= 2:
        key_col, domain_col = domains.columns[:2]
        domains = domains.dropna()
        domain_keys = _texts(domains[key_col], keep_bad=True)[0]
        names, bad = _texts(domains[domain_col])
        # an undecodable domain makes its key's record unreadable, no other
        broken = key.isin(set(domain_keys[bad])).to_numpy()
        _note(errors, broken, undecodable(ENCODINGS, str(domain_col)))
        frame["domains"] = key.map(join_groups(domain_keys[~bad], names[~bad], ";"))
    frame["locator"] = [options.locator.format(**{options.key: k}) for k in key]
    # as in the file layouts, a NUL makes a record unreadable (PostgreSQL text cannot hold it)
    nul = np.zeros(len(frame), dtype=bool)
    for column in frame.columns:
        nul |= np.fromiter((isinstance(v, str) and "\x00" in v for v in frame[column]),
                           dtype=bool, count=len(frame))
    _note(errors, nul, "NUL character in a column")
    frame["read_error"] = pd.Series(errors, index=frame.index, dtype=object)
    return frame


def _note(errors: np.ndarray, where: np.ndarray, reason: str) -> None:
    """`reason` as the read_error of the records at `where` that have none yet."""
    errors[where & pd.isna(errors)] = reason


@contextmanager
def _text_as_bytes(conn: sa.Connection) -> Iterator[None]:
    """SQLite's driver returns text as bytes while the block runs (it would fail the whole
    query on one value that is not UTF-8); other drivers decode text themselves."""
    dbapi: Any = conn.connection.dbapi_connection
    if not hasattr(dbapi, "text_factory"):  # sqlite3's own switch; no other driver has it
        yield
        return
    before = dbapi.text_factory
    dbapi.text_factory = bytes
    try:
        yield
    finally:
        dbapi.text_factory = before


def _texts(values: pd.Series, keep_bad: bool = False) -> tuple[pd.Series, np.ndarray]:
    """(_text of each value as an object column, mask of the undecodable). Bytes are
    decoded as a file line is; an undecodable value becomes None, or with `keep_bad` (a
    key, so that its locator still names the record) its text with the bad bytes escaped."""
    out: list[str | None] = []
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if isinstance(value, bytearray | memoryview):  # BLOBs of some drivers
            value = bytes(value)
        if type(value) is str:
            out.append(value)
        elif type(value) is bytes:
            text = decode_value(value, ENCODINGS)
            if text is None:
                bad[i] = True
                text = value.decode("utf-8", "backslashreplace") if keep_bad else None
            out.append(text)
        else:
            out.append(_text(value))
    return pd.Series(out, index=values.index, dtype=object), bad


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # integer columns come back as floats when they hold NULLs
    return str(value)
