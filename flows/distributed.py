"""The task runner behind `icp-migrate run --dask ADDRESS|local:N` (see
`icp_migrate.pipeline.distributed`: what runs on the workers, and why they never spill)."""

from __future__ import annotations

from typing import Any

from icp_migrate.pipeline.distributed import runner_options


def dask_runner(spec: str) -> Any:
    """A prefect-dask DaskTaskRunner: a LocalCluster of N worker processes, or an existing
    scheduler."""
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(**runner_options(spec))
