"""Shared fixtures: target store URLs on SQLite and on the local PostgreSQL; legacy
databases on the local MariaDB."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# Before anything imports Prefect or GX: offline, quiet, and a PREFECT_HOME of our own
# (removed when the test process ends).
if "PREFECT_HOME" not in os.environ:
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="icp-prefect-home-")
    atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], True)
os.environ.pop("PREFECT_API_URL", None)  # never a user's server: the ephemeral API only
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "False"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
os.environ.pop("ICP_MIGRATE_TARGET", None)
# `ICP_MIGRATE_RECORDS_PER_PART=3 make test`: every decide of more than 3 records, called
# directly too, runs in parts (rules/parts.py); the suite must pass the same.
from icp_migrate.settings import records_per_part  # noqa: E402

_per_part = records_per_part()
if _per_part is not None:
    from icp_migrate.rules import parts as _parts

    _parts.RECORDS_PER_PART = _per_part

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# A loaded CI machine must not turn slow examples into failures: no per-example deadline.
settings.register_profile("icp", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("icp")
from sqlalchemy import Engine, create_engine, make_url, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

# The database the tests create throwaway schemas in; override for another server.
PG_TEST_URL = os.environ.get(
    "ICP_MIGRATE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An engine on the test database, checked once a session: skip, or fail on CI, if down."""
    engine = _server_engine(PG_TEST_URL, "PostgreSQL", "start it or set ICP_MIGRATE_TEST_PG_URL")
    yield engine
    engine.dispose()


def _server_engine(url: str, server: str, advice: str) -> Engine:
    """An engine on a test server that answers; if it does not (or its driver is missing):
    a skip with the reason, or on CI (`CI=true`) a failure."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return engine
    except (OperationalError, ImportError) as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        reason = f"{server} not reachable at {make_url(url).render_as_string()} ({cause}); {advice}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """A URL whose search_path is a fresh schema t_<uuid>, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex}"
    with pg_admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_TEST_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with pg_admin.begin() as connection:
            # A leaked connection holding a lock must fail the teardown, not hang it.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


# The MariaDB/MySQL server the legacy-database tests create throwaway databases on.
MYSQL_TEST_URL = os.environ.get(
    "ICP_MIGRATE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)


@pytest.fixture(scope="session")
def mysql_admin() -> Iterator[Engine]:
    """An engine on the MariaDB test server, checked once a session: skip, or fail on CI
    (`CI=true`), if it is down or its driver is missing."""
    engine = _server_engine(MYSQL_TEST_URL, "MariaDB",
                            "start it, install pymysql or set ICP_MIGRATE_TEST_MYSQL_URL")
    yield engine
    engine.dispose()


@pytest.fixture
def mysql_url(mysql_admin: Engine) -> Iterator[str]:
    """The URL of a fresh database icp_test_<uuid> on MariaDB, dropped after the test."""
    database = f"icp_test_{uuid.uuid4().hex}"
    with mysql_admin.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"))
    url = make_url(MYSQL_TEST_URL).set(database=database)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with mysql_admin.begin() as connection:
            # A leaked connection holding a metadata lock must fail the teardown, not hang it.
            connection.execute(text("SET SESSION lock_wait_timeout = 10"))
            connection.execute(text(f"DROP DATABASE `{database}`"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The same test against a SQLite file and a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.db'}"
    return request.getfixturevalue("pg_url")


SAMPLES_DIR = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.fixture
def samples(tmp_path) -> Path:
    """A private copy of data/samples/: a test must never touch the committed set."""
    copy = tmp_path / "samples"
    shutil.copytree(SAMPLES_DIR, copy)
    return copy


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test API for the session (its start costs ~10 s; later flows ~1 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
