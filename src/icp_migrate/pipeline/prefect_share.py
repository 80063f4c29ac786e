"""Prefect's own share of a run's wall time, measured rather than guessed: the flow's
run outside its function plus each task call's time outside the task's function. The
flows (flows/) wrap their functions and tasks with it; `icp-migrate run --json-summary`
reports it (bench/ reads it)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from time import perf_counter
from typing import Any


class PrefectClock:
    """Prefect's own share of a run's wall time, measured: the flow's run outside its
    function (creating the flow run, its states, the client's first request) plus each
    task call's time outside the task's function (creating the task run, visiting its
    parameters, its states). What the function bodies do is ours, whatever it is."""

    def __init__(self) -> None:
        self.flow_body = 0.0  # seconds inside the flow's function
        self.task_calls = 0.0  # seconds of the task calls made in this process
        self.task_bodies = 0.0  # of which inside the tasks' functions

    def seconds(self, flow_wall: float) -> float:
        """Prefect's share of a flow run that took `flow_wall` seconds from its call."""
        return flow_wall - self.flow_body + self.task_calls - self.task_bodies

    def flow_function(self, fn: Callable) -> Callable:
        """`fn`, the flow's function, its seconds counted as ours."""
        return self._timed(fn, "flow_body")

    def task_function(self, fn: Callable) -> Callable:
        """`fn`, a task's function, its seconds counted as ours."""
        return self._timed(fn, "task_bodies")

    def _timed(self, fn: Callable, into: str) -> Callable:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - any task's result
            started = perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, into, getattr(self, into) + perf_counter() - started)

        return timed


PREFECT = PrefectClock()  # this process's: the CLI reports it (--json-summary)


class TimedTask:
    """A task whose calls (in this process) PREFECT counts; `submit`, `with_options` and
    the rest are the task's own (a submitted task runs elsewhere: not counted)."""

    def __init__(self, wrapped: Any) -> None:  # noqa: ANN401 - a prefect Task
        self.task = wrapped
        functools.update_wrapper(self, wrapped.fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        started = perf_counter()
        try:
            return self.task(*args, **kwargs)
        finally:
            PREFECT.task_calls += perf_counter() - started

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        wrapped = self.__dict__.get("task")
        if wrapped is None:  # not set yet: an instance being unpickled (a spawned process)
            raise AttributeError(name)
        return getattr(wrapped, name)
