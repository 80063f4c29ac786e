"""Free text as the report shows it: certificate and phone numbers and e-mail local parts
masked, nothing else.

`masking.mask_text` masks every run of six or more letters and digits holding a digit; in a
report that would also cut what a reader needs whole: filing numbers (`浙ICP备27…号-1`),
entity and account ids, run ids, website versions (`v:…`), file names, paths, domains and
encoding names (`gb18030`). Those spans are kept; `mask_text` masks the rest.
"""

from __future__ import annotations

import re

from icp_migrate.masking import mask_text

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
_KEEP = re.compile("|".join((
    r"[\u3400-\u9fff]{1,2}\s*ICP\s*[备证]\s*[0-9０-９]+\s*号(?:\s*-\s*[0-9]+)?",  # filing no.
    r"(?<![0-9A-Za-z])(?:ent|acc)_[0-9A-Za-z]+",  # entity and account ids
    r"(?<![0-9A-Za-z])\d{8}T\d{6}Z(?:-[0-9A-Za-z]+)?",  # run ids, UTC stamps
    r"(?<![0-9A-Za-z])v:[0-9a-f]{16}(?![0-9A-Za-z])",  # a website's version (a hash)
    r"(?i:(?<![0-9A-Za-z])(?:gb18030|gb2312|gbk|big5|utf-?(?:8|16|32)(?:-?(?:sig|[lb]e))?"
    r"|latin-?1|iso-?8859-\d+|cp\d{3,4}|ascii)(?![0-9A-Za-z]))",  # encoding names
    r"(?<![\w.~/])(?:~|\.{1,2})?(?:/[\w.~-]+)+/?",  # absolute (or ./, ~/) paths
    r"[\w-]+(?:\.[\w-]+)*\.[A-Za-z][A-Za-z0-9]{0,5}(?![\w.])",  # file names and domains
)))


def mask_shown(text: str) -> str:
    """`text` with certificate and phone numbers masked (as `mask_text` does) and e-mail
    local parts hidden; filing numbers, ids, run ids, file names, paths, domains and
    encodings stay whole."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)[:1]}***@{m.group(2)}", text)
    out, at = [], 0
    for kept in _KEEP.finditer(text):
        out += [mask_text(text[at:kept.start()]), kept.group(0)]
        at = kept.end()
    out.append(mask_text(text[at:]))
    return "".join(out)
