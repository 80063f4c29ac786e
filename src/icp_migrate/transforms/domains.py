"""Domains: one row per (record, domain), A-label (`xn--…`) with its Unicode form beside it."""

from __future__ import annotations

import re

import idna
import pandas as pd

from .text import map_unique_columns, nfkc

SEPARATORS = r"[;；,，、\s]+"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_ASCII_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
_DOTS = str.maketrans({"。": ".", "．": ".", "｡": "."})


def clean_domain(raw: str) -> tuple[str | None, str | None, str | None]:
    """(A-label, Unicode form, problem) of one legacy domain token."""
    text = nfkc(raw).strip().translate(_DOTS).lower()
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#\\]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]
    text = re.sub(r":\d*$", "", text).rstrip(".")
    if text.startswith("www.") and text.count(".") >= 2:
        text = text[4:]
    if not text:
        return None, None, f"not a domain: {raw[:60]}"
    try:
        if text.isascii():
            if not _ASCII_DOMAIN.match(text):
                return None, None, f"not a domain: {raw[:60]}"
            if "xn--" not in text:
                return text, text, None
        alabel = idna.encode(text, uts46=True).decode("ascii")
        return alabel, idna.decode(alabel), None
    except (idna.IDNAError, UnicodeError, ValueError):
        return None, None, f"not a valid IDNA domain: {raw[:60]}"


def explode_domains(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """From `row_id`, `domains`: (row_id, domain, unicode_domain) rows, and per-row problems.

    A record listing the same domain twice keeps it once; invalid tokens are dropped and
    named in the record's problems (they are warnings: a domain is not an identity key).
    """
    tokens = (frame.set_index("row_id")["domains"].dropna().str.split(SEPARATORS)
              .explode().dropna())
    tokens = tokens[tokens != ""]
    cleaned = map_unique_columns(tokens, clean_domain, ("domain", "unicode_domain", "problem"))
    cleaned.index = tokens.index
    problems = (cleaned["problem"].dropna().groupby(level=0).agg("; ".join)
                if cleaned["problem"].notna().any() else pd.Series(dtype=object))
    good = cleaned[cleaned["domain"].notna()].reset_index()
    good = good.rename(columns={good.columns[0]: "row_id"})
    good = good.drop_duplicates(["row_id", "domain"])[["row_id", "domain", "unicode_domain"]]
    return good.reset_index(drop=True), problems
