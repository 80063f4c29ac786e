"""A hundred thousand generated records through the real flow, into SQLite and PostgreSQL:
every record's disposition and entity as the generator's ground truth says, every account
as it expects, and the two targets' tables identical; decided in four parts
(rules/parts.py), the same tables again (slow tier)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icp_migrate import settings
from icp_migrate.samples import generate
from test_flow import RUN_ORDER, TABLES, dump, migrate
from truth import disposition_mismatches, expected_accounts

ENTITIES = 33_000  # about 100k records with the bench's mix of files (bench/inputs.py)
BENCH_HOMES = ("gb", "gb", "db", "gb", "gb", "utf8", "gb", "gb")
# what differs between two runs of the same input: when, and which run
RUN_COLUMNS = ("run_id", "started_at", "finished_at")


@pytest.fixture(scope="module")
def hundred_thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scale")
    generate(folder, entities=ENTITIES, seed=11, homes=BENCH_HOMES)
    return folder


def comparable(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The entity tables, dispositions and links, without run ids or times, in one order."""
    out = {}
    for name in (*TABLES, "record_dispositions", "entity_links"):
        frame = tables[name].drop(columns=[c for c in RUN_COLUMNS if c in tables[name]])
        frame = frame.astype(object).where(frame.notna(), None).map(plain)
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def plain(value: object) -> object:
    """A stored value as both backends can give it: booleans as 0/1 (SQLite has no
    boolean), dates as ISO text (SQLite keeps text)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    return value


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.usefixtures("prefect_harness")
def test_a_hundred_thousand_records_match_the_truth_on_both_targets(hundred_thousand,
                                                                    pg_url, tmp_path,
                                                                    monkeypatch):
    sources = [str(hundred_thousand / name) for name in RUN_ORDER]
    loaded = {}
    parted = f"sqlite:///{tmp_path / 'parts.db'}"
    for url in (f"sqlite:///{tmp_path / 'scale.db'}", pg_url, parted):
        if url == parted:  # the same run, decided in four parts
            monkeypatch.setenv(settings.PART_RECORDS_ENV, "25000")
        summary = migrate(sources=sources, target=url)
        assert summary.status == "completed" and summary.records_in > 95_000
        tables = dump(url)
        mismatches = disposition_mismatches(tables["record_dispositions"], hundred_thousand)
        assert mismatches.empty, mismatches.head(20).to_string()
        got = {(e, k, bool(r)) for e, k, r in tables["accounts"][
            ["entity_id", "account_kind", "real_name_verification_required"]].itertuples(
            index=False)}
        assert got == expected_accounts(hundred_thousand)
        loaded[url] = comparable(tables)
    sqlite_tables, pg_tables, parted_tables = loaded.values()
    for name, frame in sqlite_tables.items():
        pd.testing.assert_frame_equal(frame, pg_tables[name], check_dtype=False, obj=name)
        pd.testing.assert_frame_equal(frame, parted_tables[name], obj=f"{name} (in parts)")
