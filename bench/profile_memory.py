"""One `icp-migrate run` with its memory sampled: where in the run the RSS rises and falls.

    python bench/profile_memory.py [--records 1000000] [--target URL] [--every 0.25]

Runs the CLI on the bench set of that size (bench/inputs.py, generated once) into a fresh
SQLite file (or `--target`), samples the process's resident memory (VmRSS) every
`--every` seconds, and prints each log line of the run with the RSS when it was written,
then the peak and when it was reached, the seconds of each stage and the peak as each
ended. Run it alone: other processes change the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inputs import RUN_ORDER, inputs_for  # noqa: E402
from run import PG_URL, _child_env, _cli, _pg_schema  # noqa: E402


def rss_mb(pid: int) -> float | None:
    """The process's resident memory in MB, or None once it has ended."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--target", help="a target URL (default: a fresh SQLite file)")
    parser.add_argument("--postgres", action="store_true",
                        help="a fresh schema on the bench's PostgreSQL (dropped after)")
    parser.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    args = parser.parse_args()
    inputs = inputs_for(args.records, args.seed, args.data_dir)
    files = [str(inputs.folder / name) for name in RUN_ORDER
             if (inputs.folder / name).exists()]
    with tempfile.TemporaryDirectory(prefix="icp-profile-") as work, \
            (_pg_schema(PG_URL) if args.postgres else nullcontext(args.target)) as url:
        target = url or f"sqlite:///{Path(work) / 'target.db'}"
        summary = Path(work) / "summary.json"
        command = [*_cli(), "run", *files, "--target", target, "--json-summary", str(summary)]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   env=_child_env(args.data_dir), cwd=work, text=True)
        samples: list[tuple[float, float]] = []

        def sample() -> None:
            while process.poll() is None:
                value = rss_mb(process.pid)
                if value is not None:
                    samples.append((time.perf_counter() - started, value))
                time.sleep(args.every)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert process.stdout is not None
        for line in process.stdout:
            now = time.perf_counter() - started
            current = samples[-1][1] if samples else 0.0
            print(f"{now:7.1f} s {current:7.0f} MB  {line.rstrip()[:110]}", flush=True)
        process.wait()
        sampler.join()
        if summary.exists():
            data = json.loads(summary.read_text(encoding="utf-8"))
            print("stage seconds:", data["seconds"])
            print("peak RSS (MB) as each stage ended:", data["peak_rss_mb"])
    if not samples:
        raise SystemExit("no sample taken")
    when, peak = max(samples, key=lambda s: s[1])
    print(f"exit {process.returncode}; {args.records:,} records; wall "
          f"{time.perf_counter() - started:.1f} s; peak RSS {peak:,.0f} MB at {when:.1f} s "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
