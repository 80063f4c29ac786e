"""`icp-migrate review`: export the open conflicts, apply the decisions filled in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..wording import plural
from .output import guarded, out
from .run import run
from .store import _to_stdout, target_engine

review_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Conflicts awaiting review: export them, apply decisions.")


@review_app.command("export")
def review_export(
    out_file: Annotated[Path, typer.Option("--out", help="CSV to write (UTF-8 with BOM); "
                                           "- for stdout")]
    = Path("review.csv"),
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
) -> None:
    """Write every open conflict of the target, one row each, with an empty decision column."""
    def body() -> None:
        from ..pipeline.review import conflicts_csv, export_conflicts

        with target_engine(target, read_only=True) as engine:
            if str(out_file) == "-":  # the CSV to stdout, nothing else there
                text, _count = conflicts_csv(engine)
                _to_stdout(("\ufeff" + text).encode("utf-8"))
                return
            count = export_conflicts(engine, out_file)
        out.print(f"wrote {out_file}: {plural(count, 'open conflict')}; fill in each decision with "
                  "one of its allowed values (assign:<id> or reject; keep or replace for a "
                  "changed website; merge:<id> or separate for a certificate pair), then: "
                  f"icp-migrate review apply {out_file}", highlight=False)

    guarded(body)


@review_app.command("apply")
def review_apply(
    decisions_file: Annotated[Path, typer.Argument(help="the exported CSV, decisions filled")],
    target: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the target store")] = None,
    by: Annotated[str | None, typer.Option(help="who decided (default: the OS user)")] = None,
    now: Annotated[bool, typer.Option("--now", help="re-run now every run that held records "
                                      "of the decided conflicts, with the sources, cut-off, "
                                      "mapping and reports folder it had")]
    = False,
) -> None:
    """Check the whole file, then record its decisions; the next run loads accordingly."""
    def body() -> Any:
        from ..pipeline.review import apply_decisions, open_conflicts, read_decisions, reruns_for

        with target_engine(target) as engine:
            # checked before any decision is recorded: a refused --now changes nothing
            decided = read_decisions(decisions_file, open_conflicts(engine))
            reruns = reruns_for(engine, [d.conflict_key for d in decided]) if now else []
            count = apply_decisions(engine, decisions_file, by)
        out.print(f"recorded {plural(count, 'decision')}", highlight=False)
        if reruns:
            out.print(f"re-running {plural(len(reruns), 'run')}: "
                      + ", ".join(run_id for run_id, _ in reruns), highlight=False)
        return reruns if count else None

    for _, recorded in guarded(body) or []:
        run(sources=recorded.sources, target=target, mapping=recorded.mapping,
            cutoff=recorded.cutoff.isoformat(), dry_run=False, json_summary=None,
            reports_dir=recorded.reports_dir or "reports")
