"""Bulk writes of plan frames, inside the caller's transaction.

SQLite: `executemany` of plain tuples on the DBAPI connection. PostgreSQL: `COPY` into a
temporary staging table, then one set-based `INSERT ... SELECT ... ON CONFLICT` per table;
rows that only go in (dispositions, links, and every row of a table still empty) are
copied straight into their table. An upsert
rewrites a stored row only where a value differs, so a rerun of the same input changes
nothing (not even PostgreSQL's row versions).

A big load into an empty table (a first migration) defers the table's upkeep: its plain
indexes (and, on PostgreSQL, its foreign keys) are dropped first and made again once the
rows are in, so each index is built by one sort and each foreign key is checked by one
join instead of row by row (PostgreSQL's "Populating a Database" advice). All of it is in
the load's transaction: a load that fails or is killed leaves them as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Date, Integer, Table

from icp_migrate.store import copy_text

# Rows per executemany / COPY batch: bounds the memory of the tuples on million-row runs.
CHUNK_ROWS = 50_000
COPY_ROWS = 200_000  # rows per COPY text buffer (about 30 MB)
# SQLite page cache of the load's connection while it loads (KiB; SQLite's default is
# 2 MiB): foreign key and unique lookups in parent indexes larger than the cache go back to
# the file. The pages are freed at the commit; a bigger cache bought nothing measurable
# (a load of 2 million rows) and only raised the peak memory.
SQLITE_CACHE_KIB = 64 * 1024
# Rows from which a load into an empty table defers its indexes and foreign keys (below,
# the statements cost more than they save, and PostgreSQL would lock the parents for it).
DEFER_MIN_ROWS = 20_000


@contextmanager
def session(connection: Connection) -> Iterator[None]:
    """Connection settings for one load, restored after it (the connection is pooled)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw: Any = connection.connection.driver_connection
    before = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    raw.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        # Before the commit: dirty pages stay pinned, a smaller cache drops only clean ones.
        raw.execute(f"PRAGMA cache_size = {before}")


def upsert(connection: Connection, table: Table, frame: pd.DataFrame, chunk_rows: int) -> None:
    """Insert the frame's rows; update a stored row (same key) only where a value differs.

    Into a table that holds no row yet (a first migration) every row is new: they go in
    as plain inserts, without the per-row conflict check (SQLite: a third faster).
    """
    if not len(frame):
        return
    if _empty(connection, table):
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
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        stage = q(f"_load_{table.name}")
        # Only staged rows that are new or differ from the stored one reach the upsert: a
        # row ON CONFLICT merely skips is still locked (its page written, WAL logged).
        same_key = " AND ".join(f"cur.{q(n)} = s.{q(n)}" for n in key)
        differs = " OR ".join([f"cur.{q(key[0])} IS NULL"]
                              + [f"cur.{q(n)} IS DISTINCT FROM s.{q(n)}" for n in others])
        with raw.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {target} INCLUDING DEFAULTS) "
                           "ON COMMIT DROP")
            _copy(cursor, f"{stage} ({columns})", table, frame, names, {}, chunk_rows)
            cursor.execute(f"INSERT INTO {target} ({columns}) "
                           f"SELECT {', '.join(f's.{q(n)}' for n in names)} FROM {stage} AS s "
                           f"LEFT JOIN {target} AS cur ON {same_key} WHERE {differs} "
                           + conflict.format(distinct="DISTINCT FROM"))
            cursor.execute(f"DROP TABLE {stage}")
        return
    marks = ", ".join("?" * len(names))
    _executemany(raw, f"INSERT INTO {target} ({columns}) VALUES ({marks}) "
                 + conflict.format(distinct="NOT"),
                 _rows(table, frame, names, {}, "sqlite", chunk_rows))


def insert(connection: Connection, table: Table, frame: pd.DataFrame, constants: dict[str, Any],
           chunk_rows: int) -> None:
    """Insert the frame's rows, each with the `constants` columns (e.g. its run_id)."""
    if not len(frame):
        return
    names = [column.name for column in table.columns]
    q = connection.dialect.identifier_preparer.quote
    columns = ", ".join(q(n) for n in names)
    raw: Any = connection.connection.driver_connection
    with _deferred_upkeep(connection, table, len(frame)):
        if connection.dialect.name == "postgresql":
            with raw.cursor() as cursor:
                _copy(cursor, f"{q(table.name)} ({columns})", table, frame, names, constants,
                      chunk_rows)
        else:
            _executemany(raw, f"INSERT INTO {q(table.name)} ({columns}) "
                         f"VALUES ({', '.join('?' * len(names))})",
                         _rows(table, frame, names, constants, "sqlite", chunk_rows))


@contextmanager
def _deferred_upkeep(connection: Connection, table: Table, rows: int) -> Iterator[None]:
    """Around a load into `table`: if it is big and the table empty, drop the table's plain
    indexes and (PostgreSQL) foreign keys first and make them again after the load."""
    if rows < DEFER_MIN_ROWS or not _empty(connection, table):
        yield
        return
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        quoted = connection.dialect.identifier_preparer.quote(table.name)
        with raw.cursor() as cursor:
            steps = _postgres_upkeep(cursor, quoted)
    else:
        steps = _sqlite_upkeep(raw, table.name)
        if steps and not raw.in_transaction:
            raw.execute("BEGIN")  # sqlite3 opens one only before DML: the DROPs belong in it
    for drop, _ in steps:
        raw.execute(drop)
    yield
    for _, make in steps:  # indexes first, then each foreign key's one checking join
        raw.execute(make)


def _postgres_upkeep(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(drop, make) statements of the table's plain indexes and foreign keys, as the
    catalog has them; none when this role does not own every table involved."""
    cursor.execute(
        "SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c "
        "WHERE c.oid = %(t)s::regclass OR c.oid IN (SELECT confrelid FROM pg_constraint "
        "WHERE conrelid = %(t)s::regclass AND contype = 'f')", {"t": table})
    if not cursor.fetchone()[0]:
        return []
    cursor.execute(
        "SELECT format('DROP INDEX %%s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i WHERE i.indrelid = %(t)s::regclass AND NOT i.indisunique "
        "AND NOT i.indisprimary AND NOT i.indisexclusion AND i.indisvalid "
        "ORDER BY i.indexrelid", {"t": table})
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname), "
        "format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass, conname, "
        "pg_get_constraintdef(oid)) FROM pg_constraint "
        "WHERE conrelid = %(t)s::regclass AND contype = 'f' AND convalidated ORDER BY conname",
        {"t": table})
    return [*indexes, *cursor.fetchall()]


def _sqlite_upkeep(raw: Any, table: str) -> list[tuple[str, str]]:
    """(drop, make) statements of the table's non-unique, explicitly created indexes."""
    plain = {row[1] for row in raw.execute("SELECT * FROM pragma_index_list(?)", (table,))
             if row[2] == 0 and row[3] == "c"}  # seq, name, unique, origin, partial
    rows = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                       "AND tbl_name = ? AND sql IS NOT NULL ORDER BY name", (table,))
    return [(f'DROP INDEX "{name}"', make) for name, make in rows if name in plain]


def _executemany(raw: Any, sql: str, chunks: Iterator[Iterator[tuple]]) -> None:
    cursor = raw.cursor()
    try:
        for chunk in chunks:
            cursor.executemany(sql, chunk)
    finally:
        cursor.close()


def _empty(connection: Connection, table: Table) -> bool:
    quoted = connection.dialect.identifier_preparer.quote(table.name)
    return connection.exec_driver_sql(f"SELECT 1 FROM {quoted} LIMIT 1").first() is None


def _copy(cursor: Any, into: str, table: Table, frame: pd.DataFrame, names: list[str],
          constants: dict[str, Any], chunk_rows: int) -> None:
    """COPY the rows: as text built in bulk when it can be, else tuple by tuple."""
    fast = copy_text.encodable(table, frame, names, cursor.connection.info.encoding)
    with cursor.copy(f"COPY {into} FROM STDIN") as copy:
        if fast:
            for data in copy_text.copy_chunks(table, frame, names, constants, COPY_ROWS):
                copy.write(data)
            return
        for chunk in _rows(table, frame, names, constants, "postgresql", chunk_rows):
            for row in chunk:
                copy.write_row(row)


def _rows(table: Table, frame: pd.DataFrame, names: list[str], constants: dict[str, Any],
          dialect: str, chunk_rows: int) -> Iterator[Iterator[tuple]]:
    """Tuples of plain Python values in `names` order (None for NA), chunk_rows at a time
    (each chunk's tuples made as executemany takes them)."""
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start:start + chunk_rows]
        columns = [[constants[n]] * len(part) if n in constants
                   else _values(part[n], table.c[n].type, dialect) for n in names]
        yield zip(*columns, strict=True)


def _values(series: pd.Series, kind: Any, dialect: str) -> list[Any]:
    present = series.notna().to_numpy()
    if isinstance(kind, Date):
        # datetime64, Timestamps, dates or ISO strings; the column is a DATE
        stamps = pd.to_datetime(series)
        if dialect != "postgresql" and not isinstance(stamps.dtype, pd.DatetimeTZDtype):
            # ISO text, as SQLAlchemy stores a DATE in SQLite (numpy formats it in bulk)
            values = stamps.to_numpy(dtype="datetime64[D]").astype(str).astype(object)
        else:
            values = stamps.dt.date.to_numpy(dtype=object, copy=True)
            if dialect != "postgresql":
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
