"""Synthetic legacy HiChina data with its ground truth: the pipeline's independent oracle.

`generate(out_dir, entities, seed)` writes the three legacy layouts (layout 1 twice: GB18030
and UTF-8 with a BOM), dirty the way real exports are, plus `ground_truth.csv` (one row per
record: disposition, entity key, normalized website number, link kind, the case it
exercises) and `ground_truth_accounts.csv`. Nothing here imports the pipeline's normalizers.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .records import FILE_NAMES, Ledger
from .scenarios import HOMES, Scenarios
from .truth import GROUND_TRUTH_COLUMNS, accounts, write_ground_truth
from .writers import CSV_HEADER, Layouts

__all__ = ["CSV_HEADER", "GROUND_TRUTH_COLUMNS", "SampleSet", "generate"]


@dataclass(frozen=True)
class SampleSet:
    out_dir: Path
    entities: int
    seed: int
    layouts: dict[str, Path]  # layout file key (gb, utf8, jsonl, db) -> path, in run order
    ground_truth: Path
    accounts: Path
    records: int
    dispositions: dict[str, int]

    @property
    def run_order(self) -> list[Path]:
        return list(self.layouts.values())


def generate(out_dir: Path, entities: int = 60, seed: int = 7,
             homes: tuple[str, ...] = HOMES) -> SampleSet:
    """Write a sample set of `entities` entities (about three records each) into out_dir.

    `homes` is the cycle of files ("gb", "utf8", "db") entities mostly file to; the
    benchmark weights it towards the GB18030 CSV. Winport shops go to JSONL either way.
    """
    if not set(homes) <= {"gb", "utf8", "db"} or not homes:
        raise ValueError("homes must name files among gb, utf8, db")
    if entities < 1:
        raise ValueError("entities must be at least 1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gt_path, acc_path = out_dir / "ground_truth.csv", out_dir / "ground_truth_accounts.csv"
    with tempfile.TemporaryDirectory(prefix="icp-samples-") as tmp:
        ledger = Ledger(Path(tmp))
        layouts = Layouts(out_dir)
        builder = Scenarios(random.Random(seed), layouts, ledger, homes)
        try:
            builder.run(entities)
        finally:
            layouts.close()
            ledger.close()
        counts, loaded = write_ground_truth(gt_path, ledger.frame(), builder.keys,
                                            builder.f.numbers.text, ledger.note_paths)
    accounts(loaded, builder.keys, builder.clouds).to_csv(
        acc_path, index=False, encoding="utf-8", lineterminator="\n")
    return SampleSet(
        out_dir=out_dir, entities=entities, seed=seed,
        layouts={f: out_dir / name for f, name in FILE_NAMES.items()},
        ground_truth=gt_path, accounts=acc_path, records=sum(counts.values()),
        dispositions=counts,
    )
