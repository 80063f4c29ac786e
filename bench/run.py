"""`make bench`: whole `icp-migrate run`s against the floor, at several sizes, side by side.

    python bench/run.py --records 100000 300000 1000000 [--targets sqlite postgres]
                        [--pg-url URL] [--no-tiny]

For each size: the sample set (generated once into bench/data/), then `icp-migrate run`
into a fresh SQLite file and a fresh PostgreSQL schema (a subprocess each; wall time, peak
RSS from wait4, seconds per stage from --json-summary), and the floor (floor.py). Prints a
table and writes bench/results/<date>.json. A tiny run (the committed samples, second run)
measures the fixed cost, with Prefect's ephemeral API (each process starts one) and with
a Prefect server already running (PREFECT_API_URL), as a nightly schedule would have.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from floor import read_floor, write_floor_postgres, write_floor_sqlite  # noqa: E402
from inputs import RUN_ORDER, inputs_for  # noqa: E402

PG_URL = os.environ.get("ICP_MIGRATE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TARGETS = ("sqlite", "postgres")
STAGES = ("extract", "normalize", "settings", "snapshot", "validate", "group", "plan",
          "summary", "load", "report")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="*", default=[100_000],
                        help="sizes to run (none: only the fixed-cost runs)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS),
                        help="the target stores to run into (default: both)")
    parser.add_argument("--no-postgres", action="store_true", help="as --targets sqlite")
    parser.add_argument("--no-tiny", action="store_true", help="skip the fixed-cost run")
    parser.add_argument("--force", action="store_true",
                        help="run a size even when its estimated peak exceeds the memory")
    args = parser.parse_args()
    if args.no_postgres:
        args.targets = [t for t in args.targets if t != "postgres"]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = _child_env(args.data_dir)

    results = {"date": dt.datetime.now().isoformat(timespec="seconds"),
               "machine": _machine(), "prefect_api_url": os.environ.get("PREFECT_API_URL"),
               "sizes": [], "tiny": None}
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = results_file(args.results_dir, dt.datetime.now())
    if not args.no_tiny:
        results["tiny"] = tiny_run(args.data_dir, env)
        results["bare"] = bare_flow(env)
        _print_fixed("", results["tiny"], results["bare"])
        if not env.get("PREFECT_API_URL"):
            from icp_migrate.pipeline.serving import local_prefect_server

            os.environ["PREFECT_HOME"] = env["PREFECT_HOME"]  # the server's database too
            with local_prefect_server() as api:  # as a long-running server would be
                served = {**env, "PREFECT_API_URL": api}
                results["tiny_with_server"] = tiny_run(args.data_dir, served)
                results["bare_with_server"] = bare_flow(served)
            _print_fixed(" with a running Prefect server (PREFECT_API_URL)",
                         results["tiny_with_server"], results["bare_with_server"])
    for n in args.records:
        refusal = None if args.force else too_big(n, results["sizes"], args.results_dir)
        if refusal:  # a run the machine cannot hold would end in the kernel's OOM killer
            print(f"\n{n:,} records: not run: {refusal} (--force runs it)", flush=True)
            results["sizes"].append({"records": n, "not_run": refusal})
            continue
        try:
            results["sizes"].append(bench_size(n, args, env))
        except NotGenerated as exc:
            print(f"\n{n:,} records: not run: {exc}", flush=True)
            results["sizes"].append({"records": n, "not_run": str(exc)})
        _print_table(results)
        _write(out, results)  # after each size: a bench stopped later keeps what it measured
    _write(out, results)
    print(f"\nwrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def _write(out: Path, results: dict) -> None:
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


def results_file(folder: Path, now: dt.datetime) -> Path:
    """`<date>.json`, or `<date>T<hh-mm>.json` when a bench of that day is there already
    (an earlier bench is never overwritten)."""
    first = folder / f"{now.date().isoformat()}.json"
    return first if not first.exists() else folder / f"{now:%Y-%m-%dT%H-%M}.json"


class NotGenerated(Exception):
    """The sample generator cannot make a set of this size."""


def too_big(n: int, done: list[dict], results_dir: Path) -> str | None:
    """Why a run of `n` records would not fit this machine's memory, or None: its peak
    estimated from the largest size measured (in this bench, else in the latest results
    file here or in bench/results/), as memory grows linearly with the records
    (docs/performance.md)."""
    measured = [(row["records"], r["peak_rss_mb"]) for row in done for r in
                (row.get("sqlite"), row.get("postgres")) if r]
    if not measured:
        files = [*results_dir.glob("*.json"), *(HERE / "results").glob("*.json")]
        for path in sorted(files, key=lambda f: f.stat().st_mtime, reverse=True):
            earlier = json.loads(path.read_text(encoding="utf-8")).get("sizes", [])
            measured = [(row["records"], r["peak_rss_mb"]) for row in earlier for r in
                        (row.get("sqlite"), row.get("postgres")) if r]
            if measured:
                break
    if not measured:
        return None
    records, peak = max(measured)
    if n <= records:
        return None
    needed = peak * n / records / 1024
    available = _available_gb()
    if available is None or needed < 0.9 * available:
        return None
    return (f"its peak would be about {needed:.0f} GB ({peak:,} MB measured at "
            f"{records:,} records, growing with the records), and this machine has "
            f"{available:.0f} GB available")


def _available_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        return None
    return None


def bench_size(n: int, args: argparse.Namespace, env: dict[str, str]) -> dict:
    try:
        inputs = inputs_for(n, args.seed, args.data_dir)
    except ValueError as exc:  # the generator's unique serials run out (about 3M records)
        raise NotGenerated(f"the sample generator cannot make it: {exc}") from exc
    print(f"\n{inputs.records:,} records in {inputs.folder} "
          f"(generated in {inputs.generate_seconds} s): {inputs.records_by_file}", flush=True)
    files = [inputs.folder / name for name in RUN_ORDER]
    work = args.data_dir / "work"
    work.mkdir(exist_ok=True)
    row: dict = {"records": inputs.records, "records_by_file": inputs.records_by_file,
                 "read_floor": round(read_floor_apart(files), 2)}
    print(f"  floor read: {row['read_floor']:.1f} s", flush=True)

    if "sqlite" in args.targets:
        target = work / "target.db"
        target.unlink(missing_ok=True)
        row["sqlite"] = run_cli(files, f"sqlite:///{target}", work, env)
        seconds, row["rows_written"] = write_floor_sqlite(f"sqlite:///{target}",
                                                          work / "floor.db")
        row["sqlite"]["write_floor"] = round(seconds, 2)
        _finish(row, "sqlite")
    if "postgres" in args.targets:
        with _pg_schema(args.pg_url) as url, _pg_schema(args.pg_url) as floor_url:
            row["postgres"] = run_cli(files, url, work, env)
            seconds, written = write_floor_postgres(url, floor_url)
            row["postgres"]["write_floor"] = round(seconds, 2)
        row.setdefault("rows_written", written)
        _finish(row, "postgres")
    return row


def read_floor_apart(files: list[Path]) -> float:
    """read_floor in a process of its own: it reads whole files (about 19 GB of frames at
    10M, which this process's heap would keep beside the runs it starts: 4.5 GB more at
    10M, on a 23 GB machine)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(read_floor, files).result()


def _finish(row: dict, backend: str) -> None:
    result = row[backend]
    result["floor"] = round(row["read_floor"] + result["write_floor"], 2)
    result["ratio"] = round(result["wall"] / result["floor"], 2) if result["floor"] else None
    result["records_per_s"] = round(row["records"] / result["wall"])
    print(f"  {backend}: {result['wall']:.1f} s (floor {result['floor']:.1f} s, "
          f"x{result['ratio']}), peak RSS {result['peak_rss_mb']:,} MB, stages "
          f"{result['stages']}, peak RSS (MB) as each stage ended "
          f"{result['peak_rss_mb_by_stage']} (load average {os.getloadavg()[0]:.2f})", flush=True)


def run_cli(files: list[Path], url: str, work: Path, env: dict[str, str]) -> dict:
    """One `icp-migrate run` in a subprocess: wall time, peak RSS, seconds per stage."""
    summary = work / f"summary-{uuid.uuid4().hex[:8]}.json"
    command = [*_cli(), "run", *map(str, files), "--target", url, "--json-summary", str(summary)]
    log = work / "last-run.log"
    started = time.perf_counter()
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env,
                                   cwd=work)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or not summary.exists():
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise SystemExit(f"icp-migrate run failed ({process.returncode}):\n{tail}")
    data = json.loads(summary.read_text(encoding="utf-8"))
    summary.unlink()
    stages = {k: round(v, 2) for k, v in data["seconds"].items()}
    process_seconds = data["process_seconds"]
    return {
        "wall": round(wall, 2),
        # the run's own peak (VmHWM, as each stage ended): wait4's ru_maxrss carries over
        # this bench process's own peak, which Linux passes on through fork and exec
        "peak_rss_mb": max(data.get("peak_rss_mb", {}).values(), default=0),
        "peak_rss_mb_wait4": round(usage.ru_maxrss / 1024),
        "stages": stages,
        "peak_rss_mb_by_stage": data.get("peak_rss_mb", {}),
        # measured around the flow's and the tasks' functions (pipeline/prefect_share.py)
        "prefect_overhead": round(process_seconds["prefect_overhead"], 2),
        "untimed": process_seconds.get("untimed"),  # ours between the stages
        "startup": round(wall - process_seconds["flow"], 2),  # interpreter, imports, checks
        "dispositions": data["dispositions"],
    }


def tiny_run(data_dir: Path, env: dict[str, str]) -> dict:
    """The committed samples into a fresh SQLite file, twice; the second run is measured."""
    work = data_dir / "tiny"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    samples = ROOT / "data" / "samples"
    files = [samples / name for name in RUN_ORDER]
    url = f"sqlite:///{work / 'tiny.db'}"
    run_cli(files, url, work, env)
    return run_cli(files, url, work, env)


def bare_flow(env: dict[str, str]) -> dict:
    """bare_flow.py as a whole process, twice (the first warms the page cache and
    PREFECT_HOME, as the tiny run's first run does); the second is measured."""
    command = [sys.executable, str(HERE / "bare_flow.py")]
    for _ in range(2):
        started = time.perf_counter()
        process = subprocess.run(command, env=env, capture_output=True, check=False)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise SystemExit(f"bare flow failed:\n{process.stderr.decode()[-2000:]}")
    return {"wall": round(wall, 2)}


def _print_fixed(how: str, tiny: dict, bare: dict) -> None:
    tiny["ratio_to_bare"] = round(tiny["wall"] / bare["wall"], 2)
    print(f"fixed cost{how}: demo run {tiny['wall']:.1f} s, bare Prefect flow "
          f"{bare['wall']:.1f} s, x{tiny['ratio_to_bare']:.2f} "
          f"(load average {os.getloadavg()[0]:.2f})", flush=True)


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "icp-migrate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "icp_migrate.cli"]


def _child_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # one warm PREFECT_HOME for every run: the ephemeral API's database is migrated once
    env.setdefault("PREFECT_HOME", str(data_dir / "prefect-home"))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    return env


class _pg_schema:  # noqa: N801 - used as a context manager like a function
    """A fresh schema on the PostgreSQL server, dropped afterwards; yields its URL."""

    def __init__(self, base: str) -> None:
        self.base = sa.make_url(base)
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        self.engine = sa.create_engine(self.base.set(drivername="postgresql+psycopg"))
        with self.engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
        url = self.base.update_query_dict({"options": f"-csearch_path={self.schema}"})
        return url.render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.engine.dispose()


def _machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "platform": platform.platform(), "load_avg_at_start": os.getloadavg()}


def _print_table(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="icp-migrate run vs floor (seconds)")
    for column in ("records", "target", "run", "floor", "ratio", "rec/s", "peak RSS MB",
                   *STAGES, "prefect", "startup"):
        table.add_column(column, justify="right")
    for row in results["sizes"]:
        if "not_run" in row:
            table.add_row(f"{row['records']:,}", "not run", *("" for _ in range(5)),
                          *("" for _ in STAGES), "", "")
            continue
        for backend in TARGETS:
            r = row.get(backend)
            if r is None:
                continue
            table.add_row(f"{row['records']:,}", backend, f"{r['wall']:.1f}",
                          f"{r['floor']:.1f}", f"{r['ratio']:.2f}", f"{r['records_per_s']:,}",
                          f"{r['peak_rss_mb']:,}",
                          *(f"{r['stages'].get(s, 0):.1f}" for s in STAGES),
                          f"{r['prefect_overhead']:.1f}", f"{r['startup']:.1f}")
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
