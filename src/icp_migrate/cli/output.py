"""What the CLI prints: the consoles, masked lines, progress logging, and `guarded`, which
turns every error into one line and an exit code, never a traceback."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from .. import settings
from ..errors import IcpMigrateError
from ..masking import mask_text, printable

# piped output (make demo, CI logs) gets room for the tables instead of 80 columns
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)  # one error, one line
DEBUG_ENV = settings.DEBUG_ENV


def shown(text: str) -> str:
    """A message as plain text in a markup line: masked, no markup, no control characters."""
    return escape(printable(mask_text(text)))


def masked_message(record: logging.LogRecord) -> str:
    """The record's message with its text arguments masked; numbers (counts, seconds) are
    the pipeline's own and stay readable."""
    args = record.args
    if not isinstance(args, tuple) or not args:
        return mask_text(record.getMessage())
    masked = tuple(a if isinstance(a, int | float) and not isinstance(a, bool)
                   else mask_text(str(a)) for a in args)
    try:
        return mask_text(str(record.msg)) % masked
    except (TypeError, ValueError):
        return mask_text(record.getMessage())


class ProgressHandler(logging.Handler):
    """Prints each pipeline stage as it ends, with the time since the run started."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.started = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        elapsed = time.perf_counter() - self.started
        err.print(f"[dim]{elapsed:6.1f}s[/dim] {escape(printable(masked_message(record)))}",
                  highlight=False)


def progress_to_stderr() -> None:
    """The pipeline's progress lines (logger `icp_migrate`) on stderr, once."""
    logger = logging.getLogger("icp_migrate")
    logger.setLevel(logging.INFO)
    if not any(isinstance(h, ProgressHandler) for h in logger.handlers):
        logger.addHandler(ProgressHandler())
    logger.propagate = False


def guarded(action: Callable[[], Any]) -> Any:
    """Run a command body; IcpMigrateError and surprises become one line and an exit code."""
    try:
        return action()
    except IcpMigrateError as exc:
        err.print(f"[red]error:[/red] {shown(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception as exc:  # noqa: BLE001 - the promise is: no traceback, ever
        if settings.debug_enabled():  # the traceback, all but its frames (code) masked
            _print_masked_traceback(exc)
            raise typer.Exit(1) from None
        text = str(exc).splitlines()[0] if str(exc) else ""
        err.print(f"[red]internal error:[/red] {exc.__class__.__name__}: {shown(text)} "
                  f"(set {DEBUG_ENV}=1 for details)", highlight=False)
        raise typer.Exit(1) from None


def _print_masked_traceback(exc: Exception) -> None:
    """The traceback on stderr: its frames (code) as they are, every other line masked."""
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
