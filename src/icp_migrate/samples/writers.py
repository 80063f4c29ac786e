"""The three legacy layouts, written as records stream in (nothing is held per record).

Layout 1 is written twice (GB18030 and UTF-8 with a BOM), layout 2 as JSON Lines, layout 3
as a SQLite file. Locators follow the pipeline's: `line N` (CSV: the physical line where
the record starts, header = line 1; JSONL: 1-based line) and `sites.site_id=N`.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from .records import FILE_NAMES, Rec
from .vocab import CERT_TYPE_ZH, ENTITY_TYPE_ZH

CSV_HEADER = (
    "会员ID", "产品类型", "主体性质", "主办单位名称", "证件类型", "证件号码", "主体备案号",
    "网站名称", "网站备案号", "网站域名", "网站首页", "省份", "负责人", "联系电话", "电子邮箱",
    "备案日期", "云资源", "资源管理员邮箱",
)
NAME_SLOT = "@@NAME@@"  # stands for a raw name that must bypass CSV quoting
BAD_BYTES = "@@BAD@@"  # stands for bytes GB18030 cannot decode
SITE_ID_BASE = 10_000_001  # fixed width: numeric and text order of site ids agree
SUBJECT_ID_BASE = 2_000_001


def locator(file: str, seq: int) -> str:
    if file == "db":
        return f"sites.site_id={SITE_ID_BASE + seq}"
    return f"line {seq + 2 if file in ('gb', 'utf8') else seq + 1}"


def _cloud(value: bool | None) -> str:
    return "" if value is None else "是" if value else "否"


class CsvLayout:
    """hichina_beian_csv: one row per website filing."""

    def __init__(self, path: Path, encoding: str, newline: str, bom: bool = False) -> None:
        self._fh = path.open("wb")
        if bom:
            self._fh.write("\ufeff".encode(encoding))
        self._enc, self._nl = encoding, newline
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator=newline)
        self._csv.writerow(CSV_HEADER)

    def write(self, rec: Rec) -> None:
        s = rec.subject
        row = [
            s.member, rec.product or "", ENTITY_TYPE_ZH[s.entity_type], s.name,
            CERT_TYPE_ZH.get(s.cert_type, ""), s.cert_text, s.eno_text, rec.website_name,
            rec.web_text or "", rec.domains_text, rec.homepage, s.province_text, s.responsible,
            s.phone, s.admin_email, rec.date_text or "", _cloud(s.has_cloud), s.cloud_email,
        ]
        if not rec.broken:
            self._csv.writerow(row)
            if self._buf.tell() > 1 << 20:
                self._flush()
            return
        self._flush()
        if rec.broken == "csv_missing_comma":
            row[12:14] = [row[12] + row[13]]  # 负责人 and 联系电话 run together: 17 fields
        raw_name = row[3]
        if rec.broken == "csv_unescaped_quote":
            row[3] = NAME_SLOT
        self._csv.writerow(row)
        text = self._buf.getvalue().replace(NAME_SLOT, raw_name)
        self._buf.seek(0)
        self._buf.truncate()
        data = text.encode(self._enc)
        self._fh.write(data.replace(BAD_BYTES.encode(), b"\xffA"))

    def _flush(self) -> None:
        self._fh.write(self._buf.getvalue().encode(self._enc))
        self._buf.seek(0)
        self._buf.truncate()

    def close(self) -> None:
        self._flush()
        self._fh.close()


class JsonlLayout:
    """winport_shops_jsonl: one Winport shop filing per line, nested."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("w", encoding="utf-8", newline="\n")
        self._n = 0

    def write(self, rec: Rec) -> None:
        s = rec.subject
        shop_id = f"{(self._n * 7919 + 58213377) % 10**8:08d}"
        self._n += 1
        subject: dict[str, Any] = {"kind": "individual" if not s.is_org else "organization"}
        if s.is_org:
            subject["org_kind"] = s.entity_type
        subject |= {
            "name": s.name, "id_type": s.cert_type or None, "id_no": s.cert_text,
            "province": s.province_text,
            "contact": {"name": s.responsible, "phone": s.phone, "email": s.admin_email},
        }
        obj: dict[str, Any] = {
            "shop_id": shop_id, "member_id": s.member,
            "shop_url": f"https://shop{shop_id}.taobao.com", "shop_name": rec.website_name,
            "filed_on": rec.date_text or "", "subject": subject,
            "icp": {"subject_no": s.eno_text, "site_no": rec.web_text or ""},
            "domains": rec.domains,
            "cloud": {"has_resources": bool(s.has_cloud), "admin_email": s.cloud_email or None},
        }
        line = json.dumps(obj, ensure_ascii=False)
        if rec.broken == "json_truncated":
            line = line[: len(line) // 2]
        elif rec.broken == "json_python_repr":
            line = repr(obj)  # single quotes, True/None: not JSON
        elif rec.broken == "json_missing_site_no":
            del obj["icp"]["site_no"]
            line = json.dumps(obj, ensure_ascii=False)
        elif rec.broken == "json_missing_icp":
            del obj["icp"]
            line = json.dumps(obj, ensure_ascii=False)
        elif rec.absent == "filed_on":
            del obj["filed_on"]
            line = json.dumps(obj, ensure_ascii=False)
        self._fh.write(line + "\n")

    def close(self) -> None:
        self._fh.close()


_DDL = """
CREATE TABLE members (member_id TEXT PRIMARY KEY, email TEXT);
CREATE TABLE subjects (subject_id INTEGER PRIMARY KEY, member_id TEXT, subject_type TEXT,
  name TEXT, cert_type TEXT, cert_no TEXT, province TEXT, subject_icp_no TEXT,
  admin_email TEXT, has_cloud INTEGER, cloud_admin_email TEXT);
CREATE TABLE sites (site_id INTEGER PRIMARY KEY, subject_id INTEGER, product TEXT,
  site_name TEXT, site_icp_no TEXT, home_url TEXT, filed_at TEXT);
CREATE TABLE site_domains (site_id INTEGER, domain TEXT);
"""


class DbLayout:
    """hichina_legacy_db: members, subjects, sites, site_domains (one record = one site)."""

    def __init__(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._db = sqlite3.connect(path)
        self._db.executescript(_DDL)
        self._members: dict[str, str] = {}
        self._subjects: dict[int, int] = {}  # Subject.sid -> subject_id
        self._rows: dict[str, list[tuple[Any, ...]]] = {"subjects": [], "sites": [],
                                                         "site_domains": []}
        self._n = 0

    def write(self, rec: Rec) -> None:
        s = rec.subject
        subject_id = self._subjects.get(s.sid)
        if subject_id is None:
            subject_id = self._subjects[s.sid] = SUBJECT_ID_BASE + len(self._subjects)
            self._members.setdefault(s.member, s.admin_email)
            self._rows["subjects"].append((
                subject_id, s.member, ENTITY_TYPE_ZH[s.entity_type], s.name,
                CERT_TYPE_ZH.get(s.cert_type), s.cert_text or None, s.province_text,
                s.eno_text or None, s.admin_email, int(bool(s.has_cloud)), s.cloud_email or None))
        site_id = SITE_ID_BASE + self._n
        self._n += 1
        self._rows["sites"].append((site_id, subject_id, rec.product or None, rec.website_name,
                                    rec.web_text or None, rec.homepage, rec.date_text or None))
        self._rows["site_domains"].extend((site_id, d) for d in rec.domains)
        if len(self._rows["sites"]) >= 20000:
            self._flush()

    def _flush(self) -> None:
        marks = {"subjects": 11, "sites": 7, "site_domains": 2}
        for table, rows in self._rows.items():
            sql = f"INSERT INTO {table} VALUES ({','.join('?' * marks[table])})"
            self._db.executemany(sql, rows)
            rows.clear()

    def close(self) -> None:
        self._flush()
        self._db.executemany("INSERT INTO members VALUES (?, ?)", self._members.items())
        self._db.commit()
        self._db.close()


class Layouts:
    """The four output files, one writer each."""

    def __init__(self, out_dir: Path) -> None:
        self.files = {f: out_dir / name for f, name in FILE_NAMES.items()}
        self._w: dict[str, Any] = {
            "gb": CsvLayout(self.files["gb"], "gb18030", "\r\n"),
            "utf8": CsvLayout(self.files["utf8"], "utf-8", "\n", bom=True),
            "jsonl": JsonlLayout(self.files["jsonl"]),
            "db": DbLayout(self.files["db"]),
        }

    def write(self, rec: Rec) -> None:
        self._w[rec.file].write(rec)

    def close(self) -> None:
        for w in self._w.values():
            w.close()
