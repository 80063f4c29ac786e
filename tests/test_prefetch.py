"""The first source read while Prefect's API starts (`pipeline/prefetch.py`): its read
task takes those records, once, or the read's error; anything else reads as usual."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from icp_migrate.errors import SourceError
from icp_migrate.pipeline import prefetch
from icp_migrate.pipeline.stages import Prepared, read_normalized, read_records


@pytest.fixture(autouse=True)
def _nothing_left():
    yield
    prefetch.forget()


def test_the_read_task_takes_the_prefetched_records_once(samples):
    source = str(samples / "hichina_beian.csv")
    reads: list[str] = []

    def read(text: str, mapping: str | None) -> Prepared:
        reads.append(threading.current_thread().name)
        return read_normalized(text, mapping)

    prefetch.prefetch(source, None, read)
    records, domains = read_records(source, None, first_row_id=5)
    assert reads == ["icp-migrate-prefetch"]  # read once, in the background
    want, want_domains = read_normalized(source, None, first_row_id=5)
    pd.testing.assert_frame_equal(records.to_frame(), want.to_frame())  # numbered as asked
    pd.testing.assert_frame_equal(domains.to_frame(), want_domains.to_frame())
    assert prefetch.take(source, None) is None  # once only
    read_records(source, None)
    assert reads == ["icp-migrate-prefetch"]  # later reads read as usual


def test_another_source_or_mapping_reads_as_usual_and_leaves_the_prefetch(samples):
    source = str(samples / "hichina_beian.csv")
    prefetch.prefetch(source, None, read_normalized)
    assert prefetch.take(source, "hichina_beian_csv") is None
    assert prefetch.take(str(samples / "winport_shops.jsonl"), None) is None
    assert prefetch.take(source, None) is not None


def test_the_reads_error_is_raised_by_the_task(tmp_path):
    missing = str(tmp_path / "gone.csv")
    prefetch.prefetch(missing, None, read_normalized)
    with pytest.raises(SourceError, match="gone.csv: no such file"):
        read_records(missing, None)
    with pytest.raises(SourceError):  # and a second read reads (and fails) as usual
        read_records(missing, None)
