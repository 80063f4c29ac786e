"""Bulk writes by COPY (the `Backend` of a PostgreSQL target uses these; see `bulk.py`).

Rows that only go in are copied straight into their table; an upsert copies the rows into a
temporary staging table, then one set-based `INSERT ... SELECT ... ON CONFLICT` moves only
the rows that are new or differ from the stored one (a row ON CONFLICT merely skips is
still locked: its page written, WAL logged).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table

from icp_migrate.store import copy_text
from icp_migrate.store.rows import rows

COPY_ROWS = 200_000  # rows per COPY text buffer (about 30 MB)


def copy_insert(connection: Connection, table: Table, frame: pd.DataFrame, names: list[str],
                constants: dict[str, Any], chunk_rows: int) -> None:
    q = connection.dialect.identifier_preparer.quote
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        _copy(cursor, f"{q(table.name)} ({', '.join(q(n) for n in names)})", table, frame,
              names, constants, chunk_rows)


def copy_upsert(connection: Connection, table: Table, frame: pd.DataFrame, names: list[str],
                key: list[str], conflict: str, chunk_rows: int) -> None:
    """Stage the rows, then upsert those that are new or differ (`conflict`: the ON
    CONFLICT clause)."""
    q = connection.dialect.identifier_preparer.quote
    others = [n for n in names if n not in key]
    target, columns, stage = q(table.name), ", ".join(q(n) for n in names), q(f"_load_{table.name}")
    same_key = " AND ".join(f"cur.{q(n)} = s.{q(n)}" for n in key)
    differs = " OR ".join([f"cur.{q(key[0])} IS NULL"]
                          + [f"cur.{q(n)} IS DISTINCT FROM s.{q(n)}" for n in others])
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {target} INCLUDING DEFAULTS) "
                       "ON COMMIT DROP")
        _copy(cursor, f"{stage} ({columns})", table, frame, names, {}, chunk_rows)
        cursor.execute(f"INSERT INTO {target} ({columns}) "
                       f"SELECT {', '.join(f's.{q(n)}' for n in names)} FROM {stage} AS s "
                       f"LEFT JOIN {target} AS cur ON {same_key} WHERE {differs} {conflict}")
        cursor.execute(f"DROP TABLE {stage}")


def catalog_upkeep(connection: Connection, table: Table) -> list[tuple[str, str]]:
    """(drop, make) statements of the table's plain indexes and foreign keys, as the
    catalog has them; none when this role does not own every table involved."""
    quoted = connection.dialect.identifier_preparer.quote(table.name)
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor:
        return _catalog_upkeep(cursor, quoted)


def _catalog_upkeep(cursor: Any, table: str) -> list[tuple[str, str]]:
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


def _copy(cursor: Any, into: str, table: Table, frame: pd.DataFrame, names: list[str],
          constants: dict[str, Any], chunk_rows: int) -> None:
    """COPY the rows: as text built in bulk when it can be, else tuple by tuple."""
    fast = copy_text.encodable(table, frame, names, cursor.connection.info.encoding)
    with cursor.copy(f"COPY {into} FROM STDIN") as copy:
        if fast:
            for data in copy_text.copy_chunks(table, frame, names, constants, COPY_ROWS):
                copy.write(data)
            return
        for chunk in rows(table, frame, names, constants, False, chunk_rows):
            for row in chunk:
                copy.write_row(row)
