"""The legacy tables (`hichina_legacy_db`) on a MariaDB/MySQL database, for the tests."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa

SAMPLE_DB = Path(__file__).resolve().parents[1] / "data" / "samples" / "hichina_legacy.db"

# The layout's columns and the MySQL types they get (text columns in the table's charset)
COLUMNS: dict[str, dict[str, str]] = {
    "members": {"member_id": "VARCHAR(64) PRIMARY KEY", "email": "VARCHAR(255)"},
    "subjects": {"subject_id": "INT PRIMARY KEY", "member_id": "VARCHAR(64)",
                 "subject_type": "VARCHAR(32)", "name": "VARCHAR(255)",
                 "cert_type": "VARCHAR(64)", "cert_no": "VARCHAR(64)",
                 "province": "VARCHAR(64)", "subject_icp_no": "VARCHAR(64)",
                 "admin_email": "VARCHAR(255)", "has_cloud": "TINYINT",
                 "cloud_admin_email": "VARCHAR(255)"},
    "sites": {"site_id": "INT PRIMARY KEY", "subject_id": "INT", "product": "VARCHAR(32)",
              "site_name": "VARCHAR(255)", "site_icp_no": "VARCHAR(64)",
              "home_url": "VARCHAR(512)", "filed_at": "VARCHAR(64)"},
    "site_domains": {"site_id": "INT", "domain": "VARCHAR(512)"},
}


def copy_legacy(url: str, source: Path = SAMPLE_DB, charset: str = "utf8mb4",
                types: dict[str, str] | None = None) -> None:
    """The four tables of the SQLite legacy database `source` created on `url` with
    `DEFAULT CHARSET=charset` (and `types`, "table.column" -> MySQL type, instead of the
    usual ones) and its rows copied, one multi-row INSERT per table."""
    types = types or {}
    with closing(sqlite3.connect(source)) as db:
        rows = {table: db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
                for table, columns in COLUMNS.items()}
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table, columns in COLUMNS.items():
                ddl = ", ".join(f"{name} {types.get(f'{table}.{name}', kind)}"
                                for name, kind in columns.items())
                conn.exec_driver_sql(f"CREATE TABLE {table} ({ddl}) DEFAULT CHARSET={charset}")
                if rows[table]:
                    names = list(columns)
                    # bytes columns get the UTF-8 bytes of the text, as a legacy application
                    # writing through a latin1 connection would have stored them
                    values = [f"CAST(:{n} AS BINARY)" if _holds_bytes(types.get(f"{table}.{n}"))
                              else f":{n}" for n in names]
                    insert = sa.text(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                                     f"({', '.join(values)})")
                    conn.execute(insert, [dict(zip(names, row, strict=True))
                                          for row in rows[table]])
    finally:
        engine.dispose()


def _holds_bytes(kind: str | None) -> bool:
    return kind is not None and any(word in kind.upper()
                                    for word in ("LATIN1", "BINARY", "BLOB"))


def set_bytes(url: str, table: str, column: str, raw: bytes, where: str) -> None:
    """Store `raw` as it is (a hex literal: no charset conversion) in one column."""
    execute(url, f"UPDATE {table} SET {column} = X'{raw.hex()}' WHERE {where}")


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def stored_hex(url: str, query: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.exec_driver_sql(query)]
    finally:
        engine.dispose()
