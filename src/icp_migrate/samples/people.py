"""Synthetic entities: organizations and people, their certificates, filing numbers, websites.

Everything that must be unique (certificates, filing numbers, domains, organization names)
is derived from a serial through a bijection, so no two entities collide by accident at any
size; only the scenarios make two records share a number, a domain or a name on purpose.
"""

from __future__ import annotations

import datetime as dt
import random

from . import checkdigits as cd
from .model import Domain, Entity, Perm, Spec, Website, a_labels, between, idn_label, pick
from .vocab import (
    AREAS_NEWER_THAN_BIRTH,
    BRAND,
    DOMAIN_WORDS,
    GIVEN,
    IDN_TLDS,
    IDN_WORDS,
    INDUSTRIES,
    LATIN_GIVEN,
    LATIN_SURNAMES,
    MAIL_HOSTS,
    ORG_NAME_FORMS,
    SURNAMES,
    TLDS,
    USCC_PREFIX,
    Province,
)

_SITE_SUFFIXES = ("官网", "的网站", "在线")


class Numbers:
    """Entity filing numbers (主体备案号), kept as text in a table indexed by id.

    Serials come from seeded permutations of 10**6 (and 10**5 for the older 7-digit
    form). Once the 6-digit serials are spent (about 3M records), a number takes a random
    serial that no issued number of the same province and year holds, so sets of ten
    million records can be made; smaller sets are as before."""

    def __init__(self, rng: random.Random, serials: int = 10**6) -> None:
        self.text: list[str] = []
        self._rng = rng
        self._serials = serials  # the 6-digit serials drawn from a permutation
        self._p6, self._p5 = Perm(serials, rng), Perm(10**5, rng)
        self._n6 = self._n5 = 0
        self._issued: set[str] = set()  # filled only once the 6-digit serials are spent

    def new(self, province: Province, year: int) -> int:
        r = self._rng.random()
        if year >= 2016 and r < 0.15:  # year-prefixed, 10 digits
            text = self._six(province, f"{year}")
        elif r > 0.93 and self._n5 < 10**5 - 1:  # older, 7 digits
            text = f"{province.icp}ICP备{year % 100:02d}{self._p5(self._n5):05d}号"
            self._n5 += 1
        else:
            text = self._six(province, f"{year % 100:02d}")
        self.text.append(text)
        return len(self.text) - 1

    def _six(self, province: Province, prefix: str) -> str:
        """A number of `prefix` and a 6-digit serial, never issued before."""
        if self._n6 < self._serials:
            self._n6 += 1
            return f"{province.icp}ICP备{prefix}{self._p6(self._n6 - 1):06d}号"
        if not self._issued:
            self._issued.update(self.text)
        while True:
            text = f"{province.icp}ICP备{prefix}{self._rng.randrange(10**6):06d}号"
            if text not in self._issued:
                self._issued.add(text)
                return text

    def website(self, part: int, k: int) -> str:
        return f"{self.text[part]}-{k}"


class Factory:
    """Makes entities, websites and domains from one seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.numbers = Numbers(rng)
        self._org8, self._ma = Perm(10**8, rng), Perm(31**6, rng)
        self._bl8, self._pp8 = Perm(10**8, rng), Perm(10**8, rng)
        self._brand, self._dom = Perm(10**6, rng), Perm(16**7, rng)
        self._rids: set[str] = set()
        self._domains = 0
        self._names = 0
        self._members = 0
        self._mperm = Perm(10**7, rng)

    # --- names and contacts --------------------------------------------------------------

    def brand(self, serial: int) -> str:
        """Three syllables for a serial below 10**6; one more in front for each further
        million (up to 10**8 names), so brands never repeat."""
        more, serial = divmod(serial, 10**6)
        n = self._brand(serial)
        return ((BRAND[(more - 1) % 100] if more else "")
                + BRAND[n // 10000] + BRAND[n // 100 % 100] + BRAND[n % 100])

    def org_name(self, entity_type: str, province: Province) -> str:
        """A name no other organization carries (the brand encodes a fresh serial)."""
        self._names += 1
        form = pick(self.rng, ORG_NAME_FORMS[entity_type])
        return form.format(city=province.city, prov=province.short, brand=self.brand(self._names),
                           industry=pick(self.rng, INDUSTRIES))

    def person_name(self, latin: bool = False) -> str:
        if latin:
            return f"{pick(self.rng, LATIN_SURNAMES)} {pick(self.rng, LATIN_GIVEN)}"
        given = "".join(pick(self.rng, GIVEN) for _ in range(pick(self.rng, (1, 2, 2))))
        return pick(self.rng, SURNAMES) + given

    def phone(self) -> str:
        if self.rng.random() < 0.2:
            return f"0{between(self.rng, 10, 99)}-{between(self.rng, 10**7, 10**8)}"
        return f"1{pick(self.rng, '3456789')}{between(self.rng, 10**8, 10**9)}"

    def email(self, stem: str) -> str:
        return f"{stem}{between(self.rng, 100, 9999)}@{pick(self.rng, MAIL_HOSTS)}"

    def member(self, prefix: str = "hc") -> str:
        self._members += 1
        return f"{prefix}{self._mperm(self._members):07d}"

    # --- certificates --------------------------------------------------------------------

    def certificate(self, idx: int, spec: Spec, province: Province) -> tuple[str, str, list[str]]:
        """(certificate, identity key, tags) for a new entity."""
        et, ct, variant = spec
        area = pick(self.rng, province.areas)
        if ct == "uscc":
            prefixes = USCC_PREFIX[et]
            prefix = prefixes[-1] if variant == "letter" else prefixes[0]
            if variant == "ma":
                n, body = self._ma(idx), ""
                for _ in range(6):
                    n, r = divmod(n, 31)
                    body += cd.USCC_ALPHABET[r]
                org = cd.make_org_code("MA" + body)
            else:
                org = cd.make_org_code(f"{self._org8(idx):08d}")
            tags = ["uscc_letter_prefix"] if prefix[0].isalpha() else []
            return cd.make_uscc(prefix, area[:4] + "00", org), "ORG:" + org, ["cert_uscc", *tags]
        if ct == "business_license":
            bl = cd.make_business_licence(area, f"{self._bl8(idx):08d}")
            return bl, "BL:" + bl, ["cert_business_licence"]
        if ct == "resident_id":
            return self._rid(province, variant)
        letter, tag = {"passport": ("EGK", "cert_passport"), "hk_macao_permit": ("HM", "cert_hkmo"),
                       "taiwan_permit": ("", "cert_taiwan")}[ct]
        number = f"{self._pp8(idx):08d}"
        number = (pick(self.rng, letter) + number) if letter else number
        prefix = {"passport": "PASSPORT:", "hk_macao_permit": "HKMO:", "taiwan_permit": "TW:"}[ct]
        return number, prefix + number, [tag]

    def _rid(self, province: Province, variant: str) -> tuple[str, str, list[str]]:
        tags = ["cert_rid18"]
        while True:
            if variant == "odd_area":
                area, _, last = next(a for a in AREAS_NEWER_THAN_BIRTH if a[1] == province.abbr)
                year = between(self.rng, 1955, last + 1)
            else:
                area = pick(self.rng, province.areas)
                year = between(self.rng, 1950, 1985) if variant == "old" else \
                    between(self.rng, 1950, 2001)
            birth = dt.date(year, 1, 1) + dt.timedelta(days=between(self.rng, 365))
            rid = cd.make_rid(area, birth, f"{between(self.rng, 1000):03d}")
            if rid not in self._rids:
                self._rids.add(rid)
                if variant == "odd_area":
                    tags.append("rid_area_newer_than_birth")
                return rid, "RID:" + rid, tags

    # --- websites ------------------------------------------------------------------------

    def domain(self, idn: bool = False) -> Domain:
        self._domains += 1
        serial = self._dom(self._domains)
        if idn:
            word, tld, digits = pick(self.rng, IDN_WORDS), pick(self.rng, IDN_TLDS), str(serial)
            return Domain(self._domains, f"{idn_label(word, digits)}.{a_labels(tld)}",
                          f"{word}{digits}.{tld}")
        word = pick(self.rng, DOMAIN_WORDS)
        name = f"{word}{serial:x}.{pick(self.rng, TLDS)}"
        return Domain(self._domains, name, name)

    def website(self, ent: Entity, product: str, part: int | None = None,
                year: int | None = None) -> Website:
        """A new website with fresh domains: ent's next suffix, or -1 of a fresh number part."""
        n = pick(self.rng, (1, 1, 1, 2, 2, 3))
        domains = [self.domain(idn=self.rng.random() < 0.12) for _ in range(n)]
        y = year or between(self.rng, ent.year, 2019)
        filed = dt.date(y, 1, 1) + dt.timedelta(days=between(self.rng, 365))
        filed = min(filed, dt.date(2018, 12, 30))
        suffix = "旗舰店" if product == "winport_shop" else pick(self.rng, _SITE_SUFFIXES)
        if part is not None:
            return Website(part, 1, product, domains, ent.label + suffix, filed)
        ent.next_k += 1
        return Website(ent.eno, ent.next_k - 1, product, domains, ent.label + suffix, filed)

    def entity(self, idx: int, spec: Spec, province: Province, cloud: str) -> Entity:
        cert, key, tags = self.certificate(idx, spec, province)
        if spec.entity_type == "individual":
            name = label = self.person_name(latin=spec.variant == "latin")
        else:
            name = self.org_name(spec.entity_type, province)
            label = self.brand(self._names)
        year = between(self.rng, 2005, 2019)
        stem = "beian" if spec.entity_type != "individual" else "u"
        admin = self.email(stem)
        return Entity(
            idx=idx, spec=spec, key=key, cert=cert, name=name, province=province,
            eno=self.numbers.new(province, year), year=year, member=self.member(),
            tb_member=self.member("tb_"), admin_email=admin, cloud=cloud,
            cloud_email=self.email("ops") if cloud == "different" else
            admin if cloud == "same" else "",
            responsible=name if spec.entity_type == "individual" else self.person_name(),
            phone=self.phone(), label=label, tags=[f"type_{spec.entity_type}", *tags],
        )
