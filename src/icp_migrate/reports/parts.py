"""What the report's sections share: the lists' limits, Capped lists, plain values for
HTML and JSON, and the notes a cut list carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from icp_migrate.masking import mask_text
from icp_migrate.reports.page import note

LIST_ROWS = 200  # rows of each list section (members split, conflicts, …); totals count all
ITEMS_PER_ROW = 20  # names, member ids or domains listed in one row; its count says all
SAMPLES_PER_REASON = 3  # masked sample records per quarantine reason


@dataclass
class Capped:
    """The first LIST_ROWS rows of a list, in the report's order, and how many it has."""

    rows: pd.DataFrame
    total: int


def capped(part: Capped, shape) -> Capped:  # noqa: ANN001 - a frame -> frame function
    """`part` with its rows shaped for display (masked, plain values)."""
    rows = shape(part.rows.reset_index(drop=True))
    return Capped(rows.reset_index(drop=True), int(part.total))


def lists(frame: pd.DataFrame, key: str, value: str) -> dict[str, list]:
    """Each key's values as a list, in the frame's order."""
    out: dict[str, list] = {}
    for k, v in zip(frame[key], frame[value], strict=True):
        out.setdefault(k, []).append(v)
    return out


def text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def nullable(value: object) -> object:
    return None if value is None or (isinstance(value, float) and value != value) else value


def masked(value: object) -> str:
    """A reason or warning as shown: certificate and phone numbers masked."""
    shown = text(value)
    return mask_text(shown) if shown else ""


# -- HTML --------------------------------------------------------------------------------

def shown_note(part: Capped, what: str, order: str) -> str:
    """`Showing 200 of 12,345 members (most entities first).` when the list is cut."""
    if part.total <= len(part.rows):
        return ""
    return note(f"Showing {len(part.rows):,} of {part.total:,} {what} ({order}).")


def more(items: list, count: int) -> list:
    """A cell's list, with how many more there are when the row lists only the first."""
    rest = int(count) - len(items)
    return [*items, f"… and {rest:,} more"] if rest > 0 else list(items)


# -- JSON --------------------------------------------------------------------------------

def capped_json(part: Capped) -> dict[str, Any]:
    return {"total": part.total, "rows": records(part.rows)}


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def plain(value: Any) -> Any:
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
