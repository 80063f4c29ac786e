"""`icp-migrate run`: quick checks first, Prefect's API and Great Expectations started in the
background meanwhile, then the migrate flow and its summary; progress bars on stderr while
it runs, when stderr is a terminal (`icp_migrate.progress`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .. import settings
from ..progress import shown, stage, wanted
from .output import err, guarded, out, progress_to_stderr

if TYPE_CHECKING:
    import pandas as pd

    from ..run_settings import RunOptions


def run(
    sources: Annotated[list[str], typer.Argument(help="CSV/JSONL files or database URLs")],
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store "
                      f"(default ${settings.TARGET_ENV} or ./{settings.DEFAULT_TARGET_FILE})")]
    = None,
    mapping: Annotated[str | None, typer.Option(help="force a layout: mapping name or YAML")]
    = None,
    cutoff: Annotated[str, typer.Option(help="filings on or after this date are out of scope")]
    = settings.DEFAULT_CUTOFF,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="plan and validate, load nothing")]
    = False,
    json_summary: Annotated[Path | None, typer.Option(
        help="also write the summary, with seconds per stage, to this JSON file")] = None,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS|local:N",
        help="extract, normalize and check each source on Dask: a scheduler address "
             "(tcp://HOST:8786) or local:N for N local worker processes")] = None,
    reports_dir: Annotated[str, typer.Option("--reports", help="folder for run reports")]
    = "reports",
    init: Annotated[bool, typer.Option("--init", help="create the store's tables in a target "
                                       "that already holds other tables")] = False,
    no_progress: Annotated[bool, typer.Option(
        "--no-progress", help="no progress bars (shown on stderr only when it is a terminal, "
                              "and not with --json-summary)")] = False,
) -> None:
    """Migrate legacy sources into the target store and print the summary."""
    def body() -> None:
        began = time.perf_counter()
        from ..run_settings import RunOptions

        # checked once, here: a bad cut-off, Dask spec or mapping is a usage error
        options = RunOptions.from_user(sources, target=target, cutoff=cutoff, mapping=mapping,
                                       reports_dir=reports_dir, dry_run=dry_run, dask=dask,
                                       init=init)
        settings.configure_environment(prefect_console_in_debug=True)
        progress_to_stderr()
        _check_quickly(options)
        # a --json-summary run is measured (bench/): no refresh thread beside it
        bars = wanted(err, allowed=not no_progress and json_summary is None)
        with _started_in_background(options) as api_up:
            _migrate(began, options, json_summary, api_up, bars)

    guarded(body)


def _check_quickly(options: RunOptions) -> None:
    """Clear errors in a second, before anything starts in the background: the sources
    readable in a known layout, the target reachable (and its schema current), the
    environment's settings well-formed."""
    from ..readers import preflight
    from ..store.target import open_target

    settings.records_per_part()
    preflight(list(options.sources), options.forced_mapping())
    if not options.dry_run:
        open_target(options.target, init=options.init).dispose()


@contextmanager
def _started_in_background(options: RunOptions) -> Iterator[Callable[[], None]]:
    """Prefect's ephemeral API comes up while Great Expectations is imported, then the
    first source read (`prefetch`), and the flow module loads; yields the wait for the API.
    GX first and the read after it, not both at once: GX is then ready when the flow
    starts instead of competing with its first tasks for the interpreter. The API's and
    GX's threads are joined before the process may exit (a daemon thread still importing
    at interpreter exit can abort the process)."""
    from ..pipeline import prefetch
    from ..pipeline.prefect_api import start_early
    from ..pipeline.stages import read_normalized
    from ..validation.context import warm_up

    api_up = start_early()
    gx_ready = warm_up()
    if options.sources and not options.dask:  # a distributed run reads on its workers
        def read_after_gx(source: str, mapping: str | None,
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
            gx_ready.join()
            return read_normalized(source, mapping)

        prefetch.prefetch(options.sources[0], options.mapping, read_after_gx)
    try:
        yield api_up
    finally:
        prefetch.forget()
        api_up()
        gx_ready.join()


def _migrate(began: float, options: RunOptions, json_summary: Path | None,
             api_up: Callable[[], None], bars: bool = False) -> None:
    """The migrate flow run from the CLI (after the quick checks), then its summary; with
    `bars`, the run's progress bars on stderr until the flow ends (however it ends)."""
    with shown(err, bars):
        with stage("start"):  # Prefect's API (its first start can take seconds), the flow
            from ..flows.migrate import migrate

            api_up()
        from .tables import print_summary

        flow_began = time.perf_counter()
        flow = migrate
        if options.dask:
            from ..flows.distributed import dask_runner

            flow = migrate.with_options(task_runner=dask_runner(options.dask))
        # URLs may hold passwords and Prefect stores flow parameters: those are SecretStr
        summary = flow(**options.flow_parameters())
    if json_summary is not None:
        from ..pipeline.prefect_share import PREFECT

        flow_wall = time.perf_counter() - flow_began
        _write_json_summary(json_summary, summary.as_dict(), {
            "before_flow": flow_began - began, "flow": flow_wall,
            # creating the flow and task runs, their states, visiting task parameters
            "prefect_overhead": PREFECT.seconds(flow_wall)})
    print_summary(out, summary)


def _write_json_summary(path: Path, summary: dict, seconds: dict[str, float]) -> None:
    """The summary (counts only, no record values) plus where the wall time went."""
    import json

    stages = sum(summary["seconds"].values())
    summary["process_seconds"] = {
        **{k: round(v, 3) for k, v in seconds.items()},
        # ours outside the timed stages: between them, freeing memory, closing the target
        "untimed": round(seconds["flow"] - stages - seconds["prefect_overhead"], 3),
    }
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
