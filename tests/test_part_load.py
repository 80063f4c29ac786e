"""A run loaded part by part (pipeline/part_load.py: each part's plan loaded as it is
decided, in the run's one transaction) stores exactly what the run stores decided whole:
every table, the run's counts and summary, and a dry run's preview row for row; a plan
expectation failing in a later part rolls back the parts already loaded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from gx_outcomes import outcomes
from icp_migrate import rules, settings
from icp_migrate.errors import PlanValidationError
from icp_migrate.pipeline import part_load
from icp_migrate.samples import generate
from icp_migrate.store import bulk
from icp_migrate.store.schema import metadata
from test_flow import RUN_ORDER, migrate
from test_scale import plain

# what differs between two runs of the same input: when, and which run
RUN_COLUMNS = ("run_id", "started_at", "finished_at", "opened_run_id", "last_run_id",
               "decided_at", "seconds", "error")
WHOLE = str(10**9)  # records per part: every run here in one part
PER_PART = "37"  # about 30 parts for the second batch


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> list[list[str]]:
    """A generated set as two batches: the first two files, then all four."""
    folder = tmp_path_factory.mktemp("part-load")
    generate(folder, entities=300, seed=7)
    files = [str(folder / name) for name in RUN_ORDER]
    return [files[:2], files]


def stored_tables(url: str) -> dict[str, pd.DataFrame]:
    """Every table of the store but the run ledger's timings, without run ids or times, each
    in one order."""
    engine = sa.create_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for name in sorted(metadata.tables):
                if name in ("runs", "run_validations", "metadata"):
                    continue
                frame = pd.read_sql(sa.text(f"SELECT * FROM {name}"), conn)
                frame = frame.drop(columns=[c for c in RUN_COLUMNS if c in frame])
                frame = frame.astype(object).where(frame.notna(), None).map(plain)
                out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
            out["runs"] = pd.read_sql(sa.text(
                "SELECT status, records_in, loaded, duplicate, out_of_scope, quarantined, "
                "needs_review, entities, accounts, websites, domains FROM runs "
                "ORDER BY started_at"), conn)
    finally:
        engine.dispose()
    return out


def comparable(summary) -> dict:
    kept = summary.as_dict()
    for name in ("run_id", "target", "seconds", "peak_rss_mb"):
        kept.pop(name)
    return kept


def three_runs(batches: list[list[str]], folder: Path, per_part: str,
               monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict], pd.DataFrame]:
    """Batch 1, a dry run of batch 2, then batch 2: the summaries and the preview."""
    monkeypatch.setenv(settings.PART_RECORDS_ENV, per_part)
    url = f"sqlite:///{folder / 'store.db'}"
    reports = folder / "reports"
    first = migrate(sources=batches[0], target=url, reports_dir=str(reports))
    dry = migrate(sources=batches[1], target=url, reports_dir=str(reports), dry_run=True)
    second = migrate(sources=batches[1], target=url, reports_dir=str(reports))
    preview = pd.read_csv(reports / dry.run_id / "preview.csv", dtype=str,
                          keep_default_na=False)
    return [comparable(s) for s in (first, dry, second)], preview


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_loaded_in_parts_stores_what_it_stores_whole(batches, tmp_path, monkeypatch):
    (tmp_path / "whole").mkdir()
    (tmp_path / "parts").mkdir()
    whole = three_runs(batches, tmp_path / "whole", WHOLE, monkeypatch)
    # in parts as a big first load goes: indexes deferred, rows staged and put in by key
    monkeypatch.setattr(bulk, "DEFER_MIN_ROWS", 1)
    unstaged, unstage = [], bulk.unstage

    def spy(connection, table, stage):
        unstaged.append(table.name)
        unstage(connection, table, stage)

    monkeypatch.setattr(bulk, "unstage", spy)
    parted = three_runs(batches, tmp_path / "parts", PER_PART, monkeypatch)
    assert {"entities", "domains", "record_dispositions"} <= set(unstaged)
    assert rules.part_count(sum(whole[0][2]["records_by_source"].values()),
                            int(PER_PART)) > 20
    assert whole[0] == parted[0]  # every summary: counts, dispositions, changes by kind
    second = whole[0][2]
    assert second["changes"]["conflict opened"] and second["dispositions"]["needs_review"]
    pd.testing.assert_frame_equal(whole[1], parted[1], obj="preview.csv")
    assert whole[1]["change"].nunique() > 4, whole[1]["change"].value_counts()
    tables = stored_tables(f"sqlite:///{tmp_path / 'whole' / 'store.db'}")
    for name, frame in stored_tables(f"sqlite:///{tmp_path / 'parts' / 'store.db'}").items():
        pd.testing.assert_frame_equal(tables[name], frame, obj=name)
    assert len(tables["run_conflicts"]) and len(tables["conflict_competitors"])


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_expectation_in_a_later_part_rolls_back_the_parts_loaded(
        batches, target_url, monkeypatch):
    """The third part's plan breaks "one filing account per entity" (a filing account made
    a resources account: nothing the database itself refuses); the plan suite finds it on
    the whole run before the commit, and the two parts already loaded go too."""
    monkeypatch.setenv(settings.PART_RECORDS_ENV, PER_PART)
    real = rules.decide_parts
    loaded: list[int] = []

    def broken_third(*args, **kwargs):
        for number, plan in enumerate(real(*args, **kwargs)):
            if number == 2:
                filing = plan.accounts["account_kind"].eq("filing")
                plan.accounts.loc[filing.idxmax(), "account_kind"] = "resources"
            loaded.append(len(plan.entities))
            yield plan

    monkeypatch.setattr(part_load.rules, "decide_parts", broken_third)
    with pytest.raises(PlanValidationError, match="filing account"):
        migrate(sources=batches[1], target=target_url)
    assert len(loaded) > 3 and sum(loaded) > 10  # parts were loaded before the check
    engine = sa.create_engine(target_url)
    try:
        with engine.connect() as conn:
            for table in ("entities", "accounts", "website_filings", "domains",
                          "record_dispositions", "entity_links", "run_conflicts"):
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 0
            status, error = conn.execute(sa.text("SELECT status, error FROM runs")).one()
    finally:
        engine.dispose()
    assert status == "failed" and "every entity has exactly one filing account" in error


def test_what_a_run_keeps_of_its_parts_is_the_whole_plans_checked_columns(batches):
    """KeptPlan, the parts' KEPT columns held as Arrow and merged in Arrow, reads as the
    merged plan's (the plan suite's) columns, in the same order; PlanCounts gathered part
    by part counts what the merged plan holds, its sources in the order of their first
    record."""
    from icp_migrate.pipeline.run import StageClock
    from icp_migrate.pipeline.stages import prepare_sources
    from icp_migrate.pipeline.summary import PlanCounts
    from icp_migrate.plan import Plan
    from icp_migrate.validation.plan_suite import (
        CHECKED_COLUMNS,
        CHECKED_PRESENCE,
        validate_keys,
    )

    records, domains = prepare_sources(list(reversed(batches[1])), None, StageClock())
    cutoff = pd.Timestamp(settings.DEFAULT_CUTOFF)
    kept, counted, plans = part_load.KeptPlan(), PlanCounts(), []
    for planned in rules.decide_parts(records, domains, Plan(), cutoff, records_per_part=41):
        kept.add(planned)
        counted.add(planned)
        plans.append(planned)
    assert len(plans) > 5
    row_ids = records.columns(("row_id",))["row_id"]
    kept.merge(row_ids)
    whole = rules.merge_plans(plans, row_ids)
    for table, columns in CHECKED_COLUMNS.items():
        assert kept.count(table) == len(getattr(whole, table))
        held, planned = kept.arrow(table, columns), whole.arrow(table, columns)
        assert held.schema == planned.schema, table
        for column in columns:  # of a presence-only column, whether each row has a value
            got, want = held.column(column), planned.column(column)
            if column in CHECKED_PRESENCE.get(table, ()):
                got, want = pc.is_valid(got), pc.is_valid(want)
            assert got.equals(want), (table, column)
    assert set(kept.loaded_websites().to_pylist()) == set(whole.loaded_websites().to_pylist())
    assert outcomes(validate_keys(kept).results) == outcomes(validate_keys(whole).results)
    pd.testing.assert_frame_equal(kept.changes, whole.changes)
    once = PlanCounts()
    once.add(whole)
    assert counted.summary("r", "t", "completed") == once.summary("r", "t", "completed")
    by_source = list(counted.summary("r", "t", "completed").records_by_source)
    assert by_source == list(dict.fromkeys(whole.dispositions["source"]))
    assert len(by_source) == 4
