"""A run's report files: read the store, compute the sections, write the pages."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from icp_migrate.reports.data import latest_run_id, read_report_data
from icp_migrate.reports.gx_docs import render_gx_docs
from icp_migrate.reports.html import GX_PAGE, render_report
from icp_migrate.reports.summary_json import render_summary, summary_dict

DEFAULT_REPORTS_DIR = "reports"


@dataclass
class ReportFiles:
    run_id: str
    folder: Path
    index: Path
    summary: Path
    gx: Path
    content: dict[str, Any]  # what summary.json holds


def write_report(engine: Engine, out_dir: str | Path = DEFAULT_REPORTS_DIR,
                 run_id: str | None = None, preview_of: str | None = None) -> ReportFiles:
    """Write `<out_dir>/<run_id>/index.html`, `summary.json` and `gx/index.html`.

    `run_id` None means the latest run. The same store gives the same bytes. `preview_of`:
    the target (display form) a dry run previews; the engine is its scratch target.
    """
    run_id = run_id or latest_run_id(engine)
    data = read_report_data(engine, run_id, preview_of)
    folder = Path(out_dir) / run_id
    files = ReportFiles(run_id=run_id, folder=folder, index=folder / "index.html",
                        summary=folder / "summary.json", gx=folder / GX_PAGE,
                        content=summary_dict(data))
    write_file(files.gx, render_gx_docs(run_id, *data.parts["validation"]))
    write_file(files.summary, render_summary(data, files.content))
    write_file(files.index, render_report(data))
    return files


def write_file(path: Path, content: str | bytes) -> None:
    """Whole or not at all: a reader never sees half a file. Text is written as UTF-8."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
