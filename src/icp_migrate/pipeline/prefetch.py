"""The first source read while Prefect's API starts.

`icp-migrate run` cannot start its flow before Prefect's ephemeral API answers, which takes
seconds (a server process of its own, on the other core). Meanwhile the first source is
read, in a thread of this process, by the very function its extract task would call
(`stages.extract_source`); the task then takes that frame (waiting for the read to end if it
must) instead of reading again. The task stays: it is in the flow's run as before, and its
time is what is left of the read. An error of the read is raised by the task, as its own
would be. Only one source, and only what a task asks for by the same source and mapping;
anything else (a re-run, an inbox tick, a distributed run) reads as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pandas as pd

Key = tuple[str, str | None]  # (source as given, mapping as given)

_lock = threading.Lock()
_pending: dict[Key, _Read] = {}


class _Read:
    """A read running in a daemon thread (a process may end while it still reads)."""

    def __init__(self, read: Callable[[], pd.DataFrame]) -> None:
        self.frame: pd.DataFrame | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(read,), daemon=True,
                                       name="icp-migrate-prefetch")
        self.thread.start()

    def _run(self, read: Callable[[], pd.DataFrame]) -> None:
        try:
            self.frame = read()
        except BaseException as exc:  # noqa: BLE001 - raised by the task that takes it
            self.error = exc


def prefetch(source: str, mapping: str | None,
             read: Callable[[str, str | None], pd.DataFrame]) -> None:
    """Start `read(source, mapping)` in the background (`read`: `stages.extract_source`)."""
    with _lock:
        _pending[(source, mapping)] = _Read(lambda: read(source, mapping))


def take(source: str, mapping: str | None) -> pd.DataFrame | None:
    """The prefetched frame of this source and mapping, once (waiting for its read to end),
    or None when none was started. Raises what the read raised."""
    with _lock:
        pending = _pending.pop((source, mapping), None)
    if pending is None:
        return None
    pending.thread.join()
    if pending.error is not None:
        raise pending.error
    return pending.frame


def forget() -> None:
    """Drop what no task took (a run that failed before its first extract)."""
    with _lock:
        _pending.clear()
