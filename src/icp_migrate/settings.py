"""The one place that reads the environment: target URL, debug, CI, lock wait, the user's
mapping folder, records per part of `decide`, the Prefect API, and quiet offline defaults.
Every other module asks here (by a named function)."""

from __future__ import annotations

import os
from pathlib import Path

TARGET_ENV = "ICP_MIGRATE_TARGET"
DEBUG_ENV = "ICP_MIGRATE_DEBUG"
LOCK_WAIT_ENV = "ICP_MIGRATE_LOCK_WAIT"
PREFECT_API_ENV = "PREFECT_API_URL"
MAPPINGS_ENV = "ICP_MIGRATE_MAPPINGS"
PART_RECORDS_ENV = "ICP_MIGRATE_RECORDS_PER_PART"
DEFAULT_TARGET_FILE = "icp_migration.db"
DEFAULT_CUTOFF = "2019-01-01"
DEFAULT_LOCK_WAIT_SECONDS = 600.0

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


def configure_environment(*, prefect_console_in_debug: bool = False) -> None:
    """Set the quiet defaults before Prefect or GX is imported (existing values win).
    `prefect_console_in_debug`: with $ICP_MIGRATE_DEBUG, Prefect's console shows its INFO
    lines instead (what `run` asks for)."""
    if prefect_console_in_debug and debug_enabled():
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO")
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
    use_system_allocator()


def use_system_allocator() -> None:
    """Arrow's buffers from the C library's allocator, which hands freed blocks back to the
    system ($ARROW_DEFAULT_MEMORY_POOL, if set, wins): pyarrow's default (mimalloc) kept
    about 200 MB more at the peak of reading a 500k-record export."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "system") == "system":
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


def quiet_great_expectations() -> None:
    """No GX analytics: called before any GX import anywhere in the process."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", QUIET_DEFAULTS["GX_ANALYTICS_ENABLED"])


def target_url(cli_value: str | None) -> str:
    """`--target`, else $ICP_MIGRATE_TARGET, else a SQLite file in the current folder.

    A plain path (`out.db`) means a SQLite file.
    """
    value = cli_value or os.environ.get(TARGET_ENV) or DEFAULT_TARGET_FILE
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def on_ci() -> bool:
    """$CI set (and not "false" or "0"), as CI services set it: no progress bars there."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def debug_enabled() -> bool:
    """$ICP_MIGRATE_DEBUG set (non-empty): an unexpected error shows its (masked) traceback."""
    return bool(os.environ.get(DEBUG_ENV))


def lock_wait_seconds() -> float:
    """$ICP_MIGRATE_LOCK_WAIT, else 600: how long a run waits for another writer."""
    return float(os.environ.get(LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT_SECONDS))


def user_mappings_dir() -> Path | None:
    """$ICP_MIGRATE_MAPPINGS: a folder of the user's own layout files (*.yaml), added to the
    built-in ones (None: unset or empty)."""
    value = os.environ.get(MAPPINGS_ENV)
    return Path(value).expanduser() if value else None


def records_per_part() -> int | None:
    """$ICP_MIGRATE_RECORDS_PER_PART: a run of more records is decided in parts of about
    this many (rules/parts.py; None: unset, the default of rules.parts.RECORDS_PER_PART).
    Fewer records per part hold less memory at once and take more time."""
    value = os.environ.get(PART_RECORDS_ENV, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        from .errors import UsageError

        raise UsageError(f"${PART_RECORDS_ENV} must be a whole number of records, at least 1;"
                         f" it is {value!r}")
    return number


def prefect_api_url() -> str | None:
    """$PREFECT_API_URL: the Prefect server runs report to (None: none configured)."""
    return os.environ.get(PREFECT_API_ENV) or None


def use_prefect_api(url: str) -> None:
    """Point this process's Prefect client at `url` (a server started for it), polling the
    runner every 2 s unless told otherwise."""
    os.environ[PREFECT_API_ENV] = url
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")


def process_environment() -> dict[str, str]:
    """This process's environment, as a child process inherits it."""
    return dict(os.environ)


def prefect_server_environment() -> dict[str, str]:
    """The environment of a private `prefect server start`: this process's, without an API
    URL, with analytics and UI off and a quick scheduler."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED":
           "false", "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"}
    env.pop(PREFECT_API_ENV, None)
    return env
