"""Bulk writes of plan frames, inside the caller's transaction.

SQLite: `executemany` of plain tuples on the DBAPI connection. PostgreSQL: `COPY` into a
temporary staging table, then one set-based `INSERT ... SELECT ... ON CONFLICT` per table;
rows that only go in (dispositions, links, and every row of a table still empty) are
copied straight into their table. An upsert
rewrites a stored row only where a value differs, so a rerun of the same input changes
nothing (not even PostgreSQL's row versions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, Integer, Table

from icp_migrate.store import copy_text

# Rows per executemany / COPY batch: bounds the memory of the tuples on million-row runs.
CHUNK_ROWS = 50_000
COPY_ROWS = 200_000  # rows per COPY text buffer (about 30 MB)


def upsert(connection: Connection, table: Table, frame: pd.DataFrame, chunk_rows: int) -> None:
    """Insert the frame's rows; update a stored row (same key) only where a value differs.

    Into a table that holds no row yet (a first migration) every row is new: they go in
    as plain inserts, without the per-row conflict check (SQLite: a third faster).
    """
    if len(frame) and _empty(connection, table):
        insert(connection, table, frame, {}, chunk_rows)
        return
    names = [column.name for column in table.columns]
    key = [column.name for column in table.primary_key.columns]
    others = [name for name in names if name not in key]
    q = connection.dialect.identifier_preparer.quote
    target, columns = q(table.name), ", ".join(q(n) for n in names)
    if others:
        changes = " OR ".join(f"{target}.{q(n)} IS {{distinct}} excluded.{q(n)}" for n in others)
        action = (f"DO UPDATE SET {', '.join(f'{q(n)} = excluded.{q(n)}' for n in others)} "
                  f"WHERE {changes}")
    else:
        action = "DO NOTHING"
    conflict = f"ON CONFLICT ({', '.join(q(n) for n in key)}) {action}"
    rows = _rows(table, frame, names, {}, connection.dialect.name, chunk_rows)
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        stage = q(f"_load_{table.name}")
        with raw.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {target} INCLUDING DEFAULTS) "
                           "ON COMMIT DROP")
            _copy(cursor, f"{stage} ({columns})", table, frame, names, {}, rows)
            cursor.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {stage} "
                           + conflict.format(distinct="DISTINCT FROM"))
            cursor.execute(f"DROP TABLE {stage}")
        return
    marks = ", ".join("?" * len(names))
    sql = (f"INSERT INTO {target} ({columns}) VALUES ({marks}) "
           + conflict.format(distinct="NOT"))
    cursor = raw.cursor()
    try:
        for chunk in rows:
            cursor.executemany(sql, chunk)
    finally:
        cursor.close()


def insert(connection: Connection, table: Table, frame: pd.DataFrame, constants: dict[str, Any],
           chunk_rows: int) -> None:
    """Insert the frame's rows, each with the `constants` columns (e.g. its run_id)."""
    names = [column.name for column in table.columns]
    q = connection.dialect.identifier_preparer.quote
    columns = ", ".join(q(n) for n in names)
    rows = _rows(table, frame, names, constants, connection.dialect.name, chunk_rows)
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            _copy(cursor, f"{q(table.name)} ({columns})", table, frame, names, constants, rows)
        return
    sql = f"INSERT INTO {q(table.name)} ({columns}) VALUES ({', '.join('?' * len(names))})"
    cursor = raw.cursor()
    try:
        for chunk in rows:
            cursor.executemany(sql, chunk)
    finally:
        cursor.close()


def _empty(connection: Connection, table: Table) -> bool:
    quoted = connection.dialect.identifier_preparer.quote(table.name)
    return connection.exec_driver_sql(f"SELECT 1 FROM {quoted} LIMIT 1").first() is None


def _copy(cursor: Any, into: str, table: Table, frame: pd.DataFrame, names: list[str],
          constants: dict[str, Any], rows: Iterator[list[tuple]]) -> None:
    """COPY the rows: as text built in bulk when it can be, else tuple by tuple."""
    fast = copy_text.encodable(table, frame, names, cursor.connection.info.encoding)
    with cursor.copy(f"COPY {into} FROM STDIN") as copy:
        if fast:
            for data in copy_text.copy_chunks(table, frame, names, constants, COPY_ROWS):
                copy.write(data)
            return
        for chunk in rows:
            for row in chunk:
                copy.write_row(row)


def _rows(table: Table, frame: pd.DataFrame, names: list[str], constants: dict[str, Any],
          dialect: str, chunk_rows: int) -> Iterator[list[tuple]]:
    """Tuples of plain Python values in `names` order (None for NA), chunk_rows at a time."""
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start:start + chunk_rows]
        columns = [[constants[n]] * len(part) if n in constants
                   else _values(part[n], table.c[n].type, dialect) for n in names]
        yield list(zip(*columns, strict=True))


def _values(series: pd.Series, kind: Any, dialect: str) -> list[Any]:
    present = series.notna().to_numpy()
    if isinstance(kind, Date):
        # datetime64, Timestamps, dates or ISO strings; the column is a DATE
        dates = pd.to_datetime(series).dt.date.to_numpy(dtype=object, copy=True)
        if dialect != "postgresql":
            dates = np.array([d.isoformat() if isinstance(d, dt.date) else d for d in dates],
                             dtype=object)  # as SQLAlchemy stores a DATE in SQLite
        values = dates
    elif isinstance(kind, (Boolean, Integer)):  # bool(v) / int(v) of each value, in bulk
        cast = bool if isinstance(kind, Boolean) else np.int64
        values = np.full(len(series), None, dtype=object)
        values[present] = series.to_numpy(dtype=object)[present].astype(cast).tolist()
    else:
        values = series.to_numpy(dtype=object, copy=True)
    values[~present] = None
    return values.tolist()
