"""Prefect's share of a run (pipeline/prefect_share.py): the wrapped tasks still travel to
another process (serve runs its flow in a spawned one, Dask ships tasks to workers)."""

from __future__ import annotations

import cloudpickle

from icp_migrate.flows import tasks
from icp_migrate.pipeline.prefect_share import PrefectClock


def test_a_timed_task_survives_pickling_as_prefect_sends_it():
    again = cloudpickle.loads(cloudpickle.dumps(tasks.snapshot))
    assert again.task.name == "snapshot" and again.name == "snapshot"
    assert callable(again.submit)


def test_the_share_is_the_flow_outside_its_function_plus_the_calls_outside_theirs():
    clock = PrefectClock()
    clock.flow_body, clock.task_calls, clock.task_bodies = 8.0, 5.0, 4.5
    assert clock.seconds(10.0) == 2.5
    timed = clock.task_function(lambda x: x + 1)
    assert timed(1) == 2 and clock.task_bodies > 4.5
