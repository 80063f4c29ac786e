"""A-label and Unicode forms of the Chinese domains legacy data holds, without `idna`'s cost.

The common-shape step of domains.clean_domain (one implementation with a fallback).
`idna.encode(..., uts46=True)` + `idna.decode` cost ~0.3 ms a domain (a million records:
about a minute). For the common shape, labels of CJK Unified Ideographs and ASCII letters
and digits, every check they make is known to pass: the ideographs are PVALID in IDNA 2008
and valid (unmapped) in UTS 46, left-to-right, NFC-stable and never combining. Such a
domain's A-label is `xn--` + Punycode per label and its Unicode form is itself. Anything
else (another script, a hyphen, a length limit near) returns None: clean_domain then asks
`idna`, the fallback for those rare values. tests/test_domains.py proves the two agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

# CJK Unified Ideographs (the basic block), plus ASCII letters and digits.
_CJK_LABEL = re.compile(r"[a-z0-9\u4e00-\u9fff]+")
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_LABEL = 63
MAX_DOMAIN = 253


def cjk_forms(text: str) -> tuple[str, str] | None:
    """(A-label form, Unicode form) of a lower-case domain, or None when `idna` must decide.

    `text` holds U-labels (non-ASCII) or A-labels (`xn--…`) or plain ASCII labels.
    """
    if not text or len(text) > MAX_DOMAIN:
        return None
    alabels: list[str] = []
    ulabels: list[str] = []
    for label in text.split("."):
        if label.isascii():
            if label.startswith("xn--"):
                decoded = _decode(label)
                if decoded is None:
                    return None
                alabels.append(label)
                ulabels.append(decoded)
                continue
            if label[2:4] == "--" or not _LDH_LABEL.fullmatch(label):
                return None
            alabels.append(label)
            ulabels.append(label)
            continue
        if not _CJK_LABEL.fullmatch(label):
            return None
        encoded = _alabel(label)
        if len(encoded) > MAX_LABEL:
            return None
        alabels.append(encoded)
        ulabels.append(label)
    alabel = ".".join(alabels)
    if len(alabel) > MAX_DOMAIN:
        return None
    return alabel, ".".join(ulabels)


@lru_cache(maxsize=1 << 14)  # top-level labels (中国, 公司) repeat
def _alabel(label: str) -> str:
    return "xn--" + punycode(label)


@lru_cache(maxsize=1 << 14)
def _decode(label: str) -> str | None:
    """The U-label of a canonical A-label of the fast shape, else None."""
    body = label[4:]
    if not body or body.endswith("-") or len(label) > MAX_LABEL:
        return None
    decoded = _unpunycode(body)
    if decoded is None or decoded.isascii() or not _CJK_LABEL.fullmatch(decoded):
        return None
    # The one string whose Punycode is `body` (so also what the codec decodes it to); a
    # non-canonical spelling has none, and idna rejects it.
    if punycode(decoded) != body:
        return None
    return decoded


_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"


def punycode(label: str) -> str:
    """RFC 3492 Punycode of `label`, as `label.encode("punycode")` gives it, twice as fast."""
    codes = [ord(c) for c in label]
    base = "".join(c for c in label if c < "\x80")
    out = [base, "-"] if base else []
    n, delta, bias, done = 128, 0, 72, len(base)
    first = True
    for m in sorted({c for c in codes if c >= 128}):
        delta += (m - n) * (done + 1)
        n = m
        for c in codes:
            if c < m:
                delta += 1
            elif c == m:
                q, k = delta, 36
                while True:
                    t = min(max(k - bias, 1), 26)
                    if q < t:
                        break
                    out.append(_DIGITS[t + (q - t) % (36 - t)])
                    q = (q - t) // (36 - t)
                    k += 36
                out.append(_DIGITS[q])
                bias = _adapt(delta, first, done + 1)
                first = False
                delta = 0
                done += 1
        delta += 1
        n += 1
    return "".join(out)


def _unpunycode(body: str) -> str | None:
    """A candidate RFC 3492 decoding of lower-case `body` (None if malformed); callers check
    it by encoding it back."""
    cut = body.rfind("-")
    out = list(body[:cut]) if cut > 0 else []
    i, n, bias, j = 0, 128, 72, cut + 1
    while j < len(body):
        start, w, k = i, 1, 36
        while True:
            if j >= len(body):
                return None
            digit = _VALUES.get(body[j], -1)
            j += 1
            if digit < 0:
                return None
            i += digit * w
            t = min(max(k - bias, 1), 26)
            if digit < t:
                break
            w *= 36 - t
            k += 36
        count = len(out) + 1
        bias = _adapt(i - start, start == 0, count)
        n += i // count
        i %= count
        if n > 0x10FFFF:
            return None
        out.insert(i, chr(n))
        i += 1
    return "".join(out)


_VALUES = {c: v for v, c in enumerate(_DIGITS)}


def _adapt(delta: int, first: bool, count: int) -> int:
    delta = delta // 700 if first else delta // 2
    delta += delta // count
    k = 0
    while delta > 455:
        delta //= 35
        k += 36
    return k + (36 * delta // (delta + 38))
