"""The first source read while Prefect's API starts (`pipeline/prefetch.py`): its extract
task takes that frame, once, or the read's error; anything else reads as usual."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from icp_migrate.errors import SourceError
from icp_migrate.pipeline import prefetch
from icp_migrate.pipeline.stages import extract_source, read_canonical


@pytest.fixture(autouse=True)
def _nothing_left():
    yield
    prefetch.forget()


def test_the_extract_task_takes_the_prefetched_frame_once(samples):
    source = str(samples / "hichina_beian.csv")
    reads: list[str] = []

    def read(text: str, mapping: str | None) -> pd.DataFrame:
        reads.append(threading.current_thread().name)
        return read_canonical(text, mapping)

    prefetch.prefetch(source, None, read)
    taken = extract_source(source, None)
    assert reads == ["icp-migrate-prefetch"]  # read once, in the background
    pd.testing.assert_frame_equal(taken, read_canonical(source, None))
    assert prefetch.take(source, None) is None  # once only
    extract_source(source, None)
    assert reads == ["icp-migrate-prefetch"]  # later extracts read as usual


def test_another_source_or_mapping_reads_as_usual_and_leaves_the_prefetch(samples):
    source = str(samples / "hichina_beian.csv")
    prefetch.prefetch(source, None, read_canonical)
    assert prefetch.take(source, "hichina_beian_csv") is None
    assert prefetch.take(str(samples / "winport_shops.jsonl"), None) is None
    assert prefetch.take(source, None) is not None


def test_the_reads_error_is_raised_by_the_task(tmp_path):
    missing = str(tmp_path / "gone.csv")
    prefetch.prefetch(missing, None, read_canonical)
    with pytest.raises(SourceError, match="gone.csv: no such file"):
        extract_source(missing, None)
    with pytest.raises(SourceError):  # and a second extract reads (and fails) as usual
        extract_source(missing, None)
