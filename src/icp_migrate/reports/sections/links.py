"""How the run's records joined their entities (`entity_links`): loaded and duplicate
records by link kind, and the loaded ones joined without a valid certificate of their own
listed, for a person to check."""

from __future__ import annotations

from typing import Any

import pandas as pd

from icp_migrate.canonical import LINK_KINDS
from icp_migrate.masking import mask
from icp_migrate.reports.artifact_text import md
from icp_migrate.reports.page import note, section, table
from icp_migrate.reports.parts import Capped, capped, capped_json, records, shown_note, text
from icp_migrate.reports.section import Run, Section
from icp_migrate.store.report_lists import NO_VALID_CERTIFICATE
from icp_migrate.store.report_queries import ReportQueries
from icp_migrate.transforms.certificates import KEY_PREFIX

RISKY_COLUMNS = ["source", "locator", "website_filing_number", "entity_id", "link_kind",
                 "link_key", "warnings"]
_CERTIFICATE_KEYS = tuple(sorted({*KEY_PREFIX.values(), "USCC:"}))
_NO_NUMBER = NO_VALID_CERTIFICATE + "certificate number missing"


def read(q: ReportQueries) -> tuple[pd.DataFrame, Capped]:
    """(link_kind, disposition, records: one row a pair; the risky links: RISKY_COLUMNS,
    by row id)."""
    found = q.links()
    rows, total = found["risky"]
    return found["kinds"], Capped(rows.reindex(columns=RISKY_COLUMNS), total)


def by_kind(kinds: pd.DataFrame) -> pd.DataFrame:
    """Every link kind, in LINK_KINDS order: its loaded and duplicate records."""
    counts = {(k, d): int(n) for k, d, n in zip(kinds["link_kind"], kinds["disposition"],
                                                kinds["records"], strict=True)}
    return pd.DataFrame({
        "link_kind": list(LINK_KINDS),
        "loaded": [counts.get((k, "loaded"), 0) for k in LINK_KINDS],
        "duplicate": [counts.get((k, "duplicate"), 0) for k in LINK_KINDS],
    })


def risk(kind: object, warnings: object) -> str:
    """Why a link is risky: `name fallback`, `shared filing number` (no certificate), or
    `invalid certificate, linked by number` (a number or a decision joined it)."""
    if kind == "name_fallback":
        return "name fallback"
    said = text(warnings)
    if said.startswith(NO_VALID_CERTIFICATE) and not said.startswith(_NO_NUMBER):
        return "invalid certificate, linked by number"
    return "shared filing number"


def link_key(key: object) -> str:
    """A link's key, masked only when it is a certificate (`ORG:`, `RID:`, …)."""
    shown = text(key)
    for prefix in _CERTIFICATE_KEYS:
        if shown.startswith(prefix):
            return prefix + mask(shown[len(prefix):])
    return shown


def _risky(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "source": rows["source"].map(text),
        "locator": rows["locator"].map(text),
        "website_filing_number": rows["website_filing_number"].map(text),
        "entity_id": rows["entity_id"].map(text),
        "link_kind": rows["link_kind"].map(text),
        "risk": [risk(k, w) for k, w in zip(rows["link_kind"], rows["warnings"], strict=True)],
        "link_key": rows["link_key"].map(link_key),
    }, columns=["source", "locator", "website_filing_number", "entity_id", "link_kind",
                "risk", "link_key"])


def html(data: tuple[pd.DataFrame, Capped], run: Run) -> str:
    kinds, risky = by_kind(data[0]), capped(data[1], _risky)
    return section("links", f"Entity links (risky: {risky.total:,})", [
        note("How each loaded or duplicate record joined its entity. A record joined by name "
             "and province, by a filing number it shares, or without a valid certificate of "
             "its own is listed below: check it joined the right entity."),
        table(kinds, {"link_kind": "link kind", "loaded": "loaded", "duplicate": "duplicate"}),
        f"<h3>Loaded records joined without a valid certificate ({risky.total:,})</h3>",
        shown_note(risky, "records", "in input order"),
        table(risky.rows, {"source": "source", "locator": "where",
                           "website_filing_number": "website filing number",
                           "entity_id": "entity id", "risk": "joined by",
                           "link_key": "link key"},
              empty="Every loaded record joined its entity by a valid certificate."),
    ])


def json(data: tuple[pd.DataFrame, Capped], run: Run) -> dict[str, Any]:
    return {"links": {"by_kind": records(by_kind(data[0])),
                      "risky": capped_json(capped(data[1], _risky))}}


def markdown(summary: dict[str, Any]) -> list[str]:
    kinds = [f"{md(k['link_kind'])} {k['loaded']:,}" for k in summary["links"]["by_kind"]
             if k["loaded"]]
    return [f"Loaded records by entity link: {', '.join(kinds) or 'none'}; joined without a "
            f"valid certificate (listed in the report): "
            f"**{summary['links']['risky']['total']:,}**.", ""]


SECTION = Section("links", "Links", read, html, json, markdown)
