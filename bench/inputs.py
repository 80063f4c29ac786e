"""Benchmark inputs: sample sets of about N records, generated once and kept in bench/data."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from icp_migrate.samples import generate

# Entities file mostly to the GB18030 export (6 of 8), the rest to the UTF-8 export and the
# legacy database; Winport shops still go to JSON Lines 60% of the time.
BENCH_HOMES = ("gb", "gb", "db", "gb", "gb", "utf8", "gb", "gb")
RECORDS_PER_ENTITY = 3.03  # measured with BENCH_HOMES; the real count is reported
RUN_ORDER = ("hichina_beian.csv", "hichina_beian_utf8.csv", "winport_shops.jsonl",
             "hichina_legacy.db")
STAMP = "bench-inputs.json"


@dataclass(frozen=True)
class Inputs:
    folder: Path
    records: int
    records_by_file: dict[str, int]
    generate_seconds: float

    @property
    def files(self) -> list[Path]:
        return [self.folder / name for name in RUN_ORDER]


def inputs_for(records: int, seed: int, data_dir: Path) -> Inputs:
    """The sample set for `records` (generated on first use, reused after)."""
    folder = data_dir / f"records-{records}-seed-{seed}"
    stamp = folder / STAMP
    if stamp.exists():
        meta = json.loads(stamp.read_text(encoding="utf-8"))
        return Inputs(folder, meta["records"], meta["records_by_file"], meta["generate_seconds"])
    started = time.perf_counter()
    entities = max(1, round(records / RECORDS_PER_ENTITY))
    result = generate(folder, entities=entities, seed=seed, homes=BENCH_HOMES)
    took = round(time.perf_counter() - started, 1)
    by_file = _records_by_file(folder)
    stamp.write_text(json.dumps({"records": result.records, "records_by_file": by_file,
                                 "generate_seconds": took}), encoding="utf-8")
    return Inputs(folder, result.records, by_file, took)


def _records_by_file(folder: Path) -> dict[str, int]:
    import pandas as pd

    truth = pd.read_csv(folder / "ground_truth.csv", usecols=["file"], dtype=str)
    counts = truth["file"].value_counts()
    return {str(k): int(v) for k, v in counts.items()}
