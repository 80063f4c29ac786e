"""A file-backed target's paths: the file a URL names, its checks, its read-only URL."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import URL

from icp_migrate.errors import TargetError


def database_file(url: URL) -> str | None:
    """The database file a URL names (a URI filename without `file:` and its query); None
    for an in-memory database."""
    database = url.database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        database = unquote(database.removeprefix("file:").split("?", 1)[0])
        if database.startswith("//"):  # file://host/path or file:///path
            database = "/" + database[2:].split("/", 1)[-1]
        return database or None
    return database


def read_only_url(url: URL) -> URL:
    """The same database opened read-only (a URI filename with mode=ro)."""
    database = url.database
    if not database or database == ":memory:":
        return url
    if not database.startswith("file:"):
        database = "file:" + quote(os.path.abspath(database))
    return url.set(database=database).update_query_dict({"mode": "ro", "uri": "true"})


def check_location(url: URL, shown: str, read_only: bool) -> None:
    """Name a missing or read-only folder or file before the driver says 'unable to open'."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    folder = path.parent.resolve()
    if not folder.is_dir():
        raise TargetError(f"cannot open the target {shown}: folder {folder} does not exist")
    if path.is_dir():
        raise TargetError(f"cannot open the target {shown}: {path} is a folder, not a file")
    if read_only:
        if not path.exists():
            raise TargetError(f"cannot open the target {shown}: file {path} does not exist "
                              "(`icp-migrate run` creates it)")
        if not os.access(path, os.R_OK):
            raise TargetError(f"cannot open the target {shown}: file {path} is not readable")
    elif path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise TargetError(f"cannot open the target {shown}: file {path} is read-only")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise TargetError(f"cannot open the target {shown}: folder {folder} is read-only")
