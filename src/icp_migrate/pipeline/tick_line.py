"""The one line an inbox tick writes to stderr (the `serve` operator's view of each tick):
the files taken, the run id, its dispositions and the next tick's time.

    tick 04:10:00: took a.csv, b.jsonl; run 3f2c…: 140 loaded, 2 duplicate, 0 …; next 04:15:00
    tick 04:15:00: no new files; next 04:20:00
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ..masking import printable
from ..wording import plural


def next_tick(scheduled: datetime, interval: float | None, cron: str | None,
              now: datetime | None = None) -> datetime | None:
    """When the next tick is due (the first time of the schedule after `now`, for a tick
    scheduled at `scheduled`; both aware), or None when the schedule is not known (a
    deployment of prefect.yaml)."""
    now = now or datetime.now(UTC)
    if interval:
        step = timedelta(seconds=float(interval))
        late = max(now - scheduled, timedelta(0))
        return scheduled + step * (late // step + 1)
    if cron:
        try:
            from cronsim import CronSim

            return next(CronSim(cron, now.astimezone()))
        except Exception:  # noqa: BLE001 - the time is a courtesy, never a failed tick
            return None
    return None


def tick_line(started: datetime, taken: Iterable[str], outcome: str | None,
              set_aside: dict[str, list[str]], waiting: int, due: datetime | None) -> str:
    """The tick's line: `outcome` is the run's part (`run ID: 3 loaded, …` or `run failed:
    …`); `set_aside` names the files not migrated, by why (`unreadable`, `seen before`)."""
    clock = started.astimezone().strftime("%H:%M:%S")
    names = list(taken)
    parts = [f"took {', '.join(names)}"] if names else []
    if outcome:
        parts.append(outcome)
    for why, files in set_aside.items():
        if files:
            parts.append(f"{why}, set aside: {', '.join(files)}")
    if waiting:
        parts.append(f"{plural(waiting, 'file')} still settling")
    told = "; ".join(parts) if parts else "no new files"
    after = f"; next {due.astimezone().strftime('%H:%M:%S')}" if due else ""
    return f"tick {clock}: {told}{after}"


def run_outcome(run_id: str, dispositions: dict[str, int]) -> str:
    """`run ID: 140 loaded, 2 duplicate, …` (every disposition, zero ones too)."""
    counts = ", ".join(f"{n:,} {name}" for name, n in dispositions.items())
    return f"run {run_id}: {counts}"


def say(line: str) -> None:
    """The line on stderr, inert (no control characters), flushed at once."""
    sys.stderr.write(printable(line) + "\n")
    sys.stderr.flush()
