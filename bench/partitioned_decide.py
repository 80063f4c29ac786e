"""An experiment for the streaming design (docs/performance.md, "What a partitioned decide
would take"): `rules.decide` over the whole run against `rules.decide` once per group of
records that no key crosses, on a bench set and an empty store. Not the pipeline.

    .venv/bin/python bench/partitioned_decide.py --records 1000000 --parts 8

Prints each way's seconds and peak RSS (each in a child process of its own, reading the
prepared records from a private temporary folder, removed at the end) and which plan
frames differ. The keys joined into components: certificate key, organization code of a
USCC, website filing number, entity filing number (stated or from the website number:
one key), name key, domain.
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

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inputs import inputs_for  # noqa: E402

FRAMES = ("entities", "accounts", "website_filings", "domains", "dispositions", "links",
          "conflicts", "changes")
CUTOFF = pd.Timestamp("2019-01-01")


def prepare(records: int, seed: int, data_dir: Path, out: Path) -> None:
    """The bench set's normalized records and domains, as a run prepares them."""
    from icp_migrate.pipeline.run import StageClock
    from icp_migrate.pipeline.stages import extract_source, normalize_sources, prepare_sources

    files = [str(path) for path in inputs_for(records, seed, data_dir).files]
    prepared = prepare_sources(files, None, StageClock(), extract_source, normalize_sources)
    with out.open("wb") as fh:
        pickle.dump(prepared, fh, protocol=5)


def _positions(records: pd.DataFrame, row_ids: pd.Series) -> np.ndarray:
    """Where each of `row_ids` is among the records."""
    return pd.Series(np.arange(len(records)), index=records["row_id"].to_numpy()).loc[
        row_ids.to_numpy()].to_numpy()


def components(records: pd.DataFrame, domains: pd.DataFrame) -> np.ndarray:
    """Each record's component: records sharing a key are in one."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(records)
    at = np.arange(n)
    entity_numbers = np.concatenate([records["website_entity_number"].to_numpy(dtype=object),
                                     records["entity_filing_number"].to_numpy(dtype=object)])
    uscc = records["cert_type"].eq("uscc").to_numpy() & records["cert_number"].notna().to_numpy()
    org = np.full(n, None, dtype=object)
    org[uscc] = records.loc[uscc, "cert_number"].str[8:17].to_numpy(dtype=object)
    keyed = [(at, records["cert_key"].to_numpy(dtype=object)),
             (at, records["website_filing_number"].to_numpy(dtype=object)),
             (at, records["name_key"].to_numpy(dtype=object)),
             (np.concatenate([at, at]), entity_numbers), (at, org),
             (_positions(records, domains["row_id"]), domains["domain"].to_numpy(dtype=object))]
    rows, keys, next_key = [], [], n
    for where, values in keyed:
        present = pd.notna(values)
        codes = pd.factorize(values[present])[0]
        rows.append(where[present])
        keys.append(codes + next_key)
        next_key += int(codes.max()) + 1 if len(codes) else 0
    graph = coo_matrix((np.ones(sum(map(len, rows)), dtype=np.int8),
                        (np.concatenate(rows), np.concatenate(keys))), shape=(next_key, next_key))
    return connected_components(graph, directed=False)[1][:n]


def child(prepared: Path, parts: int, out: Path) -> None:
    from icp_migrate import rules
    from icp_migrate.plan import Plan

    with prepared.open("rb") as fh:
        records, domains = pickle.load(fh)
    loaded = _high_water_mb(reset=True)  # unpickling's own peak is not decide's
    started = time.perf_counter()
    if parts == 1:
        plans = [rules.decide(records, domains, Plan(), CUTOFF)]
    else:
        group = components(records, domains) % parts
        domain_group = group[_positions(records, domains["row_id"])]
        plans = [rules.decide(records[group == p], domains[domain_group == p], Plan(), CUTOFF)
                 for p in range(parts)]
    seconds = time.perf_counter() - started
    peak = _high_water_mb()
    frames = {}
    for name in FRAMES:
        frame = pd.concat([getattr(plan, name) for plan in plans], ignore_index=True)
        frames[name] = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
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
        same = a.shape == b.shape and a.equals(b)
        differ = [] if same or a.shape != b.shape else [
            c for c in a.columns if not a[c].equals(b[c])]
        print(f"  {name}: {'equal' if same else f'differs {a.shape} vs {b.shape} {differ}'}")


if __name__ == "__main__":
    main()
