"""Scale-out: the samples on a Dask LocalCluster of 2 worker processes give the tables a
single-process run gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from icp_migrate.errors import UsageError

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
RUN_ORDER = ["hichina_beian.csv", "hichina_beian_utf8.csv", "winport_shops.jsonl",
             "hichina_legacy.db"]
# every table a run writes, in a stable order; run ids and times differ between runs
TABLES = {"entities": "entity_id", "accounts": "account_id",
          "website_filings": "website_filing_number", "domains": "domain",
          "record_dispositions": "row_id", "entity_links": "row_id",
          "run_conflicts": "conflict_key, entity_id"}


def dump(url: str) -> dict[str, pd.DataFrame]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: pd.read_sql(sa.text(f"SELECT * FROM {t} ORDER BY {key}"), conn).drop(
                columns=["run_id"], errors="ignore") for t, key in TABLES.items()}
    finally:
        engine.dispose()


@pytest.mark.usefixtures("prefect_harness")
def test_local_cluster_run_gives_the_single_process_tables(tmp_path):
    from icp_migrate.flows.distributed import dask_runner
    from icp_migrate.flows.migrate import migrate

    folder = tmp_path / "samples"
    shutil.copytree(SAMPLES, folder)
    sources = [str(folder / name) for name in RUN_ORDER]
    alone, spread = f"sqlite:///{tmp_path / 'alone.db'}", f"sqlite:///{tmp_path / 'dask.db'}"
    single = migrate(sources=sources, target=alone, reports_dir=str(tmp_path / "r1"))
    on_dask = migrate.with_options(task_runner=dask_runner("local:2"))(
        sources=sources, target=spread, reports_dir=str(tmp_path / "r2"), distributed=True)
    assert on_dask.dispositions == single.dispositions
    assert on_dask.records_by_source == single.records_by_source
    assert {"sources", "combine"} <= set(on_dask.seconds)
    expected, got = dump(alone), dump(spread)
    for table in TABLES:
        assert len(expected[table]) > 0 or table == "run_conflicts"
        pd.testing.assert_frame_equal(got[table], expected[table], obj=table)


@pytest.mark.parametrize("spec", ["local:0", "local:x", "nowhere"])
def test_bad_dask_specs_are_usage_errors(spec):
    from icp_migrate.pipeline.distributed import check_spec

    with pytest.raises(UsageError):
        check_spec(spec)
