"""Operator look-up shapes (emnify ``GET /api/v1/operator``)."""

from __future__ import annotations

from pydantic import BaseModel


class CountryRead(BaseModel):
    id: int
    name: str
    country_code: int
    #: An integer in emnify's description (the MNCs stay strings: "01" is not 1).
    mcc: int
    iso_code: str


class MncRead(BaseModel):
    id: int
    mnc: str


class TapCodeRead(BaseModel):
    id: int
    tapcode: str


class OperatorRead(BaseModel):
    id: int
    name: str
    country_name: str
    name_and_country: str
    country: CountryRead
    mnc: list[MncRead]
    tapcode: list[TapCodeRead]
