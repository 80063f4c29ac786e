"""A migrate run's lifecycle, apart from its Prefect wiring: its id, the seconds of each
stage, the target opened once and locked for the run, the run ledger (`runs`: started,
failed) and the report of a failed run.

The flow (`icp_migrate.flows.migrate`) holds one `MigrateRun` in a `with` block:

    run = MigrateRun(target_url, dry_run=..., reports_dir=..., report=tasks.report)
    with run:                              # a failure: the run recorded failed, reported
        with run.clock.stage("snapshot"):
            known = snapshot(run.open_target())   # the engine, then the run lock
        run.record_start(recorded)
        ...
"""

from __future__ import annotations

import logging
import resource
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine

from .. import progress
from ..errors import PlanValidationError
from ..plan import Plan
from ..store.load import fail_run, start_run
from ..store.lock import target_lock
from ..store.scratch import preview_target, scratch_target
from ..store.snapshot import read_snapshot
from ..store.target import database_file, display_url, target_engine
from ..wording import plural
from .summary import PlanCounts, RunSummary

if TYPE_CHECKING:
    from ..run_settings import RunSettings
    from ..validation.plan_suite import PlanCheck

log = logging.getLogger("icp_migrate")
# writes a run's report: (engine, run_id, the GX results by suite, reports folder)
Reporter = Callable[[Engine, str, dict[str, dict], str], Any]


def new_run_id(now: datetime) -> str:
    """Sortable by time, unique across machines."""
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


class StageClock:
    """Seconds per stage, summed over a stage's repeats (extract and normalize run once per
    source); a stage that raises is not counted. Each stage is also a row of the run's
    progress bars, when the run shows them (`icp_migrate.progress`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, int] = {}  # the process's peak so far as each stage ends

    def add(self, name: str, started: float) -> None:
        """Count the time since `started` (a time.perf_counter() value) under `name`."""
        self.seconds[name] = self.seconds.get(name, 0.0) + round(
            time.perf_counter() - started, 3)
        self.note_peak(name)

    def note_peak(self, name: str) -> None:
        """The process's peak resident memory so far, as stage `name` ends."""
        self.peak_rss_mb[name] = peak_rss_mb()

    @contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        """Time the block as stage `name` (`detail`: what its progress row adds, e.g. the
        source being extracted)."""
        started = time.perf_counter()
        with progress.stage(name, detail):
            yield
        self.add(name, started)


def peak_rss_mb() -> int:
    """This process's peak resident set size so far, in MB: Linux's VmHWM, the peak of
    this process's own memory. Not getrusage's ru_maxrss, which Linux carries over an
    exec from the process that started it: a run started by a process that once held
    3 GB reports 3 GB, whatever it used itself. Elsewhere, ru_maxrss."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)  # KiB
    except OSError:
        pass
    scale = 1024 if sys.platform.startswith("linux") else 1024 * 1024  # KiB; macOS bytes
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale)


def open_engine(target: str, dry_run: bool,
                init: bool = False) -> AbstractContextManager[Engine | None]:
    """The store's engine for the run (the one an inbox tick holds open, if it does). A dry
    run's: None on a SQLite file that does not exist, else its preview target (one
    transaction, rolled back at the end: nothing of the run, nor a schema created or
    upgraded for it, stays). `init`: our tables may be made beside other tables."""
    if not dry_run:
        return target_engine(target, init=init)
    file = database_file(target)
    if file is not None and not Path(file).exists():
        return nullcontext(None)
    return preview_target(target, init=init)


def known_state(engine: Engine | None) -> Plan:
    """What the store holds (an empty plan when there is no store yet)."""
    return Plan() if engine is None else read_snapshot(engine)


def failure_reason(exc: BaseException) -> str:
    """What the runs row keeps of a run's error: its first line, at most 500 characters."""
    text = str(exc)
    return text.splitlines()[0][:500] if text else exc.__class__.__name__


class MigrateRun:
    """One run against its target. As a context manager: on leaving, the target is closed
    (the lock, then the engine); a run leaving on an error after the target was opened and
    locked is recorded `failed` and still gets its report (`<reports_dir>/<run_id>/`)."""

    def __init__(self, target: str, *, dry_run: bool, reports_dir: str,
                 report: Reporter, sources: list[str] | None = None,
                 init: bool = False) -> None:
        self.target = target
        self.init = init  # `--init`: our tables beside other tables
        self.sources = sources or []  # as recorded (a dry run's preview shows them)
        self.dry_run = dry_run
        self.reports_dir = reports_dir
        self.started = datetime.now(UTC)
        self.run_id = new_run_id(self.started)
        self.clock = StageClock()
        self.validations: dict[str, dict] = {}  # suite name -> GX result, kept with the report
        self.engine: Engine | None = None
        self.changes: pd.DataFrame | None = None  # what the plan changes (rules/preview.py)
        self._report = report
        self._held = ExitStack()  # the engine, then the run lock: released in reverse order

    @property
    def shown_target(self) -> str:
        """The target's URL without its password."""
        return display_url(self.target)

    def open_target(self) -> Engine | None:
        """Open the target once for the run and take its run lock (a dry run's too: its
        preview writes, then rolls back); None for a dry run on a SQLite file that does not
        exist yet."""
        engine = self._held.enter_context(open_engine(self.target, self.dry_run, self.init))
        if engine is not None:
            try:
                self._held.enter_context(target_lock(engine))
            except Exception:
                self._held.close()
                raise
            log.info("lock: %s", "no other run writes to the target during this preview"
                     if self.dry_run else "this run is the only one writing to the target")
        self.engine = engine
        return engine

    def record_start(self, recorded: RunSettings | None) -> None:
        """The run's `running` row with its settings (nothing for a dry run)."""
        if self.engine is not None and recorded is not None:
            start_run(self.engine, self.run_id, self.started, recorded.sources, recorded)

    @contextmanager
    def loading(self) -> Iterator[Engine]:
        """Where the run loads its plan and builds its report: the target; for a dry run, a
        scratch target (`store/scratch.py`: the target's data in a transaction rolled back
        after the report, or an empty store when there is none) holding the run's row."""
        if not self.dry_run:
            assert self.engine is not None, "open_target() first"
            yield self.engine
            return
        with scratch_target(self.engine) as engine:
            log.info("preview: load and report in a transaction rolled back after the report")
            start_run(engine, self.run_id, self.started, self.sources)
            yield engine

    def summary(self, counts: PlanCounts, check: PlanCheck, changes: dict[str, int],
                rows: pd.DataFrame | None = None) -> RunSummary:
        """The run's summary (its `seconds` filled as the later stages end) from its plan's
        counts and what it changes in the target (`changes`: counts by kind; `rows`: the
        changes themselves, kept for a dry run's preview); raises PlanValidationError when
        a plan-level expectation failed."""
        status = "dry_run" if self.dry_run else "completed"
        summary = counts.summary(self.run_id, self.shown_target, status)
        summary.seconds = self.clock.seconds
        summary.peak_rss_mb = self.clock.peak_rss_mb
        self.changes = rows
        summary.changes = changes
        if not check.success:
            summary.status = "failed"
            summary.failed_expectations = list(check.failed)
            raise PlanValidationError("plan-level expectations failed, nothing loaded: "
                                      + "; ".join(check.failed))
        return summary

    def write_preview(self) -> Path | None:
        """A dry run's preview: every change the plan would make, one CSV row each
        (`<reports_dir>/<run_id>/preview.csv`; ids whole, no personal data)."""
        if self.changes is None:
            return None
        folder = Path(self.reports_dir) / self.run_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "preview.csv"
        self.changes.to_csv(path, index=False, encoding="utf-8")
        log.info("preview: %s, written to %s", plural(len(self.changes), "change"), path)
        return path

    def __enter__(self) -> MigrateRun:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if isinstance(exc, Exception) and self.engine is not None and not self.dry_run:
                self._record_failure(self.engine, exc)
        finally:
            self._held.close()

    def _record_failure(self, engine: Engine, exc: Exception) -> None:
        try:  # a read-only or vanished target fails these too: report the first error
            fail_run(engine, self.run_id, failure_reason(exc))
            self._report(engine, self.run_id, self.validations, self.reports_dir)
        except Exception as report_exc:  # noqa: BLE001 - the run's own error matters more
            log.warning("failed run %s not recorded or reported: %s", self.run_id, report_exc)
