"""Legacy databases: one record per row of the mapping's query, domains aggregated per key.

Text is decoded here, value by value, from the bytes the database stores, so that a value
that does not decode makes its own record unreadable, never the whole source (or, worse, a
driver's silent substitute text). Each value is decoded as a file line is: UTF-8, else
GB18030; except that on MySQL/MariaDB a column declared in a real charset (utf8mb4, gbk,
big5, ...) is decoded in that charset only, and only binary and latin1 columns (where legacy
applications kept UTF-8 or GBK bytes) get the UTF-8-else-GB18030 guess.

- SQLite: its connection returns every text as bytes while the queries run.
- MySQL/MariaDB through PyMySQL: while the queries run the server sends each column's stored
  bytes unconverted (`character_set_results = NULL`) and the driver leaves them as bytes;
  the column's declared charset comes with the result. Otherwise the server would convert
  latin1 columns holding GBK bytes to mojibake, and PyMySQL would fail the whole query on
  one value it cannot decode.
- Other drivers decode text themselves; their strings are taken as they come.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..errors import SourceError
from ..mapping import Mapping, SqlOptions
from ..transforms.text import join_groups
from .lines import decode_value, undecodable

ENCODINGS = ("utf-8", "gb18030")  # as for files (detect.DEFAULT_ENCODINGS)

# A query's frame and, per column, the encodings its bytes are decoded with (ENCODINGS when
# not named).
Read = tuple[pd.DataFrame, dict[str, tuple[str, ...]]]


def read_sql_records(engine: sa.Engine, mapping: Mapping, label: str) -> pd.DataFrame:
    """Frame with the query's columns (as text) plus `domains`, `locator`, `read_error`."""
    return next(sql_chunks(engine, mapping, label, None))


def sql_chunks(engine: sa.Engine, mapping: Mapping, label: str,
               rows_per_chunk: int | None) -> Iterator[pd.DataFrame]:
    """`read_sql_records`' frame, `rows_per_chunk` rows of the mapping's query at a time
    (None: one frame), the rows streamed from the server as they are drawn. The domains
    query is read first and whole (a key and a domain per row): each chunk's records take
    their domains from it."""
    assert mapping.sql is not None
    options = mapping.sql
    try:
        with engine.connect() as conn, _text_as_bytes(conn):
            domains = _domains(conn, options.domains_query) if options.domains_query else None
            result, charsets = _execute(conn, options.query, streamed=bool(rows_per_chunk))
            columns = [str(c) for c in result.keys()]
            if options.key not in columns:
                raise SourceError(f"{label}: the query of {mapping.path.name} returns no "
                                  f"{options.key!r}")
            drawn = False
            while not drawn or rows_per_chunk:
                rows = result.fetchmany(rows_per_chunk) if rows_per_chunk else result.fetchall()
                if drawn and not rows:
                    break
                drawn = True
                frame = pd.DataFrame([tuple(row) for row in rows], columns=columns,
                                     dtype=object)
                yield _records(frame, charsets, domains, options)
    except sa.exc.SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["?"])[0]
        raise SourceError(f"{label}: the mapping's query failed: {reason}") from None


@dataclass(frozen=True)
class _Domains:
    """The domains query's rows: each key's domains joined, and the keys of the domains
    that do not decode (with the reason their records take)."""

    joined: pd.Series
    broken: set[object]
    reason: str


def _domains(conn: sa.Connection, query: str) -> _Domains | None:
    domains, charsets = _read(conn, query)
    if len(domains.columns) < 2:
        return None
    key_col, domain_col = domains.columns[:2]
    domains = domains.dropna()
    keys = _texts(domains[key_col], charsets.get(str(key_col), ENCODINGS), keep_bad=True)[0]
    encodings = charsets.get(str(domain_col), ENCODINGS)
    names, bad = _texts(domains[domain_col], encodings)
    return _Domains(join_groups(keys[~bad], names[~bad], ";"), set(keys[bad]),
                    undecodable(encodings, str(domain_col)))


def _records(frame: pd.DataFrame, charsets: dict[str, tuple[str, ...]],
             domains: _Domains | None, options: SqlOptions) -> pd.DataFrame:
    """A chunk of the query's rows as records: text decoded, domains joined, locators."""
    frame = frame.astype(object).where(frame.notna(), None)
    errors = np.full(len(frame), None, dtype=object)  # the first reason of each record
    for column in list(frame.columns):
        encodings = charsets.get(str(column), ENCODINGS)
        frame[column], bad = _texts(frame[column], encodings, keep_bad=column == options.key)
        _note(errors, bad, undecodable(encodings, str(column)))
    key = frame[options.key]
    if domains is not None:
        # an undecodable domain makes its key's record unreadable, no other
        _note(errors, key.isin(domains.broken).to_numpy(), domains.reason)
        frame["domains"] = key.map(domains.joined)
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
    """While the block runs the connection gives text as the stored bytes, where its driver
    can: SQLite's (it would fail the whole query on one value that is not UTF-8) and
    PyMySQL's; other drivers decode text themselves."""
    dbapi: Any = conn.connection.dbapi_connection
    if _is_pymysql(conn):
        with _mysql_raw(conn, dbapi):
            yield
        return
    if not hasattr(dbapi, "text_factory"):  # sqlite3's own switch; no other driver has it
        yield
        return
    before = dbapi.text_factory
    dbapi.text_factory = bytes
    try:
        yield
    finally:
        dbapi.text_factory = before


def _is_pymysql(conn: sa.Connection) -> bool:
    return conn.dialect.name in ("mysql", "mariadb") and conn.dialect.driver == "pymysql"


def _read(conn: sa.Connection, query: str) -> Read:
    """All the rows of one query, in one round trip."""
    result, charsets = _execute(conn, query, streamed=False)
    columns = [str(c) for c in result.keys()]
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=columns,
                        dtype=object), charsets


def _execute(conn: sa.Connection, query: str, streamed: bool,
             ) -> tuple[sa.CursorResult, dict[str, tuple[str, ...]]]:
    """The query's result (`streamed`: its rows sent as they are fetched, on a server-side
    cursor where the driver has one) and, on MySQL/MariaDB, the encodings of each text
    column by its declared charset."""
    result = conn.execution_options(stream_results=streamed).execute(sa.text(query))
    if not _is_pymysql(conn):
        return result, {}
    fields = getattr(getattr(result.cursor, "_result", None), "fields", None) or []
    return result, {str(column): _encodings_of(getattr(field, "charsetnr", 63))
                    for column, field in zip(result.keys(), fields, strict=False)}


@contextmanager
def _mysql_raw(conn: sa.Connection, dbapi: Any) -> Iterator[None]:
    """While the block runs the server sends every column's stored bytes, unconverted, and
    PyMySQL hands them over undecoded (numbers and dates it still converts)."""
    use_unicode, decoders = dbapi.use_unicode, dbapi.decoders
    conn.exec_driver_sql("SET @icp_migrate_results = @@character_set_results, "
                         "character_set_results = NULL")
    dbapi.use_unicode = False
    dbapi.decoders = {**decoders, **{t: _decimal for t, f in decoders.items() if f is Decimal}}
    try:
        yield
    except BaseException:
        dbapi.use_unicode, dbapi.decoders = use_unicode, decoders
        try:
            conn.exec_driver_sql("SET character_set_results = @icp_migrate_results")
        except sa.exc.SQLAlchemyError:
            conn.invalidate()  # never back to the pool as it is; the first error is the one
        raise
    dbapi.use_unicode, dbapi.decoders = use_unicode, decoders
    conn.exec_driver_sql("SET character_set_results = @icp_migrate_results")


def _decimal(raw: bytes) -> Decimal:
    return Decimal(raw.decode("ascii"))


# MySQL charsets whose bytes are whatever a legacy application wrote: guessed as files are
_LOOSE_CHARSETS = {"binary", "latin1", "ascii"}
_GB_CHARSETS = {"gbk", "gb2312", "gb18030"}  # GB18030 decodes what the other two hold
# MySQL's wide charsets are big-endian without a BOM (Python's names would guess the order)
_WIDE_CHARSETS = {"ucs2": "utf-16-be", "utf16": "utf-16-be", "utf16le": "utf-16-le",
                  "utf32": "utf-32-be"}


def _encodings_of(charsetnr: int) -> tuple[str, ...]:
    """How bytes of a column in the MySQL charset numbered `charsetnr` are decoded."""
    from pymysql.charset import charset_by_id

    try:
        charset = charset_by_id(charsetnr)
    except KeyError:
        return ENCODINGS
    if charset.name in _LOOSE_CHARSETS:
        return ENCODINGS
    if charset.name in _GB_CHARSETS:
        return ("gb18030",)
    if charset.name in ("utf8mb3", "utf8mb4", "utf8"):
        return ("utf-8",)
    if charset.name in _WIDE_CHARSETS:
        return (_WIDE_CHARSETS[charset.name],)
    try:
        return (codecs.lookup(charset.encoding).name,)
    except LookupError:  # a charset Python does not know (ujis, ...): guessed as files are
        return ENCODINGS


def _texts(values: pd.Series, encodings: tuple[str, ...] = ENCODINGS,
           keep_bad: bool = False) -> tuple[pd.Series, np.ndarray]:
    """(_text of each value as an object column, mask of the undecodable). Bytes are
    decoded with the first of `encodings` that decodes them whole (as a file line is); an
    undecodable value becomes None, or with `keep_bad` (a key, so that its locator still
    names the record) its text with the bad bytes escaped."""
    out: list[str | None] = []
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if isinstance(value, bytearray | memoryview):  # BLOBs of some drivers
            value = bytes(value)
        if type(value) is str:
            out.append(value)
        elif type(value) is bytes:
            text = decode_value(value, encodings)
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
