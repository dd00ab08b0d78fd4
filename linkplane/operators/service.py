"""Mobile network operators: a fixed look-up list (linkplane runs no radio network).

The list is a small, static sample of real operators (public MCC/MNC and TADIG codes) so
clients that show or filter by operator have stable ids to work with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    id: int
    name: str
    country_code: int
    mcc: int
    iso_code: str


@dataclass(frozen=True)
class Operator:
    id: int
    name: str
    country: Country
    mnc: tuple[str, ...]
    tapcode: tuple[str, ...]


_DE = Country(74, "Germany", 49, 262, "de")
_GB = Country(205, "United Kingdom", 44, 234, "gb")
_US = Country(211, "United States", 1, 310, "us")
_FR = Country(67, "France", 33, 208, "fr")

OPERATORS: tuple[Operator, ...] = (
    Operator(1, "Telekom", _DE, ("01",), ("DEUD1",)),
    Operator(2, "Vodafone", _DE, ("02",), ("DEUD2",)),
    Operator(3, "Telefonica O2", _DE, ("03",), ("DEUE2",)),
    Operator(4, "EE", _GB, ("30",), ("GBRME",)),
    Operator(5, "Vodafone", _GB, ("15",), ("GBRVF",)),
    Operator(6, "AT&T", _US, ("410",), ("USACG",)),
    Operator(7, "T-Mobile", _US, ("260",), ("USAW6",)),
    Operator(8, "Orange", _FR, ("01",), ("FRAF1",)),
)


def list_operators() -> tuple[Operator, ...]:
    return OPERATORS
