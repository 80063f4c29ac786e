"""`icp-migrate`: the command line. Every error is one line and an exit code, never a traceback."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from . import settings
from .errors import IcpMigrateError, UsageError
from .masking import mask_text, printable

if TYPE_CHECKING:
    from .run_settings import RunOptions

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Move legacy HiChina ICP filings into one Alibaba Cloud account per entity.")
# piped output (make demo, CI logs) gets room for the tables instead of 80 columns
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)  # one error, one line
DEBUG_ENV = settings.DEBUG_ENV


def _shown(text: str) -> str:
    """A message as plain text in a markup line: masked, no markup, no control characters."""
    return escape(printable(mask_text(text)))


def _masked_message(record: logging.LogRecord) -> str:
    """The record's message with its text arguments masked; numbers (counts, seconds) are
    the pipeline's own and stay readable."""
    args = record.args
    if not isinstance(args, tuple) or not args:
        return mask_text(record.getMessage())
    shown = tuple(a if isinstance(a, int | float) and not isinstance(a, bool)
                  else mask_text(str(a)) for a in args)
    try:
        return mask_text(str(record.msg)) % shown
    except (TypeError, ValueError):
        return mask_text(record.getMessage())


class _ProgressHandler(logging.Handler):
    """Prints each pipeline stage as it ends, with the time since the run started."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.started = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        elapsed = time.perf_counter() - self.started
        err.print(f"[dim]{elapsed:6.1f}s[/dim] {escape(printable(_masked_message(record)))}",
                  highlight=False)


@contextmanager
def _target_engine(target: str | None) -> Iterator[Any]:
    """The target's engine (opened, schema upgraded), disposed after the command."""
    from .store.target import target_engine

    with target_engine(settings.target_url(target)) as engine:
        yield engine


def _progress_to_stderr() -> None:
    logger = logging.getLogger("icp_migrate")
    logger.setLevel(logging.INFO)
    if not any(isinstance(h, _ProgressHandler) for h in logger.handlers):
        logger.addHandler(_ProgressHandler())
    logger.propagate = False


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a command body; IcpMigrateError and surprises become one line and an exit code."""
    try:
        return action()
    except IcpMigrateError as exc:
        err.print(f"[red]error:[/red] {_shown(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - the promise is: no traceback, ever
        if settings.debug_enabled():  # the traceback, all but its frames (code) masked
            import traceback

            trace = traceback.TracebackException.from_exception(exc)
            frames: set[str] = set()
            todo = [trace]
            while todo:
                one = todo.pop()
                frames.update(one.stack.format())
                todo += [e for e in (one.__cause__, one.__context__, *(one.exceptions or ()))
                         if e is not None]
            text = "".join(c if c in frames else mask_text(c) for c in trace.format())
            sys.stderr.write("".join(printable(line) + "\n" for line in text.splitlines()))
            raise typer.Exit(1) from None
        text = str(exc).splitlines()[0] if str(exc) else ""
        err.print(f"[red]internal error:[/red] {exc.__class__.__name__}: {_shown(text)} "
                  f"(set {DEBUG_ENV}=1 for details)", highlight=False)
        raise typer.Exit(1) from None


@app.command()
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
) -> None:
    """Migrate legacy sources into the target store and print the summary."""
    def body() -> None:
        began = time.perf_counter()
        from .run_settings import RunOptions

        # checked once, here: a bad cut-off, Dask spec or mapping is a usage error
        options = RunOptions.from_user(sources, target=target, cutoff=cutoff, mapping=mapping,
                                       reports_dir=reports_dir, dry_run=dry_run, dask=dask)
        settings.configure_environment(prefect_console_in_debug=True)
        _progress_to_stderr()
        from .flows.api import start_early
        from .readers import preflight
        from .store.target import open_target
        from .validation.context import warm_up

        # clear errors in a second, before anything starts in the background
        preflight(list(options.sources), options.forced_mapping())
        if not options.dry_run:
            open_target(options.target).dispose()
        # Prefect's ephemeral API comes up while Great Expectations is imported and the
        # flow module loads; both threads are joined before the process may exit (a
        # daemon thread still importing at interpreter exit can abort the process).
        api_up = start_early()
        gx_ready = warm_up()
        try:
            _migrate(began, options, json_summary, api_up)
        finally:
            api_up()
            gx_ready.join()

    _guarded(body)


def _migrate(began: float, options: RunOptions, json_summary: Path | None,
             api_up: Callable[[], None]) -> None:
    """The migrate flow run from the CLI (after the quick checks), then its summary."""
    from .flows.migrate import migrate

    api_up()
    from .report_text import print_summary

    flow_began = time.perf_counter()
    flow = migrate
    if options.dask:
        from .flows.distributed import dask_runner

        flow = migrate.with_options(task_runner=dask_runner(options.dask))
    # URLs may hold passwords and Prefect stores flow parameters: those are SecretStr
    summary = flow(**options.flow_parameters())
    if json_summary is not None:
        _write_json_summary(json_summary, summary.as_dict(), {
            "before_flow": flow_began - began, "flow": time.perf_counter() - flow_began})
    print_summary(out, summary)


def _write_json_summary(path: Path, summary: dict, seconds: dict[str, float]) -> None:
    """The summary (counts only, no record values) plus where the wall time went."""
    import json

    stages = sum(summary["seconds"].values())
    summary["process_seconds"] = {
        **{k: round(v, 3) for k, v in seconds.items()},
        # flow run set-up, task runs and state reporting: the flow's time outside its stages
        "prefect_overhead": round(seconds["flow"] - stages, 3),
    }
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


@app.command()
def samples(
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write the sample set to")],
    entities: Annotated[int, typer.Option(min=1, help="number of entities")] = 60,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 7,
) -> None:
    """Write a dirty synthetic legacy set in all three layouts, with its ground truth."""
    def body() -> None:
        from .samples import generate

        result = generate(out_dir, entities=entities, seed=seed)
        out.print(f"wrote {out_dir}: {result}")

    _guarded(body)


@app.command()
def show(
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    limit: Annotated[int, typer.Option(help="accounts to list")] = 15,
) -> None:
    """Print what the target store holds: tables, the latest runs, a few accounts."""
    def body() -> None:
        from .report_text import print_store

        print_store(out, settings.target_url(target), limit)

    _guarded(body)


@app.command()
def report(
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="run id (default: the latest)")]
    = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder the run's folder goes in")]
    = Path("reports"),
) -> None:
    """Rebuild a past run's report: <out>/<run_id>/index.html, summary.json, gx/index.html."""
    def body() -> None:
        from .reports.build import write_report

        with _target_engine(target) as engine:
            files = write_report(engine, out_dir, run_id)
        out.print(f"wrote {files.index} and {files.summary.name}", highlight=False)

    _guarded(body)


plan_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="The account plan held by the target store.")
app.add_typer(plan_app, name="plan")


@plan_app.command("export")
def plan_export(
    fmt: Annotated[str, typer.Option("--format", help="csv (UTF-8 with BOM) or json")] = "csv",
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write account_plan.* to")]
    = Path("."),
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
) -> None:
    """Write the import team's worklist: one entry per planned account."""
    def body() -> None:
        from .reports.plan_export import FORMATS, export_plan

        if fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        with _target_engine(target) as engine:
            path, count = export_plan(engine, out_dir, fmt)
        out.print(f"wrote {path}: {count:,} accounts", highlight=False)

    _guarded(body)


@app.command()
def serve(
    inbox: Annotated[Path, typer.Option(help="folder where new exports are dropped")],
    cron: Annotated[str | None, typer.Option(help="cron schedule, e.g. '0 2 * * *'")] = None,
    interval: Annotated[float | None, typer.Option(help="seconds between ticks")] = None,
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    reports_dir: Annotated[str, typer.Option("--reports", help="folder for run reports")]
    = "reports",
    cutoff: Annotated[str, typer.Option(help="filings on or after this date are out of scope")]
    = settings.DEFAULT_CUTOFF,
    mapping: Annotated[str | None, typer.Option(
        metavar="NAME|FILE", help="force a layout: mapping name or YAML")] = None,
    settle: Annotated[float, typer.Option(
        min=0, metavar="SECONDS", help="take a file once its size and modification time "
        "have not changed for this long")] = 60.0,
) -> None:
    """Serve a Prefect deployment migrating every new file of the inbox on each tick."""
    def body() -> None:
        if (cron is None) == (interval is None):
            raise UsageError("give exactly one of --cron EXPR or --interval SECONDS")
        from .run_settings import RunOptions

        # a bad cut-off, name or mapping file fails now, not on every tick
        options = RunOptions.from_user(target=target, cutoff=cutoff, mapping=mapping,
                                       reports_dir=reports_dir)
        settings.configure_environment()
        _progress_to_stderr()
        from .flows.serving import serve_inbox
        from .store.target import open_target

        open_target(options.target).dispose()
        serve_inbox(inbox, options, cron, interval, settle=settle)

    _guarded(body)


review_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Conflicts awaiting review: export them, apply decisions.")
app.add_typer(review_app, name="review")


@review_app.command("export")
def review_export(
    out_file: Annotated[Path, typer.Option("--out", help="CSV to write (UTF-8 with BOM)")]
    = Path("review.csv"),
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
) -> None:
    """Write every open conflict of the target, one row each, with an empty decision column."""
    def body() -> None:
        from .review import export_conflicts

        with _target_engine(target) as engine:
            count = export_conflicts(engine, out_file)
        out.print(f"wrote {out_file}: {count:,} open conflicts; fill in each decision with "
                  "one of its allowed values (assign:<id> or reject; keep or replace for a "
                  "changed website; merge:<id> or separate for a certificate pair), then: "
                  f"icp-migrate review apply {out_file}", highlight=False)

    _guarded(body)


@review_app.command("apply")
def review_apply(
    decisions_file: Annotated[Path, typer.Argument(help="the exported CSV, decisions filled")],
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    by: Annotated[str | None, typer.Option(help="who decided (default: the OS user)")] = None,
    now: Annotated[bool, typer.Option("--now", help="re-run now every run that held records "
                                      "of the decided conflicts, with the sources, cut-off, "
                                      "mapping and reports folder it had")]
    = False,
) -> None:
    """Check the whole file, then record its decisions; the next run loads accordingly."""
    def body() -> Any:
        from .review import apply_decisions, open_conflicts, read_decisions, reruns_for

        with _target_engine(target) as engine:
            # checked before any decision is recorded: a refused --now changes nothing
            decided = read_decisions(decisions_file, open_conflicts(engine))
            reruns = reruns_for(engine, [d.conflict_key for d in decided]) if now else []
            count = apply_decisions(engine, decisions_file, by)
        out.print(f"recorded {count:,} decisions", highlight=False)
        if reruns:
            out.print(f"re-running {len(reruns)} run{'s' if len(reruns) > 1 else ''}: "
                      + ", ".join(run_id for run_id, _ in reruns), highlight=False)
        return reruns if count else None

    for _, recorded in _guarded(body) or []:
        run(sources=recorded.sources, target=target, mapping=recorded.mapping,
            cutoff=recorded.cutoff.isoformat(), dry_run=False, json_summary=None,
            reports_dir=recorded.reports_dir or "reports")


def main() -> None:
    try:
        app()
    except SystemExit as exc:
        sys.exit(exc.code)


if __name__ == "__main__":
    main()
