"""Progress bars of a run on stderr: one rich `Progress` per run, one row per stage.

`icp-migrate run` shows it (`shown`) only when stderr is a terminal; everything else
(serve, tests, CI, pipes, Dask workers, the library) never starts one, and then every call
here is a check of one global and nothing more. Stages are rows keyed by name
(`StageClock.stage` opens them: a stage that runs again, e.g. extract per source, reuses
its row); a stage whose amount is known cheaply gets a total (`expect`) and counts up per
chunk (`advance`, never per record): the load, in rows.

The rows are drawn by rich's refresh thread on the console the CLI logs to, so log lines
printed on that console appear above the bars; `shown` stops the thread on the way out,
errors and Ctrl-C included. The bars are transient: once the run ends only the log lines
and the summary stay.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from .masking import mask_text, printable

DETAIL_CHARS = 32  # a source's label in its row, at most (a row fits 80 columns)


class _Percent(ProgressColumn):
    """`37%` for a row with a total (`expect`) and for a finished stage; nothing for a
    stage still running without one."""

    def render(self, task: Task) -> Text:
        if task.total is None or not (task.fields.get("counted") or task.finished):
            return Text("")
        return Text(f"{task.percentage:>3.0f}%", style="progress.percentage")


class RunProgress:
    """The bars of one run on `console` (a terminal). Thread-safe: Prefect may run a stage
    in a worker thread; rich's Progress locks its own state."""

    def __init__(self, console: Console, refresh_per_second: float = 5) -> None:
        self.bars = Progress(
            SpinnerColumn(finished_text="[green]✓[/green]"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            _Percent(),
            TimeElapsedColumn(),
            console=console, transient=True, redirect_stdout=False,
            refresh_per_second=refresh_per_second)
        self._rows: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def _row(self, name: str) -> TaskID | None:
        return self._rows.get(name)

    def _task(self, row: TaskID) -> Task:
        return next(task for task in self.bars.tasks if task.id == row)

    @contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        """A row for the stage while it runs: a pulsing bar, then full (100%) when it ends;
        a stage that raises keeps its bar where it stopped, marked failed."""
        description = _description(name, _shown(detail))
        with self._lock:
            row = self._rows.get(name)
            if row is None:
                row = self._rows[name] = self.bars.add_task(description, total=None,
                                                            counted=False)
            else:  # a stage run again (extract, normalize per source): its row anew
                self._task(row).total = None  # (reset and update keep a total)
                self.bars.reset(row, completed=0, description=description, counted=False)
        try:
            yield
        except BaseException:
            self.bars.update(row, description=f"{description} [red]failed[/red]")
            self.bars.stop_task(row)
            raise
        total = self._task(row).total
        done = total if total is not None else 1
        self.bars.update(row, total=done, completed=done)
        self.bars.stop_task(row)

    def expect(self, name: str, total: int, unit: str) -> None:
        """The stage's amount: its bar counts up to `total` `unit`s from now on."""
        row = self._row(name)
        if row is not None:
            self.bars.update(row, total=max(total, 0), completed=0, counted=True,
                             description=_description(name, f"{total:,} {escape(unit)}"))

    def advance(self, name: str, amount: int) -> None:
        row = self._row(name)
        if row is not None:
            self.bars.advance(row, amount)


_current: RunProgress | None = None  # the run's bars while `shown` holds them open


def _description(name: str, detail: str) -> str:
    """A row's text: the stage's name, then its detail (markup, escaped) dimmed."""
    return escape(name) + (f" [dim]{detail}[/dim]" if detail else "")


def _shown(text: str) -> str:
    """A source label as the bars show it: masked, printable, at most DETAIL_CHARS."""
    text = printable(mask_text(text))
    if len(text) > DETAIL_CHARS:
        text = "…" + text[-(DETAIL_CHARS - 1):]
    return escape(text)


def wanted(console: Console, *, allowed: bool = True) -> bool:
    """Whether a run shows bars on `console`: `allowed` (no --no-progress, no machine
    output asked for), the console writing to a real terminal (not a pipe, a file, a
    test's capture or a dumb terminal) and not on CI."""
    from .settings import on_ci

    if not allowed or on_ci():
        return False
    try:
        terminal = console.file.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False
    return terminal and not console.is_dumb_terminal


@contextmanager
def shown(console: Console, enabled: bool = True) -> Iterator[RunProgress | None]:
    """The run's bars on `console` while the block runs (None and nothing drawn when not
    `enabled`); the refresh thread stopped and the bars cleared on any way out."""
    global _current
    if not enabled:
        yield None
        return
    bars = RunProgress(console)
    try:
        with bars.bars:
            # rich's refresh thread: Live.stop tells it to end but does not wait for it
            refresher = getattr(bars.bars.live, "_refresh_thread", None)
            _current = bars
            yield bars
    finally:
        _current = None
        if isinstance(refresher, threading.Thread):
            refresher.join(timeout=2)


def stage(name: str, detail: str = "") -> AbstractContextManager[None]:
    """The stage's row while the block runs, when a run shows bars (else nothing)."""
    bars = _current
    return nullcontext() if bars is None else bars.stage(name, detail)


def expect(name: str, total: int, unit: str) -> None:
    """The stage's amount (see RunProgress.expect), when a run shows bars."""
    bars = _current
    if bars is not None:
        bars.expect(name, total, unit)


def advance(name: str, amount: int) -> None:
    """`amount` more done in the stage (once per chunk, never per record)."""
    bars = _current
    if bars is not None:
        bars.advance(name, amount)
