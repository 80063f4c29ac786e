"""Masked forms of personal data (certificate and phone numbers) for logs, reports, errors,
and values made safe to print on a terminal."""

from __future__ import annotations

import re

import pandas as pd


def mask(value: object) -> str:
    """`330106199001011234` -> `3301**********1234`; short values keep less."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    n = len(text)
    if n >= 12:
        keep = 4
    elif n >= 6:
        keep = 2
    else:
        return "*" * n
    return text[:keep] + "*" * (n - 2 * keep) + text[-keep:]


def mask_series(values: pd.Series) -> pd.Series:
    return values.map(mask, na_action="ignore")


# Runs of 6+ digits/letters mixing digits (ID, USCC, org code, phone) inside free text.
_NUMBERISH = re.compile(r"(?<![0-9A-Za-z])(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{6,}(?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    """Mask every certificate- or phone-like token in a message."""
    return _NUMBERISH.sub(lambda m: mask(m.group(0)), text)


def printable(text: str) -> str:
    """Control and format characters as escapes (`\\x1b`, `\\u202e`): a printed value can
    neither restyle the terminal nor reorder the line it is shown on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
