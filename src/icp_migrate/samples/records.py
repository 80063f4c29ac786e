"""One generated legacy record: the text as written, and what it means (for the oracle).

The ledger keeps only the meaning, column-wise in compact arrays, so the ground truth of
a million records costs tens of megabytes; the text goes straight to the writers.
"""

from __future__ import annotations

import unicodedata
from array import array
from dataclasses import dataclass, field
from pathlib import Path

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
    nameprov: int = -2  # the ledger's id of (normalized name, province); -2: not yet known

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
    """The meaning of every record, as parallel arrays in emission order.

    Notes (the cases a record exercises) go to one text file per layout, a line per record
    in the layout's own order, so the ledger stays small at any size.
    """

    COLUMNS = ("file", "seq", "readable", "product_ok", "date_state", "web_part", "web_k",
               "eno", "key", "cert_kind", "is_org", "nameprov")

    def __init__(self, notes_dir: Path) -> None:
        self.cols = {c: array("i") for c in self.COLUMNS}
        self.dom_rec, self.dom_id = array("i"), array("i")
        self.seq = dict.fromkeys(FILES, 0)
        self.names: dict[str, int] = {}
        self.note_paths = {f: notes_dir / f"notes.{f}.txt" for f in FILES}
        self._notes = {f: p.open("w", encoding="utf-8") for f, p in self.note_paths.items()}
        c = self.cols
        self._append = tuple(c[k].append for k in self.COLUMNS)

    def add(self, rec: Rec) -> int:
        """Record rec's meaning; return its 0-based position in its file."""
        s = rec.subject
        seq = self.seq[rec.file]
        self.seq[rec.file] = seq + 1
        n = len(self.cols["seq"])
        is_org = s.entity_type != "individual"
        if s.nameprov == -2:
            label = f"{normal_name(s.name)}|{s.province}"
            s.nameprov = self.names.setdefault(label, len(self.names)) if is_org else -1
        a = self._append
        a[0](RANK[rec.file])
        a[1](seq)
        a[2](not rec.broken)
        a[3](rec.product_ok)
        a[4](rec.date_state)
        a[5](rec.web_part)
        a[6](rec.web_k)
        a[7](s.eno)
        a[8](s.key)
        a[9](s.cert_kind)
        a[10](is_org)
        a[11](s.nameprov)
        for d in rec.domain_ids:
            self.dom_rec.append(n)
            self.dom_id.append(d)
        self._notes[rec.file].write(";".join(dict.fromkeys(rec.tags + s.tags)) + "\n")
        return seq

    def close(self) -> None:
        for fh in self._notes.values():
            fh.close()

    def frame(self) -> dict[str, np.ndarray]:
        arrays = {**self.cols, "dom_rec": self.dom_rec, "dom_id": self.dom_id}
        return {k: np.frombuffer(v, dtype=np.int32) if len(v) else np.zeros(0, np.int32)
                for k, v in arrays.items()}
