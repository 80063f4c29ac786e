"""Bulk loading (executemany of tuples; COPY text built in bulk) stores every value as given."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from icp_migrate.canonical import ACCOUNT_KINDS, DISPOSITIONS
from icp_migrate.errors import TargetError
from icp_migrate.plan import Plan
from icp_migrate.store import bulk, copy_load, copy_text, schema
from icp_migrate.store import rows as frame_rows
from icp_migrate.store.backend import backend_of
from icp_migrate.store.load import load_plan, start_run
from icp_migrate.store.target import open_target
from test_store import T0, first_plan

TRICKY = ["a\\b", "tab\there", "new\nline", "cr\rhere", "\\N", "\\.", "", "中文 ‘引号’", "x" * 300]


@pytest.fixture
def engine(target_url):
    engine = open_target(target_url)
    yield engine
    engine.dispose()


def test_tricky_text_dates_and_flags_come_back_as_given(engine, monkeypatch):
    monkeypatch.setattr(copy_load, "COPY_ROWS", 3)  # several COPY buffers
    plan = first_plan()
    plan.entities = pd.concat([plan.entities] * 5, ignore_index=True)
    plan.entities["entity_id"] = [f"E{i}" for i in range(len(plan.entities))]
    plan.entities["name"] = (TRICKY + [None])[:len(plan.entities)]
    plan.entities["has_cloud_resources"] = [True, False] * 5
    plan.entities["resources_admin_differs"] = np.array([np.True_, np.False_] * 5, dtype=object)
    plan.accounts["entity_id"] = ["E0", "E1"]
    plan.website_filings["entity_id"] = ["E0", "E1"]
    plan.website_filings["website_name"] = ["a\tb\\c", None]
    plan.website_filings["filed_on"] = [pd.Timestamp("2015-03-02"), pd.NaT]
    plan.dispositions["entity_id"] = ["E0", "E1", None]
    plan.dispositions["warnings"] = ["w\r\n", "", None]
    plan.links["entity_id"] = ["E0", "E1"]
    start_run(engine, "r1", T0, ["a.csv"])
    load_plan(engine, "r1", plan, {"records_in": 3})
    with engine.connect() as conn:
        names = dict(conn.execute(select(schema.entities.c.entity_id,
                                         schema.entities.c.name)).tuples().all())
        flags = conn.execute(select(schema.entities.c.has_cloud_resources,
                                    schema.entities.c.resources_admin_differs)
                             .order_by(schema.entities.c.entity_id)).all()
        sites = conn.execute(select(schema.website_filings.c.website_name,
                                    schema.website_filings.c.filed_on)
                             .order_by(schema.website_filings.c.website_filing_number)).all()
        warnings = [r[0] for r in conn.execute(select(schema.record_dispositions.c.warnings)
                                               .order_by(schema.record_dispositions.c.row_id))]
    assert [names[f"E{i}"] for i in range(10)] == (TRICKY + [None])[:10]
    assert {tuple(bool(v) for v in row) for row in flags} == {(True, True), (False, False)}
    assert sites == [("a\tb\\c", dt.date(2015, 3, 2)), (None, None)]
    assert warnings == ["w\r\n", "", None]


VALUE = st.one_of(st.none(), st.text(alphabet="a\\\t\n\r中 N.", max_size=6))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(VALUE, st.one_of(st.none(), st.booleans()),
                          st.one_of(st.none(), st.integers(0, 10**9)),
                          st.one_of(st.none(), st.dates(dt.date(1990, 1, 1)))), max_size=8))
def test_copy_text_is_what_write_row_sends(rows):
    """The bulk text equals psycopg's own formatting of each row (write_row)."""
    from psycopg._copy_base import TextFormatter  # psycopg 3.3; the formatter write_row uses
    from psycopg.adapt import Transformer

    table = schema.record_dispositions  # text, integer; plus a made-up bool and date below
    frame = pd.DataFrame(rows, columns=["reasons", "flag", "row_id", "day"], dtype=object)
    kinds = {"reasons": table.c.reasons.type, "row_id": table.c.row_id.type,
             "flag": schema.entities.c.has_cloud_resources.type,
             "day": schema.website_filings.c.filed_on.type}
    fake = type("T", (), {"c": {n: type("C", (), {"type": k})() for n, k in kinds.items()}})()
    names = ["reasons", "flag", "row_id", "day"]
    got = b"".join(copy_text.copy_chunks(fake, frame, names, {}, 3))
    formatter = TextFormatter(Transformer())
    for row in rows:
        formatter.write_row(tuple(None if v is None else (bool(v) if n == "flag" else v)
                                  for n, v in zip(names, row, strict=True)))
    assert got == bytes(formatter.end())


# ------------------------------------------------------- fast paths against the plain ones
DATA_TABLES = (schema.entities, schema.accounts, schema.website_filings, schema.domains,
               schema.record_dispositions, schema.entity_links, schema.run_conflicts)
ODD = st.one_of(st.none(), st.text(alphabet="a\\\t\n\r中 N.‘", max_size=5))
DAY = st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)))


def _frame(rows: list[tuple], table, skip=("run_id",)) -> pd.DataFrame:
    names = [c.name for c in table.columns if c.name not in skip]
    return pd.DataFrame(rows, columns=names, dtype=object)  # object columns, as plans are


@st.composite
def plans(draw, first_id: int = 0) -> Plan:
    """A plan whose foreign keys hold: entities, one account each, websites, domains, the
    run's dispositions, links and conflicts; odd text, nulls and dates throughout."""
    n = draw(st.integers(1, 5))
    ids = range(first_id, first_id + n)
    entities = [(f"E{i}", draw(ODD), draw(ODD), draw(ODD), draw(ODD), draw(ODD), draw(ODD),
                 draw(st.booleans()), draw(st.booleans()), draw(st.booleans())) for i in ids]
    accounts = [(f"A{i}", f"E{i}", draw(st.sampled_from(ACCOUNT_KINDS)), draw(st.booleans()),
                 draw(ODD)) for i in ids]
    sites = [(f"W{i}-{j}", f"A{i}", f"E{i}", draw(ODD), draw(ODD), draw(ODD), draw(DAY),
              draw(ODD)) for i in ids for j in range(draw(st.integers(0, 2)))]
    domains = [(f"d{k}.{site[0]}", draw(ODD), site[0]) for site in sites
               for k in range(draw(st.integers(0, 2)))]
    rows = range(first_id * 10, first_id * 10 + draw(st.integers(0, 4)))
    dispositions = [(r, draw(ODD), draw(ODD), draw(ODD), draw(st.sampled_from(DISPOSITIONS)),
                     draw(ODD), draw(ODD), draw(ODD), draw(ODD), draw(ODD), draw(ODD))
                    for r in rows]
    links = [(r, draw(ODD), draw(ODD), f"E{first_id}", "same_certificate", draw(ODD))
             for r in rows]
    conflicts = [(f"k{r}", "same_certificate", f"E{first_id}", draw(ODD), draw(ODD),
                  draw(ODD), draw(ODD), draw(ODD)) for r in rows]
    return Plan(entities=_frame(entities, schema.entities),
                accounts=_frame(accounts, schema.accounts),
                website_filings=_frame(sites, schema.website_filings),
                domains=_frame(domains, schema.domains),
                dispositions=_frame(dispositions, schema.record_dispositions),
                links=_frame(links, schema.entity_links),
                conflicts=_frame(conflicts, schema.run_conflicts),
                input_count=len(rows))


def _clear(engine) -> None:
    with engine.begin() as conn:
        for table in (*reversed(DATA_TABLES), schema.conflict_competitors, schema.conflicts,
                      schema.changes, schema.runs):
            conn.execute(table.delete())


def _stored(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
                for t in DATA_TABLES}


def _definitions(engine) -> list[tuple]:
    """The target's indexes and constraints, as the database describes them (not the
    planner's statistics, which a load makes anew: SQLite's sqlite_stat tables)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return [tuple(r) for r in conn.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name")]
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() ORDER BY 2")] + [
            tuple(r) for r in conn.exec_driver_sql(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
                "convalidated FROM pg_constraint "
                "WHERE connamespace = current_schema()::regnamespace ORDER BY 2")]


def _load(engine, run_id: str, plan: Plan) -> None:
    start_run(engine, run_id, T0, ["a.csv"])
    load_plan(engine, run_id, plan, {"records_in": plan.input_count})


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(plan=plans())
def test_deferred_indexes_and_keys_store_what_the_plain_path_stores(engine, monkeypatch,
                                                                    plan):
    """A first load that drops and remakes indexes (and PostgreSQL foreign keys) stores the
    same rows as one that keeps them up row by row, and leaves the same definitions."""
    deferred: list[str] = []
    backend = backend_of(engine)
    upkeep = backend.index_upkeep

    def spy(*args):
        steps = upkeep(*args)
        deferred.extend(drop for drop, _ in steps)
        return steps

    monkeypatch.setattr(backend, "index_upkeep", spy)
    _clear(engine)
    definitions = _definitions(engine)
    monkeypatch.setattr(bulk, "DEFER_MIN_ROWS", 10**9)
    _load(engine, "r1", plan)
    plain = _stored(engine)
    assert not deferred
    _clear(engine)
    monkeypatch.setattr(bulk, "DEFER_MIN_ROWS", 1)
    _load(engine, "r1", plan)
    assert _stored(engine) == plain
    assert _definitions(engine) == definitions
    for frame, table in ((plan.website_filings, "website_filings"),
                         (plan.links, "entity_links")):  # a Plan name and its table's
        if len(frame):
            assert any(table in drop for drop in deferred), table


def test_a_deferred_foreign_key_still_fails_the_load_and_changes_nothing(engine, monkeypatch):
    monkeypatch.setattr(bulk, "DEFER_MIN_ROWS", 1)
    definitions = _definitions(engine)
    bad = first_plan()
    bad.domains.loc[len(bad.domains)] = ["x.cn", "x.cn", "浙ICP备00000000号-9"]  # no such site
    start_run(engine, "r1", T0, [])
    with pytest.raises(TargetError, match="loading run r1 failed"):
        load_plan(engine, "r1", bad, {})
    assert not any(_stored(engine).values())
    assert _definitions(engine) == definitions
    _load(engine, "r2", first_plan())  # and the next load goes in
    assert len(_stored(engine)["domains"]) == 2


@st.composite
def reruns(draw) -> tuple[Plan, Plan]:
    """A plan, and a later one: some entities and websites changed, some left out, some
    new; accounts and domains as before."""
    first = draw(plans())
    second = copy.deepcopy(first)
    for frame_name, columns in (("entities", ["name", "province", "has_cloud_resources"]),
                                ("website_filings", ["website_name", "filed_on"])):
        frame = getattr(second, frame_name)
        for row in range(len(frame)):
            for column in columns:
                if draw(st.booleans()):
                    value = draw(st.booleans() if column == "has_cloud_resources"
                                 else DAY if column == "filed_on" else ODD)
                    frame.iat[row, frame.columns.get_loc(column)] = value
    keep = [draw(st.booleans()) for _ in range(len(second.entities))]
    second.entities = second.entities[keep].reset_index(drop=True)
    extra = draw(plans(first_id=100))
    second.entities = pd.concat([second.entities, extra.entities], ignore_index=True)
    second.accounts = pd.concat([second.accounts, extra.accounts], ignore_index=True)
    return first, second


def _merged(old: pd.DataFrame, new: pd.DataFrame, table) -> list[tuple]:
    """The rows an upsert of `new` over `old` leaves: new ones win, untouched ones stay."""
    key = [c.name for c in table.primary_key.columns]
    rows = pd.concat([old, new]).drop_duplicates(subset=key, keep="last")
    out = []
    for values in rows[[c.name for c in table.columns]].itertuples(index=False, name=None):
        out.append(tuple(None if v is None or v is pd.NaT or v != v else v for v in values))
    return sorted(out, key=lambda r: tuple(r[: len(key)]))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pair=reruns())
def test_a_later_load_upserts_and_leaves_unchanged_rows_alone(engine, pair):
    """The set-based upsert (PostgreSQL: staged, and only rows that differ reach ON
    CONFLICT) stores what a row-by-row upsert would; rows it leaves are not even locked."""
    first, second = pair
    _clear(engine)
    _load(engine, "r1", first)
    before, versions = _stored(engine), _versions(engine)
    _load(engine, "r2", second)
    stored = _stored(engine)
    for name, table in (("entities", schema.entities), ("accounts", schema.accounts),
                        ("website_filings", schema.website_filings)):
        old, new = getattr(first, name), getattr(second, name)
        assert stored[table.name] == _merged(old, new, table), name
    if versions:  # PostgreSQL: an entity whose row did not change was neither written nor
        # locked (xmin and xmax as before; the old upsert locked every row it skipped)
        unchanged = {row[0] for row in set(before["entities"]) & set(stored["entities"])}
        after = _versions(engine)
        assert {e: after[e] for e in unchanged} == {
            e: versions[e] for e in unchanged}


def _versions(engine) -> dict[str, tuple[str, str]]:
    """PostgreSQL: each entity's (xmin, xmax); xmax is set when a row is updated or locked."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.exec_driver_sql(
            "SELECT entity_id, xmin::text, xmax::text FROM entities")}


@given(st.lists(st.one_of(st.none(), st.datetimes(dt.datetime(1700, 1, 1),
                                                  dt.datetime(2200, 12, 31))), max_size=8),
       st.sampled_from(["date", "datetime", "timestamp", "iso"]))
def test_sqlite_dates_are_stored_as_sqlalchemy_writes_them(values, form):
    """The bulk date text (numpy) is each value's date().isoformat(), as the plain path."""
    shaped = {"date": lambda v: v.date(), "datetime": lambda v: v,
              "timestamp": pd.Timestamp, "iso": lambda v: v.date().isoformat()}[form]
    series = pd.Series([None if v is None else shaped(v) for v in values], dtype=object)
    got = frame_rows._values(series, schema.website_filings.c.filed_on.type, True)
    assert got == [None if v is None else v.date().isoformat() for v in values]


KILLED_LOAD = r"""
import pickle, sys, time
from icp_migrate.store import bulk, copy_load, copy_text, executemany_load, load
from icp_migrate.store.load import load_plan, start_run
from icp_migrate.store.target import open_target

bulk.DEFER_MIN_ROWS, load.CHUNK_ROWS, copy_load.COPY_ROWS = 1, 1, 1  # deferred, row by row
plain_executemany, plain_chunks = executemany_load._executemany, copy_text.copy_chunks


def pause():  # the table's indexes (and PostgreSQL foreign keys) are dropped by now
    print("dropped", flush=True)
    time.sleep(600)


def executemany(raw, sql, chunks):
    if "website_filings" in sql:
        chunks = iter(chunks)
        raw.cursor().executemany(sql, next(chunks))
        pause()
    plain_executemany(raw, sql, chunks)


def copy_chunks(table, *args):
    for number, data in enumerate(plain_chunks(table, *args)):
        if table.name == "website_filings" and number == 1:
            pause()
        yield data


executemany_load._executemany, copy_text.copy_chunks = executemany, copy_chunks
engine = open_target(sys.argv[1])
start_run(engine, "r1", pickle.loads(bytes.fromhex(sys.argv[3])), ["a.csv"])
load_plan(engine, "r1", pickle.loads(bytes.fromhex(sys.argv[2])), {})
"""


def test_a_load_killed_while_its_indexes_are_dropped_leaves_them_and_no_row(
        engine, target_url):
    """SIGKILL inside a deferred first load: the indexes and foreign keys it had dropped are
    there again (the transaction never committed), no row is, and the next load goes in."""
    import pickle
    import signal
    import subprocess
    import sys

    definitions = _definitions(engine)
    plan = first_plan()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOAD, target_url, pickle.dumps(plan).hex(),
         pickle.dumps(T0).hex()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "dropped\n", \
            child.communicate(timeout=60)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    engine.dispose()  # a fresh connection: SQLite rolls the hot journal back on it
    assert _definitions(engine) == definitions
    assert not any(_stored(engine).values())
    _load(engine, "r2", plan)
    assert len(_stored(engine)["domains"]) == 2


def test_after_a_load_a_runs_rows_are_planned_from_fresh_statistics(engine):
    """A load makes the run-keyed tables' statistics anew (Backend.statistics), and the
    engine's next read plans with them: on SQLite a run that is the whole table is read by
    a scan, not through its (run_id, row_id) key a row at a time, even on the engine whose
    connection was opened before the load (statistics_made)."""
    if engine.dialect.name == "sqlite":  # statistics held already (of the empty
        with engine.begin() as conn:  # tables): the load's ANALYZE changes no schema
            conn.exec_driver_sql("ANALYZE")
    with engine.connect() as one, engine.connect() as two:  # two pooled connections
        one.exec_driver_sql("SELECT 1").all()  # opened before the load: it takes one,
        two.exec_driver_sql("SELECT 1").all()  # the read after it may take the other
    _load(engine, "r1", first_plan())
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[3]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT disposition, COUNT(*) FROM record_dispositions "
                "WHERE run_id = 'r1' GROUP BY disposition"))
            assert "SCAN record_dispositions" in plan, plan
            stats = {row[0] for row in conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
        else:
            stats = {row[0] for row in conn.exec_driver_sql(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                "AND schemaname = current_schema()")}
    assert {"record_dispositions", "entity_links"} <= stats
