"""The target store's engine: opened, checked and upgraded, or one clear TargetError."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from alembic.util.exc import CommandError
from sqlalchemy import URL, Engine, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from icp_migrate.errors import TargetError
from icp_migrate.masking import mask_text
from icp_migrate.store import migrate
from icp_migrate.store.backend import BACKEND_NAMES, backend_for

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
    if parsed.get_backend_name() not in BACKEND_NAMES:
        raise TargetError(f"unsupported target {display_url(parsed)}: use SQLite or PostgreSQL")
    return parsed


def open_target(url: str | URL, read_only: bool = False, init: bool = False,
                pinned: bool = False) -> Engine:
    """An engine on the target, reachable and with its tables at the current revision.

    Writable (`run`, `serve`, `review apply`): the tables are created or upgraded (one
    transaction); a target holding other tables and no schema of ours is refused unless
    `init` (`--init`: create ours beside them). `read_only` (`show`, `report`, the
    exports): nothing is written, locked or created (a SQLite file is opened read-only, a
    PostgreSQL session refuses writes); a schema that is not the current one is refused.
    `pinned` (a dry run, `store/scratch.py`): one connection in one transaction that
    nothing commits, the tables created or upgraded inside it."""
    parsed = parse_url(url)
    shown = display_url(parsed)
    backend = backend_for(parsed)
    backend.check_location(parsed, shown, read_only)
    try:
        engine = backend.create_engine(parsed, read_only, pinned=pinned)
    except (SQLAlchemyError, ImportError) as exc:
        raise TargetError(f"cannot open the target {shown}: {_first_line(exc)}") from exc
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            problem = migrate.schema_problem(connection) if read_only else None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise TargetError(f"cannot open the target {shown}: {_reason(exc, parsed)}") from exc
    if problem is not None:
        engine.dispose()
        raise TargetError(f"cannot read the target {shown}: {problem}")
    if not read_only:
        _upgrade(engine, parsed, shown, init)
    return engine


def _upgrade(engine: Engine, parsed: URL, shown: str, init: bool) -> None:
    try:
        migrate.upgrade(engine, init=init)
    except migrate.NotOurs as exc:
        engine.dispose()
        raise TargetError(
            f"the target {shown} holds other tables ({exc}) and no icp-migrate tables; "
            "add --init to create ours beside them") from None
    except (SQLAlchemyError, CommandError) as exc:
        engine.dispose()
        raise TargetError(
            f"cannot create or upgrade the tables in {shown}: {_reason(exc, parsed)}"
        ) from exc


@contextmanager
def target_engine(url: str, read_only: bool = False, init: bool = False) -> Iterator[Engine]:
    """The target's engine for a block, disposed after: opened (checked, upgraded) once. A
    block within a block open on the same URL gets that engine instead of opening it again,
    so an inbox tick opens its target once for the scan, the run and the ledger. (Only
    writable engines are shared: a read-only block within one gets the writable engine.)"""
    opened = _OPENED.get() or {}
    if url in opened:
        yield opened[url]
        return
    engine = open_target(url, read_only=read_only, init=init)
    token = _OPENED.set(opened if read_only else {**opened, url: engine})
    try:
        yield engine
    finally:
        _OPENED.reset(token)
        engine.dispose()


def database_file(url: str | URL) -> str | None:
    """The database file a target or source URL names (relative as given); None for a
    server database, an in-memory one, or a URL that is not a database URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() not in BACKEND_NAMES:
        return None
    return backend_for(parsed).database_file(parsed)


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
