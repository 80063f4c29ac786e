"""What the target store holds: `show`, `report` (a past run's report) and `plan export`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import settings
from ..errors import UsageError
from ..wording import plural
from .output import guarded, out


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

        print_store(out, settings.target_url(target), limit)

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
        out.print(f"wrote {files.index} and {files.summary.name}", highlight=False)

    guarded(body)


plan_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="The account plan held by the target store.")


@plan_app.command("export")
def plan_export(
    fmt: Annotated[str, typer.Option("--format", help="csv (UTF-8 with BOM) or json")] = "csv",
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write account_plan.* to")]
    = Path("."),
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
) -> None:
    """Write the import team's worklist: one entry per planned account."""
    def body() -> None:
        from ..reports.plan_export import FORMATS, export_plan

        if fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        with target_engine(target, read_only=True) as engine:
            path, count = export_plan(engine, out_dir, fmt)
        out.print(f"wrote {path}: {plural(count, 'account')}", highlight=False)

    guarded(body)
