"""Prefect wiring: the `migrate` flow and its handful of tasks."""
