"""`records export`: every record of one disposition in a run, as CSV (UTF-8 with BOM).

One row per record in the run's record order: where it is (`source`, and `locator`, the
physical line as an editor shows it, or the legacy row's key), its member and website
filing number, its disposition, reasons and warnings (masked: free text may quote a
certificate or phone number), the entity it went to and the conflict it waits on.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from icp_migrate.canonical import DISPOSITIONS
from icp_migrate.errors import TargetError, UsageError
from icp_migrate.masking import mask_text
from icp_migrate.reports.build import write_file
from icp_migrate.reports.plan_export import csv_bytes
from icp_migrate.store.exports import RECORD_COLUMNS, read_run_records
from icp_migrate.store.target import display_url


def check_disposition(disposition: str) -> str:
    if disposition not in DISPOSITIONS:
        raise UsageError(f"--disposition must be one of {'|'.join(DISPOSITIONS)}, "
                         f"not {disposition!r}")
    return disposition


def export_records(engine: Engine, disposition: str, run_id: str | None,
                   out: Path | None) -> tuple[str, bytes, int]:
    """The CSV of the run's (default: the latest run's) records of `disposition`, written
    to `out` unless None; returns the run id, the bytes and the number of records."""
    check_disposition(disposition)
    chosen, frame = read_run_records(engine, disposition, run_id)
    if chosen is None or frame is None:
        where = display_url(engine.url)
        if run_id is None:
            raise TargetError(f"no run recorded in {where}")
        raise UsageError(f"no run {run_id!r} in {where}")
    frame = frame[list(RECORD_COLUMNS)].astype(object)
    frame = frame.where(frame.notna(), None)
    masked = {RECORD_COLUMNS.index("reasons"), RECORD_COLUMNS.index("warnings")}
    rows = [[mask_text(str(v)) if i in masked and v is not None else v
             for i, v in enumerate(row)] for row in frame.itertuples(index=False)]
    data = csv_bytes(RECORD_COLUMNS, rows)
    if out is not None:
        write_file(out, data)
    return chosen, data, len(frame)
