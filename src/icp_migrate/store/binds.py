"""Store functions take an engine or a connection: these give the connection to use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine


@contextmanager
def connected(bind: Engine | Connection) -> Iterator[Connection]:
    """The connection itself, or a new one of the engine for the block."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            yield connection
    else:
        yield bind


@contextmanager
def transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """The connection itself (in the caller's transaction), or a new transaction of the
    engine, committed at the end of the block."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            yield connection
    else:
        yield bind
