"""Bulk loading (executemany of tuples; COPY text built in bulk) stores every value as given."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from icp_migrate.store import bulk, copy_text, schema
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
    monkeypatch.setattr(bulk, "COPY_ROWS", 3)  # several COPY buffers
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
