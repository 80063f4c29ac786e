"""`make bench` does not start a size the machine cannot hold (bench/run.py: too_big)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_run"]


MEASURED = [{"records": 1_000_000, "sqlite": {"peak_rss_mb": 3_600},
             "postgres": {"peak_rss_mb": 3_700}}]


def test_a_size_whose_estimated_peak_exceeds_the_memory_is_refused(bench, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setattr(bench, "_available_gb", lambda: 23.0)
    refusal = bench.too_big(10_000_000, MEASURED, tmp_path)
    assert refusal is not None
    assert "about 36 GB" in refusal and "3,700 MB measured at 1,000,000 records" in refusal
    assert "23 GB available" in refusal


def test_sizes_that_fit_or_were_measured_run(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "_available_gb", lambda: 23.0)
    assert bench.too_big(5_000_000, MEASURED, tmp_path) is None  # ~18 GB of 23
    assert bench.too_big(1_000_000, MEASURED, tmp_path) is None
    monkeypatch.setattr(bench, "_available_gb", lambda: 1_000.0)
    assert bench.too_big(10_000_000, MEASURED, tmp_path) is None


def test_without_a_measurement_here_the_latest_results_file_decides(bench, monkeypatch,
                                                                     tmp_path):
    monkeypatch.setattr(bench, "HERE", tmp_path)
    results = tmp_path / "results"
    results.mkdir()
    (results / "old.json").write_text('{"sizes": [{"records": 100, "sqlite": '
                                      '{"peak_rss_mb": 1000}}]}')
    monkeypatch.setattr(bench, "_available_gb", lambda: 23.0)
    assert "about 98 GB" in bench.too_big(10_000, [], tmp_path / "elsewhere")
    (results / "old.json").unlink()
    assert bench.too_big(10_000, [], tmp_path / "elsewhere") is None  # nothing to go by


def test_a_later_bench_of_the_same_day_never_overwrites_an_earlier_one(bench, tmp_path):
    import datetime as dt

    morning, afternoon = dt.datetime(2026, 12, 3, 8, 34), dt.datetime(2026, 12, 3, 15, 52)
    first = bench.results_file(tmp_path, morning)
    assert first.name == "2026-12-03.json"
    first.write_text("{}", encoding="utf-8")
    assert bench.results_file(tmp_path, afternoon).name == "2026-12-03T15-52.json"
