"""Tariff shapes as emnify's organization.yml and tariffprofiles.yml name them."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from linkplane.operators.schemas import CountryRead


class CurrencyRead(BaseModel):
    id: int
    code: str
    symbol: str


class RatezoneRead(BaseModel):
    id: int
    name: str
    ratezone_status_id: int
    #: In a tariff profile: whether the rate zone is selected there.
    selected: bool | None = None


class TariffRead(BaseModel):
    """A tariff; emnify gives most ids and counts as strings here."""

    id: int
    name: str
    description: str
    created: datetime
    tariff_status_id: str
    currency_id: str
    currency: CurrencyRead
    #: Tariff profiles using the tariff, and organisations assigned to it.
    used_count: str
    assigned_count: str
    ratezone: list[RatezoneRead]


class TariffRef(BaseModel):
    id: int
    name: str
    tariff_status_id: int
    ratezone: RatezoneRead


class CatalogueVolumeRead(BaseModel):
    """An inclusive volume on offer in a rate zone (``volume`` MB a month for ``rate``)."""

    id: int
    volume: float
    rate: float
    currency: CurrencyRead
    ratezone: RatezoneRead


class OrgInclusiveVolumeRead(BaseModel):
    """An organisation's inclusive volume; ``end_date`` is omitted when it runs on."""

    id: int
    volume: float
    rate: float
    pooled: bool
    start_date: datetime
    end_date: datetime | None = None
    currency: CurrencyRead
    tariff: TariffRef


class InclusiveVolumeAssign(BaseModel):
    """``PUT /organisation/{org}/inclusive_volume/{id}``: every field optional."""

    model_config = ConfigDict(extra="forbid")

    start_date: datetime | date | None = None
    end_date: datetime | date | None = None
    pooled: bool = True


class InclusiveVolumeAssigned(BaseModel):
    id: int
    start_date: datetime
    end_date: datetime | None = None
    pooled: bool


class ProfileVolumeRead(BaseModel):
    """A tariff profile's inclusive volume (emnify gives dates as plain strings here)."""

    id: int
    volume: float
    rate: float
    pooled: bool
    start_date: str
    end_date: str | None = None
    ratezone: RatezoneRead
    currency: CurrencyRead


class TariffChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1, le=2**31 - 1)


class CoverageRead(BaseModel):
    country: CountryRead
    #: How many operators the tariff profile's endpoints can use in the country.
    redundancy_count: int
