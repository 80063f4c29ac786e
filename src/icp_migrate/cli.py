"""`icp-migrate`: the command line. Every error is one line and an exit code, never a traceback."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from . import settings
from .errors import IcpMigrateError, UsageError
from .masking import mask_text

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Move legacy HiChina ICP filings into one Alibaba Cloud account per entity.")
out = Console()
err = Console(stderr=True, soft_wrap=True)  # one error, one line
DEBUG_ENV = "ICP_MIGRATE_DEBUG"


class _ProgressHandler(logging.Handler):
    """Prints each pipeline stage as it ends, with the time since the run started."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.started = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        elapsed = time.perf_counter() - self.started
        err.print(f"[dim]{elapsed:6.1f}s[/dim] {mask_text(record.getMessage())}",
                  highlight=False)


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a command body; IcpMigrateError and surprises become one line and an exit code."""
    try:
        return action()
    except IcpMigrateError as exc:
        err.print(f"[red]error:[/red] {mask_text(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - the promise is: no traceback, ever
        if os.environ.get(DEBUG_ENV):
            raise
        text = str(exc).splitlines()[0] if str(exc) else ""
        err.print(f"[red]internal error:[/red] {exc.__class__.__name__}: {mask_text(text)} "
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
) -> None:
    """Migrate legacy sources into the target store and print the summary."""
    def body() -> None:
        _check_cutoff(cutoff)
        url = settings.target_url(target)
        if os.environ.get(DEBUG_ENV):
            os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO")
        settings.configure_environment()
        logger = logging.getLogger("icp_migrate")
        logger.setLevel(logging.INFO)
        logger.addHandler(_ProgressHandler())
        logger.propagate = False
        from .mapping import resolve_mapping
        from .readers import preflight
        from .store.target import open_target

        # clear errors in a second, before Prefect starts
        preflight(list(sources), resolve_mapping(mapping) if mapping else None)
        if not dry_run:
            open_target(url).dispose()
        from .flows.migrate import migrate  # Prefect loads only when needed
        from .report_text import print_summary

        summary = migrate(sources=list(sources), target=url, mapping=mapping, cutoff=cutoff,
                          dry_run=dry_run)
        print_summary(out, summary)

    _guarded(body)


def _check_cutoff(cutoff: str) -> None:
    import datetime as dt

    try:
        dt.date.fromisoformat(cutoff)
    except ValueError:
        raise UsageError(f"--cutoff must be a date YYYY-MM-DD, not {cutoff!r}") from None


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


def main() -> None:
    try:
        app()
    except SystemExit as exc:
        sys.exit(exc.code)


if __name__ == "__main__":
    main()
