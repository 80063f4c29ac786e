"""`icp-migrate`: the command line. Every error is one line and an exit code, never a
traceback (`output.guarded`). This module holds the app and its command table; each
command lives in the module named after it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import __version__
from . import explain, review, run, samples, serve, store
from .output import DEBUG_ENV
from .output import guarded as _guarded
from .output import masked_message as _masked_message

__all__ = ["DEBUG_ENV", "_guarded", "_masked_message", "app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Move legacy HiChina ICP filings into one Alibaba Cloud account per entity.")
# the order here is the order of `icp-migrate --help`
app.command()(run.run)
app.command()(samples.samples)
app.command()(store.show)
app.command()(store.report)
app.command()(explain.explain)
app.add_typer(store.plan_app, name="plan")
app.command()(serve.serve)
app.add_typer(review.review_app, name="review")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"icp-migrate {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="print the version and exit")] = False) -> None:
    """Move legacy HiChina ICP filings into one Alibaba Cloud account per entity."""


def main() -> None:
    try:
        app()
    except SystemExit as exc:
        sys.exit(exc.code)
