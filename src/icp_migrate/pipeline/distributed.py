"""Scale-out on Dask, `icp-migrate run --dask ADDRESS|local:N`: the spec checked, and the
options of the task runner the flow runs on (`icp_migrate.flows.distributed`).

Only the per-source work (extract, normalize, record-level expectations) runs on the
workers; grouping, planning, plan validation and loading stay in the flow's process, on
compact frames. Workers hold personal data in memory only: spilling to disk is off.
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError

LOCAL_PREFIX = "local:"
# Workers keep what they hold in memory: a spilled frame would put certificate numbers on
# the worker's disk. (Set the same in a real cluster's worker configuration.)
NO_SPILL = {"distributed.worker.memory.target": False,
            "distributed.worker.memory.spill": False}


def check_spec(spec: str) -> None:
    """`local:N` (N >= 1) or a scheduler address such as `tcp://10.0.0.5:8786`."""
    if spec.startswith(LOCAL_PREFIX):
        workers = spec[len(LOCAL_PREFIX):]
        if not workers.isdigit() or int(workers) < 1:
            raise UsageError(f"--dask local:N needs a number of workers >= 1, not {spec!r}")
    elif "://" not in spec and ":" not in spec:
        raise UsageError(f"--dask wants a scheduler address (tcp://HOST:PORT) or local:N, "
                         f"not {spec!r}")


def runner_options(spec: str) -> dict[str, Any]:
    """The DaskTaskRunner's arguments for a checked spec: a LocalCluster of N worker
    processes, or an existing scheduler; Dask's configuration set to never spill."""
    import dask

    check_spec(spec)
    dask.config.set(NO_SPILL)
    if spec.startswith(LOCAL_PREFIX):
        return {"cluster_class": "distributed.LocalCluster",
                "cluster_kwargs": {"n_workers": int(spec[len(LOCAL_PREFIX):]),
                                   "threads_per_worker": 1, "processes": True,
                                   "dashboard_address": None}}
    return {"address": spec}
