"""The files the inbox flow has taken (`inbox_files`), by content hash."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select

from icp_migrate.store.schema import inbox_files


def seen_files(engine: Engine) -> dict[str, str]:
    """Content hash -> file name of every file taken before (loaded or failed)."""
    with engine.connect() as connection:
        rows = connection.execute(select(inbox_files.c.content_hash,
                                         inbox_files.c.file_name)).all()
    return {digest: name for digest, name in rows}


def record_files(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Record taken files (inbox_files' columns) in one transaction."""
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(inbox_files), rows)
