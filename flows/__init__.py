"""Prefect wiring only: the `migrate` and `migrate-inbox` flows, their tasks, the serve loop
and the Dask task runner. Installed as `icp_migrate.flows` (pyproject.toml maps this folder
into the package); what the flows and tasks do is the library's (`icp_migrate.pipeline`)."""
