"""`icp-migrate`: the command line. Every error is one line and an exit code, never a
traceback (`output.guarded`). This module holds the app and its command table; each
command lives in the module named after it."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
import typer.main

from .. import __version__
from ..heap import one_arena
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
app.add_typer(store.records_app, name="records")
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


_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH"}


def _plain_help(command: Any) -> None:
    """Help without typer's type column (`<bool>`, `<str>`) and `{ARG}` braces: a flag shows
    nothing, an option its metavar (or its type, as click names it), an argument its name."""
    for param in [*command.params, command.get_help_option(typer.Context(command))]:
        if param is None:
            continue
        if param.param_type_name == "option" and param.metavar is None:
            kind = param.bare_type() if hasattr(param, "bare_type") else "text"
            param.metavar = "" if param.is_flag else _TYPE_NAMES.get(kind, kind.upper())
        elif param.param_type_name == "argument":
            name = (param.metavar or str(param.name)).upper()
            shown = name + ("..." if param.nargs != 1 else "")
            param.metavar = name
            vars(param).update(display_type_rich=lambda ctx: None,
                               _usage_display_name=lambda shown=shown: shown)
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


def main() -> None:
    one_arena()  # before any thread starts (heap.py: about 0.65 GB less at a 1M run's peak)
    command = typer.main.get_command(app)
    try:
        _plain_help(command)
    except Exception:  # noqa: BLE001 - help text polish must never stop a command
        pass
    try:
        command()
    except SystemExit as exc:
        _exit(exc.code)
    _exit(0)


def _exit(code: object) -> None:
    """End the process once everything a command owes is done, without the interpreter's
    teardown of its modules (about a second once pandas, Prefect and Great Expectations are
    imported, on every command). First what a normal exit does that matters: Prefect's
    workers send their last logs and events, non-daemon threads end (`threading._shutdown`,
    the interpreter's own first step of an exit), the atexit handlers run (logging's
    flush, Prefect's server stop, temporary folders removed), and stdout and stderr are
    flushed. Then `os._exit` with the code `sys.exit` would give; any surprise on the way
    falls back to that normal exit."""
    try:
        import atexit
        import os
        import threading

        threading._shutdown()  # type: ignore[attr-defined]  # noqa: SLF001
        atexit._run_exitfuncs()  # noqa: SLF001
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if not isinstance(code, int) and code is not None:
            print(code, file=sys.stderr)  # as sys.exit("text") prints it
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - the normal exit instead
        sys.exit(code)  # type: ignore[arg-type]
    os._exit(status)
