"""One generated legacy record: the text as written, and what it means (for the oracle).

The ledger keeps only the meaning, column-wise in compact arrays, so the ground truth of
a million records costs tens of megabytes; the text goes straight to the writers.
"""

from __future__ import annotations

import unicodedata
from array import array
from dataclasses import dataclass, field

import numpy as np

FILES = ("gb", "utf8", "jsonl", "db")
FILE_NAMES = {
    "gb": "hichina_beian.csv",
    "utf8": "hichina_beian_utf8.csv",
    "jsonl": "winport_shops.jsonl",
    "db": "hichina_legacy.db",
}
RANK = {f: i for i, f in enumerate(FILES)}

# cert_kind codes: how the certificate names its entity
OTHER, USCC, ORG_CODE, RID15 = 0, 1, 2, 3
# date_state codes
IN_SCOPE, AFTER_CUTOFF, BAD_DATE = 0, 1, 2


@dataclass(slots=True)
class Subject:
    """The subject-level columns as written (who filed), plus what they mean."""

    sid: int
    member: str
    entity_type: str  # canonical code
    name: str
    cert_type: str  # canonical code; "" when blank
    cert_text: str
    province_text: str
    eno_text: str
    admin_email: str
    has_cloud: bool | None  # None: blank
    cloud_email: str
    responsible: str
    phone: str
    key: int  # the entity index the certificate names, -1 when invalid
    cert_kind: int
    eno: int  # entity filing number id, -1 when blank
    province: int  # index into PROVINCES
    tags: list[str] = field(default_factory=list)

    @property
    def is_org(self) -> bool:
        return self.entity_type != "individual"


@dataclass(slots=True)
class Rec:
    """One website record as written in one file."""

    file: str
    subject: Subject
    product: str | None  # Chinese product value; None = blank
    website_name: str
    web_text: str | None  # None: blank / absent
    homepage: str
    date_text: str | None
    domains: list[str]  # as written
    domains_text: str  # the CSV cell
    web_part: int = -1  # the clean website number: (entity number id, suffix); -1: unusable
    web_k: int = 0
    date_state: int = IN_SCOPE
    product_ok: bool = True
    domain_ids: list[int] = field(default_factory=list)
    broken: str = ""  # how the record is unreadable, "" when readable
    absent: str = ""  # a JSON key left out of a readable record ("filed_on")
    tags: list[str] = field(default_factory=list)


def normal_name(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


class Ledger:
    """The meaning of every record, in run order per file, as parallel arrays."""

    def __init__(self) -> None:
        self.cols = {c: array("i") for c in (
            "file", "seq", "readable", "product_ok", "date_state", "web_part", "web_k", "eno",
            "key", "cert_kind", "is_org", "nameprov", "note")}
        self.dom_rec, self.dom_id = array("i"), array("i")
        self.seq = dict.fromkeys(FILES, 0)
        self.notes: dict[str, int] = {}
        self.names: dict[str, int] = {}

    def add(self, rec: Rec) -> int:
        """Record rec's meaning; return its 0-based position in its file."""
        s, c = rec.subject, self.cols
        seq = self.seq[rec.file]
        self.seq[rec.file] = seq + 1
        n = len(c["seq"])
        nameprov = -1
        if s.is_org:
            label = f"{normal_name(s.name)}|{s.province}"
            nameprov = self.names.setdefault(label, len(self.names))
        tags = list(dict.fromkeys(rec.tags + s.tags))
        note = ";".join(tags)
        for col, value in (
            ("file", RANK[rec.file]), ("seq", seq), ("readable", not rec.broken),
            ("product_ok", rec.product_ok), ("date_state", rec.date_state),
            ("web_part", rec.web_part), ("web_k", rec.web_k), ("eno", s.eno), ("key", s.key),
            ("cert_kind", s.cert_kind), ("is_org", s.is_org), ("nameprov", nameprov),
            ("note", self.notes.setdefault(note, len(self.notes))),
        ):
            c[col].append(int(value))
        for d in rec.domain_ids:
            self.dom_rec.append(n)
            self.dom_id.append(d)
        return seq

    def frame(self) -> dict[str, np.ndarray]:
        out = {k: np.frombuffer(v, dtype=np.int32) if len(v) else np.zeros(0, np.int32)
               for k, v in self.cols.items()}
        out["dom_rec"] = np.frombuffer(self.dom_rec, dtype=np.int32) if len(self.dom_rec) \
            else np.zeros(0, np.int32)
        out["dom_id"] = np.frombuffer(self.dom_id, dtype=np.int32) if len(self.dom_id) \
            else np.zeros(0, np.int32)
        return out
