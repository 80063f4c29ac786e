"""`rules.decide` whole against `rules.decide` in parts (rules/parts.py) on a bench set and
an empty store: the time and peak memory each way, and whether every plan frame is equal.

    .venv/bin/python bench/partitioned_decide.py --records 1000000 --parts 8

Each way runs in a child process of its own, reading the prepared records from a private
temporary folder (mode 0700, removed at the end: they hold personal data). `--parts N`
sets the records per part so the set falls into N parts (ICP_MIGRATE_RECORDS_PER_PART does
the same for a run).
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inputs import inputs_for  # noqa: E402

FRAMES = ("entities", "accounts", "website_filings", "domains", "dispositions", "links",
          "conflicts", "changes", "removed_domains")
CUTOFF = pd.Timestamp("2019-01-01")


def prepare(records: int, seed: int, data_dir: Path, out: Path) -> None:
    """The bench set's normalized records and domains, as a run prepares them."""
    from icp_migrate.pipeline.run import StageClock
    from icp_migrate.pipeline.stages import prepare_sources

    files = [str(path) for path in inputs_for(records, seed, data_dir).files]
    prepared = prepare_sources(files, None, StageClock())
    with out.open("wb") as fh:
        pickle.dump(prepared, fh, protocol=5)


def child(prepared: Path, parts: int, out: Path) -> None:
    from icp_migrate import rules
    from icp_migrate.plan import Plan

    with prepared.open("rb") as fh:
        records, domains = pickle.load(fh)
    loaded = _high_water_mb(reset=True)  # unpickling's own peak is not decide's
    per_part = -(-len(records) // parts)
    started = time.perf_counter()
    plan = rules.decide(records, domains, Plan(), CUTOFF, records_per_part=per_part)
    seconds = time.perf_counter() - started
    peak = _high_water_mb()
    frames = {name: getattr(plan, name) for name in FRAMES}
    with out.open("wb") as fh:
        pickle.dump((seconds, loaded, peak, frames), fh, protocol=5)


def _high_water_mb(reset: bool = False) -> int:
    """This process's resident memory (reset=True: now, and the peak starts again from
    here, Linux's clear_refs) or its peak since the last reset, in MB."""
    status = Path("/proc/self/status").read_text()
    field = "VmRSS" if reset else "VmHWM"
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith(field))
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    return kib // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), Path(args.child[2]))
        return
    with tempfile.TemporaryDirectory(prefix="icp-partitioned-") as folder:
        os.chmod(folder, 0o700)
        prepared = Path(folder) / "prepared.pkl"
        prepare(args.records, args.seed, args.data_dir, prepared)
        results = {}
        for parts in (1, args.parts):
            out = Path(folder) / f"plan-{parts}.pkl"
            subprocess.run([sys.executable, __file__, "--child", str(prepared), str(parts),
                            str(out)], check=True)
            with out.open("rb") as fh:
                results[parts] = pickle.load(fh)
    print(f"load average {os.getloadavg()[0]:.2f}")
    for parts, (seconds, loaded, peak, _) in results.items():
        print(f"decide in {parts} part(s): {seconds:.1f} s, RSS {loaded:,} MB before, "
              f"peak {peak:,} MB")
    whole, split = results[1][3], results[args.parts][3]
    for name in FRAMES:
        a, b = whole[name], split[name]
        same = a.shape == b.shape and a.equals(b) and list(a.dtypes) == list(b.dtypes)
        differ = [] if same or a.shape != b.shape else [
            c for c in a.columns if not a[c].equals(b[c])]
        print(f"  {name}: {'equal' if same else f'differs {a.shape} vs {b.shape} {differ}'}")


if __name__ == "__main__":
    main()
