"""Domains: one row per (record, domain), A-label (`xn--…`) with its Unicode form beside it."""

from __future__ import annotations

import re

import idna
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .idn import cjk_forms
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
        forms = cjk_forms(text)  # the common shape; idna for the rest
        if forms is not None:
            return forms[0], forms[1], None
        alabel = idna.encode(text, uts46=True).decode("ascii")
        return alabel, idna.decode(alabel), None
    except (idna.IDNAError, UnicodeError, ValueError):
        return None, None, f"not a valid IDNA domain: {raw[:60]}"


def explode_domains(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """From `row_id`, `domains`: (row_id, domain, unicode_domain) rows, and per-row problems.

    A record listing the same domain twice keeps it once; invalid tokens are dropped and
    named in the record's problems (they are warnings: a domain is not an identity key).
    """
    tokens = split_tokens(frame["row_id"], frame["domains"])
    cleaned = clean_domains(tokens)
    problems = (cleaned["problem"].dropna().groupby(level=0).agg("; ".join)
                if cleaned["problem"].notna().any() else pd.Series(dtype=object))
    good = cleaned[cleaned["domain"].notna()].reset_index()
    good = good.rename(columns={good.columns[0]: "row_id"})
    good = good.drop_duplicates(["row_id", "domain"])[["row_id", "domain", "unicode_domain"]]
    return good.reset_index(drop=True), problems


# Python's `\s` (the characters str.isspace accepts), spelled out for RE2, whose `\s` is
# ASCII only; tests check the two sets agree.
SPACE_CLASS = (r"\x{0009}-\x{000d}\x{001c}-\x{0020}\x{0085}\x{00a0}\x{1680}\x{2000}-\x{200a}"
               r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}")
_RE2_SEPARATORS = f"[;；,，、{SPACE_CLASS}]+"
_RE2_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# the ASCII steps of clean_domain, in its order: scheme, path, user, port, trailing dots
_RE2_STEPS = (r"^[a-z][a-z0-9+.\-]*://", r"[/?#\\].*$", r"^.*@", r":[0-9]*$", r"\.+$")


def split_tokens(row_ids: pd.Series, domains: pd.Series) -> pd.Series:
    """Each record's domain tokens (split on SEPARATORS, blanks dropped), indexed by row_id."""
    text = pa.array(domains.astype(object).to_numpy(), type=pa.large_string(), from_pandas=True)
    parts = pc.split_pattern_regex(text, _RE2_SEPARATORS)
    owners = pc.list_parent_indices(parts).to_numpy()
    flat = pc.list_flatten(parts)
    keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
    values = flat.to_numpy(zero_copy_only=False)[keep]
    index = pd.Index(row_ids.to_numpy()[owners[keep]], name=row_ids.name)
    return pd.Series(values, index=index, dtype=object, name=domains.name)


def clean_domains(tokens: pd.Series) -> pd.DataFrame:
    """clean_domain over a column: domain, unicode_domain, problem (object, None if none).

    ASCII tokens take a vectorised path (pyarrow) that repeats clean_domain's ASCII steps;
    a token it cannot settle as a valid plain domain (non-ASCII, `xn--`, invalid) goes to
    clean_domain itself, so every result is clean_domain's.
    """
    names = ("domain", "unicode_domain", "problem")
    values = tokens.to_numpy(dtype=object)
    arr = pa.array(values, type=pa.large_string())
    ascii_ = pc.string_is_ascii(arr)
    text = pc.utf8_lower(pc.if_else(ascii_, arr, ""))
    for pattern in _RE2_STEPS:
        text = pc.replace_substring_regex(text, pattern, "")
    www = pc.and_(pc.starts_with(text, "www."), pc.greater_equal(pc.count_substring(text, "."), 2))
    text = pc.if_else(www, pc.utf8_slice_codeunits(text, 4), text)
    length = pc.utf8_length(text)
    settled = pc.and_(pc.and_(ascii_, pc.and_(pc.greater_equal(length, 1),
                                                pc.less_equal(length, 253))),
                      pc.and_(pc.match_substring_regex(text, rf"^{_RE2_LABEL}(?:\.{_RE2_LABEL})+$"),
                              pc.invert(pc.match_substring(text, "xn--"))))
    fast = settled.to_numpy(zero_copy_only=False)
    domain = np.full(len(values), None, dtype=object)
    domain[fast] = text.to_numpy(zero_copy_only=False)[fast]
    columns = {"domain": domain, "unicode_domain": domain.copy(),
               "problem": np.full(len(values), None, dtype=object)}
    if not fast.all():
        slow = map_unique_columns(pd.Series(values[~fast]), clean_domain, names)
        for name in names:
            columns[name][~fast] = slow[name].to_numpy()
    return pd.DataFrame(columns, index=tokens.index)
