"""The generator's model: entities, their websites and domains, and the small helpers that
draw from a seeded random generator (the same seed, the same samples)."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import gcd
from typing import NamedTuple, TypeVar

from .vocab import Province

T = TypeVar("T")


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    """rng.choice, four times faster (this runs several times per record)."""
    return seq[int(rng.random() * len(seq))]


def between(rng: random.Random, start: int, stop: int | None = None) -> int:
    """rng.randrange(start, stop) for spans far below 2**53, faster."""
    if stop is None:
        start, stop = 0, start
    return start + int(rng.random() * (stop - start))


class Spec(NamedTuple):
    """What kind of entity to make: entity type, certificate type and a variant."""

    entity_type: str
    cert_type: str
    variant: str = ""  # letter | ma | odd_area | old | latin


class Domain(NamedTuple):
    id: int
    ascii: str  # the normal form: lower case, IDNA A-labels
    unicode: str  # the Unicode form (equal to ascii for plain domains)


@dataclass(slots=True)
class Website:
    part: int  # id of the entity filing number it extends
    k: int  # the -N suffix
    product: str
    domains: list[Domain]
    name: str
    filed: dt.date
    tags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Entity:
    idx: int
    spec: Spec
    key: str  # the identity key (identity.py)
    cert: str
    name: str
    province: Province
    eno: int  # id of the entity filing number
    year: int  # first filing year
    member: str
    tb_member: str
    admin_email: str
    cloud: str  # none | same | different
    cloud_email: str
    responsible: str
    phone: str
    websites: list[Website] = field(default_factory=list)
    label: str = ""  # short name for website names: the brand, or the person's name
    next_k: int = 1
    home: str = "gb"  # the file most of its records go to
    tags: list[str] = field(default_factory=list)

    @property
    def is_org(self) -> bool:
        return self.spec.entity_type != "individual"


class Perm:
    """A seeded bijection of range(m): unique outputs for unique serials."""

    def __init__(self, m: int, rng: random.Random) -> None:
        a = between(rng, m // 3, m) | 1
        while gcd(a, m) != 1:
            a += 2
        self.m, self.a, self.b = m, a, between(rng, m)

    def __call__(self, i: int) -> int:
        if i >= self.m:
            raise ValueError(f"sample size exceeds the serial space {self.m}")
        return (self.a * i + self.b) % self.m


_TAILS: dict[tuple[str, int], str] = {}


def idn_label(word: str, digits: str) -> str:
    """The A-label of a CJK word followed by ASCII digits, from a cache.

    Punycode writes the ASCII code points first, then encodes the others by deltas that
    depend on them and on how many ASCII ones there are, never on which: the part after
    the dash is the same for every number of the same length (the tests compare with idna).
    """
    tail = _TAILS.get((word, len(digits)))
    if tail is None:
        tail = (word + digits).encode("punycode").decode("ascii")[len(digits) + 1:]
        _TAILS[(word, len(digits))] = tail
    return f"xn--{digits}-{tail}"


@functools.cache
def a_labels(domain: str) -> str:
    """IDNA A-labels of a lower-case domain; equal to idna.encode(uts46=True) for the CJK
    labels made here (the tests check), and a hundred times faster."""
    return ".".join(
        "xn--" + label.encode("punycode").decode("ascii") if not label.isascii() else label
        for label in domain.split(".")
    )
