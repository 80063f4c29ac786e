"""Which rule case each entity exercises: one method per role (`role_<name>`), called by
ScenarioBase.run; pairs of entities make the conflicts."""

from __future__ import annotations

from typing import Any

from . import checkdigits as cd
from . import dirt
from .model import Entity
from .records import ORG_CODE, OTHER, RID15
from .scenario_base import HOMES, ScenarioBase

__all__ = ["HOMES", "Scenarios"]


class Scenarios(ScenarioBase):
    def role_plain(self, e: Entity) -> None:
        self.put_all(e)

    def role_duplicate(self, e: Entity) -> None:
        files = self.put_all(e)
        self.repeat(e, files, "repeated_website")

    def role_spread(self, e: Entity) -> None:
        e.tags.append("spread_members_layouts")
        first = "enterprise_website" if e.is_org else "domain"
        e.websites = [self.f.website(e, p) for p in (first, "winport_shop", "domain", "domain")]
        m2 = self.f.member()
        for site, file, member in zip(e.websites, ("gb", "jsonl", "db", "utf8"),
                                      (e.member, "", m2, m2), strict=True):
            self.put(e, site, file, member)
        self.emit(self.record(e.websites[0], "db", self.subject(e, "db", m2),
                              ("duplicate_identical",)))

    def role_org_code(self, e: Entity) -> None:
        files = self.put_all(e)
        code = e.cert[8:17]
        for new in (True, False):
            dash = self.dash()
            tags = ["org_code_elsewhere", "org_code_dash" if dash else "org_code_no_dash"]
            if dash == "－":
                tags.append("cert_fullwidth_hyphen")
            over: dict[str, Any] = dict(cert_type="org_code", cert_text=code[:8] + dash + code[8],
                                        cert_kind=ORG_CODE, tags=tags)
            if new:
                self.put(e, self.f.website(e, self.product(e)), **over)
            else:
                self.repeat(e, files, "org_code_elsewhere", **over)

    def role_id15(self, e: Entity) -> None:
        files = self.put_all(e)
        over: dict[str, Any] = dict(cert_text=cd.rid15_of(e.cert), cert_kind=RID15,
                                    tags=["rid15_elsewhere"])
        self.put(e, self.f.website(e, self.product(e)), **over)
        self.repeat(e, files, "rid15_elsewhere", **over)

    def role_linked_invalid(self, e: Entity) -> None:
        self.put_all(e)
        hows = [self.how(e)] + (["inner_org_code"] if e.spec.cert_type == "uscc" else [])
        for how in hows:
            via = self.via()
            text, tags = self.invalid(e, how)
            over: dict[str, Any] = dict(cert_text=text, key=-1, cert_kind=OTHER)
            if via == "eno":
                part = self.f.numbers.new(e.province, e.year)
                site = self.f.website(e, self.product(e), part=part)
                over |= dict(eno=e.eno, eno_text=self.icp(self.f.numbers.text[e.eno])[0])
                tags.append("invalid_cert_linked_by_entity_number")
            else:
                site = self.f.website(e, self.product(e))
                over |= dict(eno=-1, eno_text="")
                tags.append("invalid_cert_linked_by_website_number")
            self.put(e, site, tags=tuple(tags), **over)

    def role_name_fallback(self, e: Entity) -> None:
        self.put_all(e)
        site = self.f.website(e, self.product(e), part=self.f.numbers.new(e.province, e.year))
        prov_text, _ = dirt.province(e.province, self.prov_style())
        self.put(e, site, tags=("name_fallback", "name_spaces", "cert_blank"), cert_text="",
                 key=-1, cert_kind=OTHER, eno=-1, eno_text="", province_text=prov_text,
                 name=dirt.spaced_name(e.name, self.rng))

    def role_unlinked_invalid(self, e: Entity) -> None:
        self.put_all(e)
        text, tags = self.invalid(e, self.how(e))
        part = self.f.numbers.new(e.province, e.year)
        site = self.f.website(e, self.product(e), part=part)
        if e.is_org:
            name = self.f.org_name(e.spec.entity_type, e.province)
        else:
            name, tags = e.name, tags + ["individual_same_name_not_merged"]
        with_eno = self.toggle()
        self.put(e, site, tags=("invalid_cert_unlinked", *tags), cert_text=text, key=-1,
                 cert_kind=OTHER, name=name, eno=part if with_eno else -1,
                 eno_text=self.icp(self.f.numbers.text[part])[0] if with_eno else "")

    def role_same_name(self, a: Entity, b: Entity) -> None:
        b.name = b.responsible = b.label = a.name
        for e in (a, b):
            e.tags.append("same_name_individuals")
            self.put_all(e)

    def role_ambiguous_eno(self, a: Entity, b: Entity) -> None:
        self.put_all(a)
        b.tags.append("entity_number_of_two_certificates")
        self.sites(b)
        for site in b.websites:
            self.put(b, site, eno=a.eno, eno_text=self.icp(self.f.numbers.text[a.eno])[0])
        text, tags = self.invalid(a, "blank" if self.toggle() else "wrong_check")
        name = self.f.org_name(a.spec.entity_type, a.province) if a.is_org else \
            self.f.person_name()
        self.put(a, self.f.website(a, self.product(a)), tags=("depends_on_ambiguous_number",
                                                               *tags),
                 cert_text=text, key=-1, cert_kind=OTHER, name=name, eno=a.eno,
                 eno_text=self.icp(self.f.numbers.text[a.eno])[0])

    def role_website_conflict(self, a: Entity, b: Entity) -> None:
        self.sites(a, 2)
        a.websites[0].tags.append("website_number_conflict")
        self.put_all(a)
        self.put_all(b)
        site = self.f.website(b, a.websites[0].product)
        site.part, site.k = a.websites[0].part, a.websites[0].k
        self.put(b, site, tags=("website_number_conflict",))

    def role_domain_conflict(self, a: Entity, b: Entity) -> None:
        self.sites(a, 2)
        self.sites(b, 2)
        b.websites[0].domains.append(a.websites[0].domains[0])
        for e in (a, b):
            e.websites[0].tags.append("domain_conflict")
            self.put_all(e)
