"""The fixed cost's reference: a bare Prefect flow process that imports the same stack as
`icp-migrate run` (pandas, pyarrow, SQLAlchemy, Great Expectations) and runs one empty
task. `bench/run.py` times it as a whole process, beside the demo-sized run."""

from __future__ import annotations

import great_expectations  # noqa: F401 - the stack's import cost is what is measured
import pandas  # noqa: F401
import pyarrow  # noqa: F401
import sqlalchemy  # noqa: F401
from prefect import flow, task


@task
def nothing() -> None:
    return None


@flow(name="bare")
def bare() -> None:
    nothing()


if __name__ == "__main__":
    bare()
