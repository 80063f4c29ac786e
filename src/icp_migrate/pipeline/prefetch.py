"""The first source read while Prefect's API starts.

`icp-migrate run` cannot start its flow before Prefect's ephemeral API answers, which takes
seconds (a server process of its own, on the other core). Meanwhile the first source is
read and normalized, in a thread of this process, by the very function its read task would
call (`stages.read_normalized`); the task then takes those records (waiting for the read to
end if it must) instead of reading again. The task stays: it is in the flow's run as before, and its
time is what is left of the read. An error of the read is raised by the task, as its own
would be. Only one source, and only what a task asks for by the same source and mapping;
anything else (a re-run, an inbox tick, a distributed run) reads as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..spill import Prepared

Key = tuple[str, str | None]  # (source as given, mapping as given)

_lock = threading.Lock()
_pending: dict[Key, _Read] = {}


class _Read:
    """A read running in a daemon thread (a process may end while it still reads)."""

    def __init__(self, read: Callable[[], Prepared]) -> None:
        self.frame: Prepared | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(read,), daemon=True,
                                       name="icp-migrate-prefetch")
        self.thread.start()

    def _run(self, read: Callable[[], Prepared]) -> None:
        try:
            self.frame = read()
        except BaseException as exc:  # noqa: BLE001 - raised by the task that takes it
            self.error = exc


def prefetch(source: str, mapping: str | None,
             read: Callable[[str, str | None], Prepared]) -> None:
    """Start `read(source, mapping)` in the background (`read`: `stages.read_normalized`)."""
    with _lock:
        _pending[(source, mapping)] = _Read(lambda: read(source, mapping))


def take(source: str, mapping: str | None) -> Prepared | None:
    """The prefetched records of this source and mapping, once (waiting for its read to end),
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
