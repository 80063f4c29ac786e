"""Masked forms of personal data (certificate and phone numbers, e-mail local parts) for
logs, reports, errors, and values made safe to print on a terminal.

Two ways in. Where a value is known to be personal (a certificate column, a phone column,
the number of a `RID:`/`ORG:`… identity key) it is masked whole: `mask`, `mask_key`; a
value known to be an e-mail address keeps its domain: `mask_email`.
Free text (messages, reasons, paths) is masked only where a token has the shape of a
certificate or phone number (`mask_text`); ids (`ent_…`, `acc_…`, run ids), ICP filing
numbers, locators (`sites.site_id=10000001`) and encoding names pass untouched, and paths
do but for an ID number or a mobile phone in them."""

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


def mask_email(value: object) -> str | None:
    """`zhang.san@example.com` -> `z***@example.com` (the local part masked, as `mask_text`
    masks e-mails in free text); a value without `@` is masked whole; None stays None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    local, at, domain = str(value).rpartition("@")
    return _masked_email(local, domain) if at else mask(domain)


def _masked_email(local: str, domain: str) -> str:
    """The one masked form of an e-mail address: its local part's first character."""
    return f"{local[:1]}***@{domain}"


def mask_series(values: pd.Series) -> pd.Series:
    return values.map(mask, na_action="ignore")


# Identity keys whose number is a certificate (rules/grouping.py): `RID:<18>` -> masked.
_CERTIFICATE_KEY = re.compile(r"^(RID|ORG|BL|USCC|PASSPORT|HKMO|TW|CERT):(.+)$")


def mask_key(key: object) -> str:
    """An identity or link key with its certificate part masked (`RID:3301**********1234`);
    a filing number or a `province|name` key (organizations only) is not personal."""
    if key is None or (isinstance(key, float) and key != key):
        return ""
    found = _CERTIFICATE_KEY.match(str(key))
    return f"{found.group(1)}:{mask(found.group(2))}" if found else mask_text(str(key))


# Never masked: they are what a user pastes into the next command.
_PUBLIC = re.compile(
    r"[\u4e00-\u9fff]ICP[备证]\d+号(?:-\d+)?"        # ICP filing numbers
    r"|(?<![0-9A-Za-z])(?:ent|acc)_[0-9a-f]{8,}"     # entity and account ids
    r"|\d{8}T\d{6}Z-[0-9a-f]{8}"                     # run ids
    r"|\b[a-z_]+\.[a-z_]+=\d+"                       # locators: sites.site_id=10000001
    r"|\bv:[0-9a-f]+"                                # website versions of a changed: conflict
)
_X = r"[0-9A-HJ-NPQRTUWXY]"  # the USCC alphabet (GB 32100: no I, O, S, V, Z)
# Certificate and phone shapes, each a whole token (no letter or digit either side).
_PERSONAL = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"  # RID
    rf"|{_X}{{2}}\d{{6}}{_X}{{10}}"                  # USCC: 2 codes, area, org code, check
    r"|\d{15}"                                       # first-generation ID, registration no.
    r"|[0-9A-Z]{8}-?[0-9X]"                          # organization code (GB 11714)
    r"|[A-Z]{1,2}\d{7,8}|[HM]\d{10}|\d{8}(?:\d{2})?"  # passports, HK/Macao, Taiwan permits
    r"|(?:\+?86[- ]?)?1[3-9]\d{9}|0\d{2,3}-?\d{7,8}"  # mobile and landline phones
    r")(?![0-9A-Za-z])"
)
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)@((?:[\w-]+\.)+[A-Za-z]{2,})")


# The shapes a path may hold and still be pasted whole: only these are masked inside one
# (a file named by a person's ID number); the short shapes (8–10 digits, organization
# codes, passports, landlines) are also dates, batch numbers and serials
# (`records-10000000-seed-11/`, `2018/20180101/`), which a user types again.
_PERSONAL_IN_PATH = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"  # RID
    rf"|{_X}{{2}}\d{{6}}{_X}{{10}}"                  # USCC
    r"|\d{15}"                                       # first-generation ID
    r"|(?:\+?86[- ]?)?1[3-9]\d{9}"                   # mobile phones
    r")(?![0-9A-Za-z])"
)
# A path, at the start of the text or after a space, a quote, `=` or `(`: from the root, a
# home or `.`/`..` (`/data/in/x.csv`, `./in/`), or relative and ending in a file's
# extension (`data/samples/x.csv`); `0571-88886666/0571-88886667` is not one.
_PATH = re.compile(
    r"(?:^|(?<=[\s'\"=(]))(?:"
    r"(?:~|\.{1,2})?/[^\s'\"]*"
    r"|(?:[^\s/'\"]+/)+[^\s/'\"]*\.[A-Za-z][A-Za-z0-9]{0,5}(?=$|[\s'\":;,)])"
    r")")


def _mask_free(text: str) -> str:
    text = _EMAIL.sub(lambda m: _masked_email(m.group(1), m.group(2)), text)
    return _PERSONAL.sub(lambda m: mask(m.group(0)), text)


def _mask_outside_paths(text: str) -> str:
    parts: list[str] = []
    last = 0
    for found in _PATH.finditer(text):
        path = _PERSONAL_IN_PATH.sub(lambda m: mask(m.group(0)), found.group(0))
        parts += [_mask_free(text[last:found.start()]), path]
        last = found.end()
    parts.append(_mask_free(text[last:]))
    return "".join(parts)


def mask_text(text: str) -> str:
    """Mask every certificate-, phone- or e-mail-shaped token of free text; the ids,
    filing numbers and locators of `_PUBLIC` are kept whole, and a path keeps all but the
    long shapes (`_PERSONAL_IN_PATH`)."""
    parts: list[str] = []
    last = 0
    for found in _PUBLIC.finditer(text):
        parts += [_mask_outside_paths(text[last:found.start()]), found.group(0)]
        last = found.end()
    parts.append(_mask_outside_paths(text[last:]))
    return "".join(parts)


def printable(text: str) -> str:
    """Control and format characters as escapes (`\\x1b`, `\\u202e`): a printed value can
    neither restyle the terminal nor reorder the line it is shown on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
