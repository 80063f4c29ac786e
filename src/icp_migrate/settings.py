"""The one place that picks the environment: target URL, and quiet offline defaults."""

from __future__ import annotations

import os
from pathlib import Path

TARGET_ENV = "ICP_MIGRATE_TARGET"
DEFAULT_TARGET_FILE = "icp_migration.db"
DEFAULT_CUTOFF = "2019-01-01"

# Offline and quiet unless the user says otherwise: no telemetry, no network, a patient
# ephemeral Prefect API (its first start on a fresh PREFECT_HOME can exceed 20 s).
QUIET_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # Prefect prints task failures with tracebacks; the CLI reports errors in one line
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def configure_environment() -> None:
    """Set the quiet defaults before Prefect or GX is imported (existing values win)."""
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)


def target_url(cli_value: str | None) -> str:
    """`--target`, else $ICP_MIGRATE_TARGET, else a SQLite file in the current folder.

    A plain path (`out.db`) means a SQLite file.
    """
    value = cli_value or os.environ.get(TARGET_ENV) or DEFAULT_TARGET_FILE
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser()}"
