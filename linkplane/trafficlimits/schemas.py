"""Service, traffic limit and extension shapes as emnify names them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

#: 1 PB: far beyond any device, small enough for every database's BIGINT.
MAX_VOLUME_BYTES = 10**15


class IdIn(BaseModel):
    """``{"id": 38}`` or ``{"id": "38"}`` (the reference types these ids as strings)."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=0, le=2**31 - 1)


class DataLimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: IdIn
    satellite_only: bool = False
    period: IdIn | None = None
    volume: int = Field(ge=1, le=MAX_VOLUME_BYTES, description="bytes per period")
    warning_percent: int | None = Field(None, ge=1, le=100)


class ExtensionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volume: int = Field(ge=1, le=MAX_VOLUME_BYTES, description="extra bytes")
    traffic_limit_id: int | None = Field(None, ge=1, le=2**31 - 1)


class ServiceRef(BaseModel):
    id: int
    description: str


class TrafficTypeRead(BaseModel):
    id: int
    description: str


class ServiceRead(BaseModel):
    id: int
    description: str
    used_with_vlr: bool
    used_with_sgsn: bool
    traffic_type: TrafficTypeRead | None = None


class PeriodRead(BaseModel):
    id: int
    time_units: int
    unit: str


class SmsLimitRead(BaseModel):
    id: int
    volume: int
    period: PeriodRead


class SmsLimitWithServiceRead(SmsLimitRead):
    service: ServiceRef


class ProfileServiceRead(BaseModel):
    """An item of a service profile's ``service`` list."""

    id: int
    description: str
    traffic_limit: list[SmsLimitRead]


class DataLimitRead(BaseModel):
    id: int
    service: ServiceRef
    satellite_only: bool
    period: PeriodRead
    volume: int
    warning_percent: int | None = None


class ExtensionRead(BaseModel):
    id: int
    endpoint_id: int
    traffic_limit_id: int
    volume: int
    expiration_date: datetime
    created_at: datetime
