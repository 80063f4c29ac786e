"""Plain text in the Prefect markdown artifact."""

from __future__ import annotations


def md(text: object) -> str:
    """Plain text in markdown: no markup, no table breaks, no raw HTML."""
    value = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for char in "<>*_`[]":
        value = value.replace(char, "\\" + char)
    return value
