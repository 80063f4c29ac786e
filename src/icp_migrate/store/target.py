"""The target store's engine: opened, checked and upgraded, or one clear TargetError."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from icp_migrate.errors import TargetError
from icp_migrate.masking import mask_text
from icp_migrate.store import migrate

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")

# Driver messages (psycopg, sqlite3) mapped to what the user should check.
_UNREACHABLE = (
    "connection refused",
    "could not translate host name",
    "failed to resolve host",
    "name or service not known",
    "timeout expired",
    "timed out",
    "no route to host",
    "network is unreachable",
    "could not connect",
    "server closed the connection unexpectedly",
)
_AUTH_FAILED = re.compile(r'authentication failed|no password supplied|role "[^"]*" does not exist')
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist')
# The engines `target_engine` blocks hold open, by URL, seen by the code (subflows too) that
# runs within them
_OPENED: ContextVar[dict[str, Engine] | None] = ContextVar("icp_migrate_opened_targets",
                                                          default=None)


def display_url(url: str | URL) -> str:
    """The URL with its password replaced by ***, safe for logs and error messages."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return _PASSWORD_IN_TEXT.sub(r"\1***@", str(url))
    return parsed.render_as_string(hide_password=True)


def parse_url(url: str | URL) -> URL:
    """A SQLAlchemy URL on a supported backend; plain postgresql:// means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise TargetError(
            f"not a database URL: {display_url(url)} "
            "(expected sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE)"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise TargetError(f"unsupported target {display_url(parsed)}: use SQLite or PostgreSQL")
    return parsed


def open_target(url: str | URL) -> Engine:
    """An engine on the target, reachable and with its tables at the current revision."""
    parsed = parse_url(url)
    shown = display_url(parsed)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed, shown)
    try:
        engine = _create_engine(parsed)
    except (SQLAlchemyError, ImportError) as exc:
        raise TargetError(f"cannot open the target {shown}: {_first_line(exc)}") from exc
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        raise TargetError(f"cannot open the target {shown}: {_reason(exc, parsed)}") from exc
    try:
        migrate.upgrade(engine)
    except (SQLAlchemyError, CommandError) as exc:
        engine.dispose()
        raise TargetError(
            f"cannot create or upgrade the tables in {shown}: {_reason(exc, parsed)}"
        ) from exc
    return engine


@contextmanager
def target_engine(url: str) -> Iterator[Engine]:
    """The target's engine for a block, disposed after: opened (checked, upgraded) once. A
    block within a block open on the same URL gets that engine instead of opening it again,
    so an inbox tick opens its target once for the scan, the run and the ledger."""
    opened = _OPENED.get() or {}
    if url in opened:
        yield opened[url]
        return
    engine = open_target(url)
    token = _OPENED.set({**opened, url: engine})
    try:
        yield engine
    finally:
        _OPENED.reset(token)
        engine.dispose()


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    connect_args = {}
    if "connect_timeout" not in url.query:
        # A firewalled host would otherwise hang for minutes before failing.
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, connect_args=connect_args)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")  # off by default in SQLite, per connection
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _check_sqlite_path(url: URL, shown: str) -> None:
    """Name a missing or read-only folder before sqlite3 says only 'unable to open'."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    folder = path.parent.resolve()
    if not folder.is_dir():
        raise TargetError(f"cannot open the target {shown}: folder {folder} does not exist")
    if path.is_dir():
        raise TargetError(f"cannot open the target {shown}: {path} is a folder, not a file")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise TargetError(f"cannot open the target {shown}: file {path} is read-only")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise TargetError(f"cannot open the target {shown}: folder {folder} is read-only")


def _reason(exc: Exception, url: URL) -> str:
    message = _first_line(exc)
    lowered = str(getattr(exc, "orig", None) or exc).lower()
    if "readonly database" in lowered:
        return "the SQLite file is read-only"
    if "unable to open database file" in lowered:
        return f"cannot open the SQLite file {url.database}"
    if _NO_DATABASE.search(lowered):
        return f"database {url.database!r} does not exist"
    if _AUTH_FAILED.search(lowered):
        return f"authentication failed for user {url.username!r}"
    if any(marker in lowered for marker in _UNREACHABLE):
        cause = message.rsplit(": ", 1)[-1]
        return f"host {url.host or 'localhost'}:{url.port or 5432} is unreachable ({cause})"
    return message


def _first_line(exc: BaseException) -> str:
    """The driver's own message, one line, with passwords and certificate numbers masked."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    line = next((part.strip() for part in message.splitlines() if part.strip()), type(exc).__name__)
    return mask_text(_PASSWORD_IN_TEXT.sub(r"\1***@", line))
