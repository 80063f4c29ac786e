"""Which targets a command may open, and how: a foreign database is refused without --init,
schema creation is one transaction, lock files stay out of the user's folder, and the
reading commands open the target read-only (SQLite file and PostgreSQL session)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import icp_migrate
from icp_migrate.cli import app
from icp_migrate.errors import TargetError
from icp_migrate.store import lock, migrate, schema
from icp_migrate.store.lock import target_lock
from icp_migrate.store.overview import table_counts
from icp_migrate.store.target import open_target
from test_cli import cli, one_line_error
from test_flow import SAMPLES
from test_store import first_plan, run

LEGACY_TABLES = {"members", "subjects", "sites", "site_domains"}
OURS = set(schema.metadata.tables) | {"alembic_version"}


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def legacy_copy(tmp_path) -> Path:
    """A private copy of the sample legacy database (a source, not a store)."""
    path = tmp_path / "hichina_legacy.db"
    shutil.copy(SAMPLES / "hichina_legacy.db", path)
    return path


@pytest.fixture
def foreign_url(request, tmp_path, legacy_copy) -> str:
    """A target holding the legacy tables and no schema of ours: SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{legacy_copy}"
    url = request.getfixturevalue("pg_url")
    engine = sa.create_engine(url)
    with closing(sqlite3.connect(legacy_copy)) as legacy, engine.begin() as connection:
        for name in sorted(LEGACY_TABLES):
            columns = [row[1] for row in legacy.execute(f"PRAGMA table_info({name})")]
            connection.exec_driver_sql(
                f"CREATE TABLE {name} ({', '.join(f'{c} text' for c in columns)})")
    engine.dispose()
    return url


BOTH = pytest.mark.parametrize(
    "foreign_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True)


# ---------------------------------------------------------------- targets that are not ours
@BOTH
def test_a_foreign_target_is_refused_in_one_line_and_left_alone(foreign_url):
    before = tables(foreign_url)
    with pytest.raises(TargetError) as caught:
        open_target(foreign_url)
    message = str(caught.value)
    assert "\n" not in message and "add --init" in message
    assert "members, site_domains, sites, subjects" in message
    assert sa.make_url(foreign_url).database in message
    assert tables(foreign_url) == before


@BOTH
def test_init_creates_our_tables_beside_the_others(foreign_url):
    engine = open_target(foreign_url, init=True)
    try:
        run(engine, "r1", first_plan())
        assert table_counts(engine)["entities"] == 2
    finally:
        engine.dispose()
    assert tables(foreign_url) == LEGACY_TABLES | OURS
    open_target(foreign_url).dispose()  # ours now: no flag needed any more


@pytest.mark.parametrize("target_url", ["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)],
                         indirect=True)
def test_an_empty_database_needs_no_flag(target_url):
    if target_url.startswith("sqlite"):
        Path(sa.make_url(target_url).database).touch()  # an empty file: an empty database
    open_target(target_url).dispose()
    assert tables(target_url) == OURS


@BOTH
def test_a_creation_failing_midway_leaves_no_table_of_ours(foreign_url):
    """`changes` is made by the last migration: a foreign table of that name makes the
    creation fail after every earlier table was made; the one transaction takes them back."""
    engine = sa.create_engine(foreign_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE changes (note text)")
    engine.dispose()
    with pytest.raises(TargetError, match="cannot create or upgrade the tables in") as caught:
        open_target(foreign_url, init=True)
    assert "\n" not in str(caught.value)
    assert tables(foreign_url) == LEGACY_TABLES | {"changes"}


def test_the_cli_refuses_a_foreign_target_and_takes_init(tmp_path, legacy_copy):
    source = str(SAMPLES / "hichina_beian_utf8.csv")
    refused = cli("run", source, "--target", str(legacy_copy), cwd=tmp_path)
    assert refused.returncode == 1
    line = one_line_error(refused)
    assert "hichina_legacy.db" in line and "members" in line and "--init" in line
    assert tables(f"sqlite:///{legacy_copy}") == LEGACY_TABLES
    done = cli("run", source, "--target", str(legacy_copy), "--init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert tables(f"sqlite:///{legacy_copy}") == LEGACY_TABLES | OURS
    assert sorted(p.name for p in legacy_copy.parent.iterdir() if "lock" in p.name) == []


# ---------------------------------------------------------------- lock files
def test_lock_files_stay_out_of_the_targets_folder(tmp_path):
    folder = tmp_path / "user"
    folder.mkdir()
    url = f"sqlite:///{folder / 'x.db'}"
    engine = open_target(url)
    try:
        with target_lock(engine, wait_seconds=0):
            held = lock.lock_file(str(folder / "x.db"), url)
            assert held.exists() and held.parent == lock.lock_folder()
            assert stat.S_IMODE(lock.lock_folder().stat().st_mode) == 0o700
            # another name of the same file (a symlink, a relative path) is the same lock
            (tmp_path / "link.db").symlink_to(folder / "x.db")
            other = open_target(f"sqlite:///{tmp_path / 'link.db'}")
            try:
                with pytest.raises(TargetError, match="another run is writing"):
                    with target_lock(other, wait_seconds=0):
                        pass
            finally:
                other.dispose()
        run(engine, "r1", first_plan())
    finally:
        engine.dispose()
    assert sorted(p.name for p in folder.iterdir()) == ["x.db"]


LOCKER = """
import sys, time
from icp_migrate.store.lock import target_lock
from icp_migrate.store.target import open_target
with target_lock(open_target(sys.argv[1]), wait_seconds=0):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_another_process_holding_the_lock_excludes_us_until_killed(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    child = subprocess.Popen([sys.executable, "-c", LOCKER, url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(icp_migrate.__file__)
                                                                  .parents[1])})
    try:
        assert child.stdout is not None and child.stdout.readline() == "locked\n", \
            child.communicate(timeout=60)
        engine = open_target(url)
        with pytest.raises(TargetError, match="another run is writing"):
            with target_lock(engine, wait_seconds=0):
                pass
    finally:
        child.kill()
        child.wait(timeout=60)
    with target_lock(engine, wait_seconds=5):  # the lock died with its holder
        pass
    engine.dispose()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.db"]


# ---------------------------------------------------------------- read-only opening
def _store(url: str) -> None:
    engine = open_target(url)
    try:
        run(engine, "r1", first_plan())
    finally:
        engine.dispose()


def _reading_commands(url: str, out: Path) -> None:
    runner = CliRunner()
    for args in (["show"], ["report", "--out", str(out / "reports")],
                 ["plan", "export", "--out", str(out)],
                 ["review", "export", "--out", str(out / "review.csv")]):
        result = runner.invoke(app, [*args, "--target", url])
        assert result.exit_code == 0, (args, result.output)
    assert (out / "account_plan.csv").exists() and (out / "review.csv").exists()
    assert list((out / "reports").glob("r1/index.html"))


def test_reading_commands_work_on_a_read_only_sqlite_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "store.db"
    url = f"sqlite:///{path}"
    _store(url)
    content = path.read_bytes()
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        out = tmp_path / "out"
        out.mkdir()
        _reading_commands(url, out)
        engine = open_target(url, read_only=True)
        try:
            with pytest.raises(sa.exc.OperationalError, match="readonly database"):
                with engine.begin() as connection:  # even root cannot write through it
                    connection.exec_driver_sql("DELETE FROM runs")
        finally:
            engine.dispose()
        assert sorted(p.name for p in folder.iterdir()) == ["store.db"]
        assert path.read_bytes() == content
    finally:
        folder.chmod(0o755)


@pytest.mark.postgres
def test_reading_commands_work_in_a_read_only_postgres_session(pg_url, tmp_path):
    _store(pg_url)
    _reading_commands(pg_url, tmp_path)
    engine = open_target(pg_url, read_only=True)
    try:
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            with engine.begin() as connection:
                connection.exec_driver_sql("DELETE FROM runs")
    finally:
        engine.dispose()


@pytest.mark.parametrize("target_url", ["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)],
                         indirect=True)
def test_an_older_schema_is_named_and_left_as_it_is(target_url):
    engine = sa.create_engine(target_url)
    try:
        migrate.upgrade(engine, "0005")
    finally:
        engine.dispose()
    with pytest.raises(TargetError) as caught:
        open_target(target_url, read_only=True)
    message = str(caught.value)
    assert "\n" not in message and "older icp-migrate" in message
    assert "run `icp-migrate run" in message and "0005" in message
    assert migrate.current_revision(sa.create_engine(target_url)) == "0005"
    open_target(target_url).dispose()  # a writing command upgrades it
    open_target(target_url, read_only=True).dispose()


def test_reading_a_missing_or_foreign_file_creates_nothing(tmp_path, legacy_copy):
    missing = tmp_path / "none.db"
    result = CliRunner().invoke(app, ["show", "--target", str(missing)])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not missing.exists()
    with pytest.raises(TargetError, match=r"other tables \(members, .*\) and no icp-migrate"):
        open_target(f"sqlite:///{legacy_copy}", read_only=True)
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(TargetError, match="no icp-migrate tables yet"):
        open_target(f"sqlite:///{empty}", read_only=True)
    assert tables(f"sqlite:///{legacy_copy}") == LEGACY_TABLES and tables(
        f"sqlite:///{empty}") == set()


# ---------------------------------------------------------------- the dialect in one place
SRC = Path(icp_migrate.__file__).parent
DIALECT_NAME = re.compile(r"\b(sqlite|postgres|postgresql)\b")
# Modules that may name a dialect in code, and why.
ALLOWED = {
    "store/backend.py": "the one place that tests the target's dialect",
    "store/target.py": "URL parsing: supported backends, postgresql:// means psycopg",
    "settings.py": "a plain --target path as a sqlite:/// URL",
    "readers/detect.py": "a legacy source file as a sqlite:/// URL (a source, not a target)",
    "readers/sql_reader.py": "a legacy source's driver (MySQL bytes), not the target",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                     ast.Constant):
                found.add(id(body[0].value))
    return found


def dialect_tests(source: str) -> list[str]:
    """What in the code (not comments, not docstrings) names or asks for a dialect."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skip and DIALECT_NAME.search(node.value)):
            found.append(repr(node.value))
        elif isinstance(node, ast.Attribute) and node.attr in ("get_backend_name", "dialect") \
                and not (node.attr == "dialect" and _only_quoting_or_dbapi(node, tree)):
            found.append(f".{node.attr} (line {node.lineno})")
    return found


def _only_quoting_or_dbapi(node: ast.Attribute, tree: ast.AST) -> bool:
    """`x.dialect.identifier_preparer` and `x.dialect.loaded_dbapi` ask nothing of the name."""
    return any(isinstance(parent, ast.Attribute) and parent.value is node
               and parent.attr in ("identifier_preparer", "loaded_dbapi")
               for parent in ast.walk(tree))


def test_the_detector_finds_what_it_must():
    assert dialect_tests('if engine.dialect.name == "sqlite":\n    pass\n')
    assert dialect_tests('x = url.get_backend_name()\n')
    assert not dialect_tests('"""About SQLite and postgresql."""\n# sqlite\nq = c.dialect.'
                             'identifier_preparer.quote\nm = "the SQLite file"\n')


def test_no_module_outside_the_backend_tests_the_dialect():
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name in ALLOWED:
            continue
        found = dialect_tests(path.read_text(encoding="utf-8"))
        if found:
            offenders[name] = found
    assert offenders == {}
