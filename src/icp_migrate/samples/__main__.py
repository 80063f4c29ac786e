"""`python -m icp_migrate.samples OUT_DIR [--entities N] [--seed S]`: write a sample set."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import generate


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m icp_migrate.samples", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--entities", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    s = generate(args.out_dir, args.entities, args.seed)
    took = time.perf_counter() - start
    print(f"{s.records} records of {s.entities} entities in {s.out_dir} ({took:.1f} s): "
          + ", ".join(f"{k} {v}" for k, v in sorted(s.dispositions.items())))


if __name__ == "__main__":
    main()
