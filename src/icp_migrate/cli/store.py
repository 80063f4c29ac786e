"""What the target store holds: `show`, `report` (a past run's report), `plan export` and
`records export`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import settings
from ..wording import plural
from .output import guarded
from .output import out as out_console


@contextmanager
def target_engine(target: str | None, read_only: bool = False) -> Iterator[Any]:
    """The target's engine (opened, schema upgraded; or `read_only`: nothing written,
    locked or upgraded), disposed after the command."""
    from ..store.target import target_engine as opened

    with opened(settings.target_url(target), read_only=read_only) as engine:
        yield engine


def show(
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    limit: Annotated[int, typer.Option(help="accounts to list")] = 15,
) -> None:
    """Print what the target store holds: tables, the latest runs, a few accounts."""
    def body() -> None:
        from .tables import print_store

        print_store(out_console, settings.target_url(target), limit)

    guarded(body)


def report(
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="run id (default: the latest)")]
    = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder the run's folder goes in")]
    = Path("reports"),
) -> None:
    """Rebuild a past run's report: <out>/<run_id>/index.html, summary.json, gx/index.html."""
    def body() -> None:
        from ..reports.build import write_report

        with target_engine(target, read_only=True) as engine:
            files = write_report(engine, out_dir, run_id)
        out_console.print(f"wrote {files.index} and {files.summary.name}", highlight=False)

    guarded(body)


def _to_stdout(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


plan_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="The account plan held by the target store.")


@plan_app.command("export")
def plan_export(
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv (UTF-8 with BOM) or json (default: from --out's suffix, else csv)")]
    = None,
    out: Annotated[str, typer.Option(
        "--out", help="FILE (.csv or .json), - for stdout, or a folder to write "
        "account_plan.<format> to")] = ".",
    unmasked_emails: Annotated[bool, typer.Option(
        "--unmasked-emails", help="give each account's administrator e-mail whole (what the "
        "import team types to create the account); masked (z***@example.cn) by default")]
    = False,
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
) -> None:
    """Write the import team's worklist: one row per website filing under its account."""
    def body() -> None:
        from ..reports.plan_export import export_plan, output_of

        output_of(out, fmt)  # a bad --out or --format before the target is opened
        with target_engine(target, read_only=True) as engine:
            path, data, accounts, websites = export_plan(engine, out, fmt,
                                                         unmasked_emails=unmasked_emails)
        if path is None:
            _to_stdout(data)
            return
        out_console.print(f"wrote {path}: {plural(accounts, 'account')}, "
                          f"{plural(websites, 'website filing')}", highlight=False)

    guarded(body)


records_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="The records of a run, by disposition.")


@records_app.command("export")
def records_export(
    disposition: Annotated[str, typer.Option(
        help="quarantined, needs_review, duplicate, out_of_scope or loaded")],
    run_id: Annotated[str | None, typer.Option("--run", help="run id (default: the latest)")]
    = None,
    out: Annotated[str, typer.Option("--out", help="CSV file to write (UTF-8 with BOM); "
                                     "- or none: stdout")] = "-",
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
) -> None:
    """Write every record of a disposition in a run: where it is, its reasons and warnings."""
    def body() -> None:
        from ..reports.records_export import check_disposition, export_records

        check_disposition(disposition)
        path = None if out == "-" else Path(out)
        with target_engine(target, read_only=True) as engine:
            run, data, count = export_records(engine, disposition, run_id, path)
        if path is None:
            _to_stdout(data)
            return
        out_console.print(f"wrote {path}: {plural(count, disposition + ' record')} of run {run}",
                          highlight=False)

    guarded(body)
