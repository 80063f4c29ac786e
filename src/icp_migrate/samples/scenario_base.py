"""The loop that makes N entities, each exercising one rule case (its role), and what every
role uses to make its records.

Roles come in seeded-shuffled rounds after two rounds that hold every non-plain role, so
a 40-entity sample already shows each case at least twice; pairs of entities make the
conflicts. Every entity also gets, most of the time, one noise record (builder.NOISE).
"""

from __future__ import annotations

import random
from typing import Any

from . import checkdigits as cd
from . import dirt
from .builder import NOISE, Builder
from .dirt import Cycler
from .model import Entity, Spec, between, pick
from .records import FILES, RANK, Ledger
from .vocab import AREAS_NEWER_THAN_BIRTH, PLAIN_PROVINCES, PROVINCE_WEIGHTS, PROVINCES
from .writers import Layouts

ROLE_WEIGHTS = {
    "plain": 12, "duplicate": 3, "spread": 1, "org_code": 2, "id15": 2, "linked_invalid": 2,
    "name_fallback": 1, "unlinked_invalid": 1, "same_name": 1, "ambiguous_eno": 1,
    "website_conflict": 1, "domain_conflict": 1,
}
PAIRS = ("same_name", "ambiguous_eno", "website_conflict", "domain_conflict")
NOISE_RATE = 0.5
_NO_CHECK = ("passport", "hk_macao_permit", "taiwan_permit")

_ORG_TYPES = ("enterprise", "public_institution", "government", "social_group",
              "private_non_enterprise", "foundation", "law_firm")
ANY_SPECS = (
    Spec("enterprise", "uscc"), Spec("individual", "resident_id"),
    Spec("enterprise", "business_license"), Spec("public_institution", "uscc"),
    Spec("individual", "passport", "latin"), Spec("enterprise", "uscc", "letter"),
    Spec("individual", "hk_macao_permit"), Spec("government", "uscc"),
    Spec("individual", "taiwan_permit"), Spec("social_group", "uscc"),
    Spec("individual", "resident_id", "odd_area"), Spec("private_non_enterprise", "uscc"),
    Spec("enterprise", "uscc", "ma"), Spec("foundation", "uscc"),
    Spec("individual", "resident_id"), Spec("law_firm", "uscc"), Spec("individual", "passport"),
    Spec("public_institution", "uscc", "letter"), Spec("enterprise", "uscc"),
    Spec("social_group", "uscc", "letter"), Spec("individual", "resident_id"),
)
ORG_USCC_SPECS = (*(Spec(t, "uscc") for t in _ORG_TYPES), Spec("enterprise", "uscc", "letter"))
FALLBACK_SPECS = (Spec("enterprise", "uscc"), Spec("enterprise", "business_license"),
                  Spec("social_group", "uscc"), Spec("enterprise", "uscc", "ma"))
LINKED_SPECS = (Spec("enterprise", "uscc"), Spec("individual", "resident_id"),
                Spec("social_group", "uscc", "letter"), Spec("individual", "resident_id"),
                Spec("enterprise", "business_license"), Spec("individual", "passport"),
                Spec("law_firm", "uscc"))
PERSON_SPECS = (Spec("individual", "resident_id"), Spec("individual", "passport", "latin"),
                Spec("individual", "hk_macao_permit"), Spec("individual", "taiwan_permit"),
                Spec("individual", "resident_id", "odd_area"))


HOMES = ("gb", "db", "gb", "utf8", "db", "gb", "db", "utf8")  # the file an entity files to


class ScenarioBase(Builder):
    """The loop over entities and what every role uses; the roles are `Scenarios`'."""

    def __init__(self, rng: random.Random, layouts: Layouts, ledger: Ledger,
                 homes: tuple[str, ...] = HOMES) -> None:
        super().__init__(rng, layouts, ledger)
        special = [r for r in ROLE_WEIGHTS if r != "plain"]
        self.role = Cycler([r for r, w in ROLE_WEIGHTS.items() for _ in range(w)], rng,
                           special + special[::-1])
        self.any_spec = Cycler(ANY_SPECS, rng, ANY_SPECS)
        self.org_spec = Cycler(ORG_USCC_SPECS, rng, ORG_USCC_SPECS)
        self.fallback_spec = Cycler(FALLBACK_SPECS, rng, FALLBACK_SPECS)
        self.person_spec = Cycler(PERSON_SPECS, rng, PERSON_SPECS)
        weighted = [i for i, w in enumerate(PROVINCE_WEIGHTS) for _ in range(w)]
        first = [i for i, p in enumerate(PROVINCES) if p.legacy_icp] + [10, 18, 0, 8, 9]
        self.province = Cycler(weighted, rng, first)
        self.plain_province = Cycler(PLAIN_PROVINCES, rng)
        self.odd_area = Cycler(AREAS_NEWER_THAN_BIRTH, rng)
        self.cloud = Cycler(("none",) * 3 + ("same", "different"), rng, ("same", "different"))
        self.home = Cycler(homes, rng)
        self.name_style = Cycler(dirt.NAME_STYLES, rng, ("html", "quotes", "comma"))
        self.dup_kind = Cycler(("identical", "extra_domain"), rng)
        self.toggle = Cycler((True, False), rng)
        self.dash = Cycler(("-", "", "－", ""), rng, ("-", "", "－"))
        hows = ("blank", "wrong_check", "wrong_length")
        self.invalid_how = Cycler(hows, rng, hows * 2)
        self.via = Cycler(("eno", "website"), rng, ("eno", "website"))
        self.linked_spec = Cycler(LINKED_SPECS, rng, LINKED_SPECS)
        self._agency: tuple[str, str, int] = ("", "", 0)

    def run(self, entities: int) -> None:
        idx = 0
        while idx < entities:
            role = self.role()
            size = 2 if role in PAIRS else 1
            if idx + size > entities:
                role, size = "plain", 1
            self._cache.clear()
            ents = [self.make(idx + i, role) for i in range(size)]
            getattr(self, "role_" + role)(*ents)
            for e in ents:
                if e.idx < 2 * len(NOISE) or self.rng.random() < NOISE_RATE:
                    self.noise(e)
            idx += size

    def make(self, idx: int, role: str) -> Entity:
        spec = {"org_code": self.org_spec, "name_fallback": self.fallback_spec,
                "same_name": self.person_spec, "linked_invalid": self.linked_spec,
                }.get(role, self.any_spec)()
        if role == "id15":
            spec = Spec("individual", "resident_id", "old")
        if spec.variant == "odd_area":
            abbr = self.odd_area()[1]
            province = next(p for p in PROVINCES if p.abbr == abbr)
        elif role == "name_fallback":
            province = PROVINCES[self.plain_province()]
        else:
            province = PROVINCES[self.province()]
        ent = self.f.entity(idx, spec, province, self.cloud())
        ent.home = self.home()
        if ent.is_org and role != "name_fallback":
            ent.name, tags = dirt.org_name(ent.name, self.name_style(), province.city)
            ent.tags += tags
        member, email, left = self._agency
        if not left and idx % 11 == 5:  # an agency files for the next three entities
            member, email, left = self.f.member(), self.f.email("icp.agency"), 3
        if left:
            ent.member, ent.admin_email = member, email
            ent.cloud_email = email if ent.cloud == "same" else ent.cloud_email
            ent.tags.append("agency_member")
            self._agency = (member, email, left - 1)
        self.new_entity(ent)
        return ent

    # --- helpers -------------------------------------------------------------------------

    def sites(self, e: Entity, at_least: int = 1) -> None:
        n = max(at_least, pick(self.rng, (1, 1, 2, 2, 2, 3)))
        e.websites = [self.f.website(e, self.product(e)) for _ in range(n)]

    def product(self, e: Entity) -> str:
        if e.is_org:
            return pick(self.rng, ("enterprise_website", "domain", "domain", "winport_shop"))
        return pick(self.rng, ("domain", "domain", "winport_shop"))

    def put_all(self, e: Entity, at_least: int = 1) -> list[str]:
        if not e.websites:
            self.sites(e, at_least)
        return [self.put(e, s) for s in e.websites]

    def repeat(self, e: Entity, files: list[str], tag: str, **over: Any) -> None:
        """The same website again, later in the run: a duplicate, maybe with a new domain."""
        i = between(self.rng, len(e.websites))
        site = e.websites[i]
        later = [f for f in FILES if RANK[f] >= RANK[files[i]]
                 and (f != "jsonl" or site.product == "winport_shop")]
        file = pick(self.rng, later)
        kind = self.dup_kind()
        extra = (self.f.domain(),) if kind == "extra_domain" else ()
        subject = self.subject(e, file, **over)
        self.emit(self.record(site, file, subject, (tag, "duplicate_" + kind), extra))

    def how(self, e: Entity) -> str:
        """How to spoil e's certificate; a passport or permit has no check digit to get wrong."""
        return "blank" if e.spec.cert_type in _NO_CHECK else self.invalid_how()

    def invalid(self, e: Entity, how: str) -> tuple[str, list[str]]:
        if how == "inner_org_code" and e.spec.cert_type == "uscc":
            body = e.cert[8:16]
            good = cd.org_code_check(body)
            bad = "0123456789X"[("0123456789X".index(good) + 4) % 11]
            return cd.make_uscc(e.cert[:2], e.cert[2:8], body + bad), ["uscc_bad_inner_org_code"]
        return dirt.invalid_certificate(e.spec.cert_type, e.cert,
                                        "wrong_check" if how == "inner_org_code" else how)

    # --- roles ---------------------------------------------------------------------------
