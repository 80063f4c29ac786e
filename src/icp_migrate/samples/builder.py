"""Turns entities and websites into written records, dirty as real exports, and emits them.

The builder renders every column through the dirt renderers, records each record's meaning
in the ledger and hands the text to the layout writers. Noise records (out-of-scope
products and dates, bad dates, bad filing numbers, unreadable rows) are made here too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

from . import dirt
from .dirt import Cycler
from .model import Entity, Website, between, pick
from .people import Factory
from .records import (
    AFTER_CUTOFF,
    BAD_DATE,
    IN_SCOPE,
    OTHER,
    USCC,
    Ledger,
    Rec,
    Subject,
)
from .vocab import PRODUCTS_ZH, PROVINCES
from .writers import BAD_BYTES, Layouts

_BY_ICP = {p.icp: p for p in PROVINCES}
_PROVINCE_INDEX = {p: i for i, p in enumerate(PROVINCES)}
_DATE_TAGS = ("date_iso", "date_slash", "date_chinese", "date_compact")
_ICP_TAGS = ("icp_legacy_abbr", "icp_spaces", "icp_fullwidth_hyphen", "icp_fullwidth_digits",
             "icp_fullwidth_letters")
_CERT_TAGS = ("cert_spaces", "cert_fullwidth_digits", "cert_lowercase_check_char",
              "passport_lowercase")

_NOISE_PRODUCTS = ("domain", "enterprise_website", "winport_shop")
# (noise kind, files it can go to)
NOISE = (
    ("oos_product_mail", ("gb", "utf8", "db")),
    ("oos_product_vhost", ("gb", "db", "utf8")),
    ("oos_product_blank", ("db", "gb", "utf8")),
    ("oos_product_before_bad_date", ("gb", "db")),
    ("oos_date_cutoff_day", ("gb", "jsonl", "db", "utf8")),
    ("oos_date_after_cutoff", ("db", "gb", "jsonl", "utf8")),
    ("date_last_day_in_scope", ("gb", "db", "jsonl")),
    ("date_missing", ("gb", "db", "jsonl", "utf8")),
    ("date_unparseable", ("db", "gb", "jsonl", "utf8")),
    ("icp_commercial_licence", ("gb", "db", "jsonl")),
    ("icp_bad_digit_count", ("db", "gb", "utf8")),
    ("icp_entity_number_only", ("gb", "jsonl", "db")),
    ("icp_blank", ("db", "gb", "jsonl")),
    ("csv_unescaped_quote", ("gb", "utf8")),
    ("csv_missing_comma", ("utf8", "gb")),
    ("gb18030_undecodable", ("gb",)),
    ("json_truncated", ("jsonl",)),
    ("json_python_repr", ("jsonl",)),
    ("json_missing_site_no", ("jsonl",)),
    ("json_missing_icp", ("jsonl",)),
    ("json_missing_filed_on", ("jsonl",)),
)


class Builder:
    """Record rendering and emission, shared by every scenario."""

    def __init__(self, rng: random.Random, layouts: Layouts, ledger: Ledger) -> None:
        self.rng, self.layouts, self.ledger = rng, layouts, ledger
        self.f = Factory(rng)
        self.keys: list[str] = []
        self.clouds: list[str] = []
        self._sid = 0
        self._cache: dict[tuple[int, str, str], Subject] = {}
        c = Cycler
        self.icp_style = c(dirt.ICP_STYLES, rng, ("fw_digits", "spaces", "fw_hyphen", "mixed"))
        self.legacy = c((True, False), rng)
        self.cert_style = c(dirt.CERT_STYLES, rng, ("spaces", "fw_digits", "lower"))
        self.dom_style = c(dirt.DOMAIN_STYLES, rng, dirt.DOMAIN_STYLES[4:])
        self.idn_style = c(dirt.IDN_STYLES, rng)
        self.sep = c(dirt.DOMAIN_SEPARATORS, rng, dirt.DOMAIN_SEPARATORS)
        self.date_style = c(dirt.DATE_STYLES, rng)
        self.prov_style = c(dirt.PROVINCE_STYLES, rng)
        self.cloud_none = c((False, None), rng)
        self.eno_blank = c((False,) * 7 + (True,), rng, (False, True))
        self.noise_kind = c(NOISE, rng, NOISE * 2)
        self.noise_file = c(range(4), rng)
        self.bad_date = c(dirt.UNPARSEABLE_DATES, rng)

    def new_entity(self, ent: Entity) -> None:
        assert ent.idx == len(self.keys)
        self.keys.append(ent.key)
        self.clouds.append(ent.cloud)

    # --- subjects ------------------------------------------------------------------------

    def subject(self, ent: Entity, file: str, member: str = "", **over: Any) -> Subject:
        """The entity's subject columns as one file/member writes them (cached per entity)."""
        member = member or (ent.tb_member if file == "jsonl" else ent.member)
        cached = self._cache.get((ent.idx, file, member))
        if cached is not None and not over:
            return cached
        cert_text, tags = dirt.certificate(ent.spec.cert_type, ent.cert, self.cert_style())
        prov_text, ptags = dirt.province(ent.province, self.prov_style())
        tags = [*ent.tags, *tags, *ptags]
        eno, eno_text = ent.eno, ""
        if self.eno_blank() and "eno" not in over:
            eno = -1
            tags.append("eno_blank")
        else:
            eno_text, etags = self.icp(self.f.numbers.text[ent.eno])
            tags += etags
        has_cloud: bool | None = ent.cloud != "none"
        if not has_cloud:
            has_cloud = self.cloud_none() if file in ("gb", "utf8") else False
        tags.append({"same": "cloud_same_admin", "different": "cloud_different_admin"}.get(
            ent.cloud, "cloud_blank" if has_cloud is None else "cloud_no"))
        self._sid += 1
        s = Subject(
            sid=self._sid, member=member, entity_type=ent.spec.entity_type, name=ent.name,
            cert_type=ent.spec.cert_type, cert_text=cert_text, province_text=prov_text,
            eno_text=eno_text, admin_email=ent.admin_email, has_cloud=has_cloud,
            cloud_email=ent.cloud_email, responsible=ent.responsible, phone=ent.phone,
            key=ent.idx, cert_kind=USCC if ent.spec.cert_type == "uscc" else OTHER, eno=eno,
            province=_PROVINCE_INDEX[ent.province], tags=tags,
        )
        if over:
            kept = [t for t in s.tags if "cert_text" not in over or t not in _CERT_TAGS]
            return dataclasses.replace(s, **(over | {"tags": kept + over.get("tags", [])}))
        self._cache[(ent.idx, file, member)] = s
        return s

    def fresh(self, s: Subject, **over: Any) -> Subject:
        """A copy of s with its own subject row."""
        self._sid += 1
        return dataclasses.replace(s, sid=self._sid, nameprov=-2, **over)

    def icp(self, number: str) -> tuple[str, list[str]]:
        return dirt.icp(number, _BY_ICP[number[0]], self.icp_style(), self.legacy())

    # --- records -------------------------------------------------------------------------

    def record(self, site: Website, file: str, subject: Subject, tags: tuple[str, ...] = (),
               extra_domains: tuple[Any, ...] = ()) -> Rec:
        web_text, tg = self.icp(self.f.numbers.website(site.part, site.k))
        tg = [*tags, *site.tags, *tg]
        domains = [*site.domains, *extra_domains]
        written = []
        for d in domains:
            text, dt_ = dirt.domain(d, self.dom_style(), self.idn_style())
            written.append(text)
            tg += dt_
        domains_text, st = dirt.join_domains(written, self.sep())
        date_text, dtg = dirt.date(site.filed, self.date_style())
        first = domains[0]
        homepage = f"http://www.{first.ascii}/" if first.ascii == first.unicode else \
            f"http://{first.unicode}/"
        return Rec(
            file=file, subject=subject, product=PRODUCTS_ZH[site.product],
            website_name=site.name, web_text=web_text, homepage=homepage, date_text=date_text,
            domains=written, domains_text=domains_text, web_part=site.part, web_k=site.k,
            domain_ids=[d.id for d in domains], tags=[*tg, *st, *dtg],
        )

    def emit(self, rec: Rec) -> None:
        self.ledger.add(rec)
        self.layouts.write(rec)

    def put(self, ent: Entity, site: Website, file: str = "", member: str = "",
            tags: tuple[str, ...] = (), **over: Any) -> str:
        """Emit one record of ent's website; return the file it went to."""
        if not file:
            file = "jsonl" if site.product == "winport_shop" and self.rng.random() < 0.6 \
                else ent.home
        self.emit(self.record(site, file, self.subject(ent, file, member, **over), tags))
        return file

    # --- noise ---------------------------------------------------------------------------

    def noise(self, ent: Entity) -> None:
        """One record a rule sets aside: out of scope, bad date or number, unreadable."""
        kind, files = self.noise_kind()
        file = files[self.noise_file() % len(files)]
        product = "winport_shop" if file == "jsonl" else pick(self.rng, _NOISE_PRODUCTS)
        site = self.f.website(ent, product)
        subject = self.subject(ent, file)
        rec = self.record(site, file, subject, tags=(kind,))
        if kind.startswith("oos_product"):
            rec.product = {"oos_product_vhost": "虚拟主机", "oos_product_blank": None}.get(
                kind, "邮箱")
            rec.product_ok = False
            if kind == "oos_product_before_bad_date":
                self._date(rec, None, BAD_DATE)
        elif kind.startswith("oos_date") or kind == "date_last_day_in_scope":
            day = dt.date(2019, 1, 1) if kind.startswith("oos") else dt.date(2018, 12, 31)
            if kind == "oos_date_after_cutoff":
                day += dt.timedelta(days=between(self.rng, 1, 1000))
            text, tags = dirt.date(day, self.date_style())
            self._date(rec, text, AFTER_CUTOFF if kind.startswith("oos") else IN_SCOPE, tags)
        elif kind in ("date_missing", "date_unparseable", "json_missing_filed_on"):
            self._date(rec, self.bad_date() if kind == "date_unparseable" else None, BAD_DATE)
            rec.absent = "filed_on" if kind == "json_missing_filed_on" else ""
        elif kind.startswith("icp_"):
            rec.web_part = -1
            rec.tags = [t for t in rec.tags if t not in _ICP_TAGS]
            prov = ent.province
            rec.web_text = {
                "icp_commercial_licence": "京ICP证030173号" if self.rng.random() < 0.3 else
                f"{prov.icp}ICP证{between(self.rng, 10**5, 10**6):06d}号",
                "icp_bad_digit_count": f"{prov.icp}ICP备{between(self.rng, 10**8, 10**9)}号-1",
                "icp_entity_number_only": self.f.numbers.text[ent.eno],
                "icp_blank": None,
            }[kind]
        elif kind == "csv_unescaped_quote":
            # the comma splits the unquoted cell: 19 fields, and no cell starts with a quote
            name = ent.name.replace('"', "").replace(",", "")
            raw = f'{name[:2]}"{name[2:4]},{name[4:]}"' if len(name) > 4 else f'{name}"站长,个人"'
            rec.subject, rec.broken = self.fresh(subject, name=raw), kind
        elif kind == "gb18030_undecodable":
            name = ent.name[:2] + BAD_BYTES + ent.name[2:]
            rec.subject, rec.broken = self.fresh(subject, name=name), kind
        else:  # csv_missing_comma, json_*: unreadable as written
            rec.broken = kind
        self.emit(rec)

    @staticmethod
    def _date(rec: Rec, text: str | None, state: int, tags: list[str] | None = None) -> None:
        rec.date_text, rec.date_state = text, state
        rec.tags = [t for t in rec.tags if t not in _DATE_TAGS] + (tags or [])
