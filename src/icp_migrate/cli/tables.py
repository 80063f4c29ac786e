"""The run summary and the store overview as terminal tables (certificates masked, ids
whole)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..masking import mask, mask_text, printable
from ..pipeline.summary import RunSummary


def print_summary(console: Console, summary: RunSummary) -> None:
    title = Text(printable(f"run {summary.run_id}: {summary.status} → {summary.target}"))
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("")
    table.add_column("count", justify="right")
    for source, count in summary.records_by_source.items():
        table.add_row(Text(printable(f"read from {source}")), f"{count:,}")
    table.add_row("[bold]records in[/bold]", f"[bold]{summary.records_in:,}[/bold]")
    for name, count in summary.dispositions.items():
        table.add_row(f"  {name}", f"{count:,}")
    table.add_row("entities", f"{summary.entities:,}")
    for kind, count in summary.accounts.items():
        table.add_row(f"accounts: {kind}", f"{count:,}")
    table.add_row("websites", f"{summary.websites:,}")
    table.add_row("domains", f"{summary.domains:,}")
    table.add_row("websites with several domains (follow-up)",
                  f"{summary.multi_domain_websites:,}")
    table.add_row("records with warnings", f"{summary.warnings:,}")
    console.print(table)
    changed = {kind: n for kind, n in summary.changes.items() if n}
    if summary.changes:
        verb = "would change" if summary.status == "dry_run" else "changed"
        told = ", ".join(f"{kind} {n:,}" for kind, n in changed.items()) or "nothing"
        console.print(Text(printable(f"the target {verb}: {told}")))
    if summary.seconds:
        console.print("stage seconds: " + ", ".join(f"{k} {v:.2f}"
                                                    for k, v in summary.seconds.items()))


def print_store(console: Console, url: str, limit: int) -> None:
    from ..store.overview import first_accounts, table_counts
    from ..store.runs import recent_runs
    from ..store.target import display_url, open_target

    engine = open_target(url, read_only=True)
    try:
        with engine.connect() as conn:
            counts = Table(title=Text(printable(f"target {display_url(url)}")),
                           header_style="bold")
            counts.add_column("table")
            counts.add_column("rows", justify="right")
            for name, n in table_counts(conn).items():
                counts.add_row(name, f"{n:,}")
            console.print(counts)
            runs = recent_runs(conn, 5)
            console.print(_table("latest runs", runs[[
                "run_id", "status", "records_in", "loaded", "duplicate", "out_of_scope",
                "quarantined", "needs_review"]]))
            console.print(_table("latest runs: settings", _run_settings(runs)))
            accounts = first_accounts(conn, limit)
            accounts["cert_number"] = accounts["cert_number"].map(mask)
            # a Boolean column comes back 0/1 from SQLite: shown true/false like any flag
            accounts["real_name"] = accounts["real_name"].map(
                lambda v: v if pd.isna(v) else bool(v))
            console.print(_table(f"accounts (first {limit})", accounts))
    finally:
        engine.dispose()


def _run_settings(frame: pd.DataFrame) -> pd.DataFrame:
    """Cut-off, mapping (file, built-in name, or detected per source) and sources; paths
    masked like any text (a file name may hold a certificate number)."""
    def sources(value: object) -> str:
        return "" if pd.isna(value) else ", ".join(mask_text(s) for s in json.loads(str(value)))

    recorded = frame["cutoff"].notna()  # runs from before settings were recorded: blank
    mapping = frame["mapping_path"].fillna(frame["mapping_name"]).map(
        lambda v: "detected" if pd.isna(v) else mask_text(str(v))).where(recorded, "")
    cutoff = frame["cutoff"].map(lambda v: "" if pd.isna(v) else str(v)[:10])
    return pd.DataFrame({"run_id": frame["run_id"], "cutoff": cutoff, "mapping": mapping,
                         "sources": frame["sources"].map(sources)})


def _table(title: str, frame: pd.DataFrame) -> Table:
    table = Table(title=title, header_style="bold")
    for column in frame.columns:
        if str(column).endswith("_id"):  # ids are pasted into the next command: never cut
            width = max([len(str(column)), *(len(str(v)) for v in frame[column].dropna())])
            table.add_column(str(column), no_wrap=True, min_width=width)
        else:
            table.add_column(str(column))
    for row in frame.itertuples(index=False):
        # legacy names may hold markup or control characters: show them as inert text
        table.add_row(*[Text(printable(cell_text(v))) for v in row])
    return table


def cell_text(value: object) -> str:
    """A table cell's text: blank for a missing value, `true`/`false` for a flag."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return "" if pd.isna(value) else str(value)
