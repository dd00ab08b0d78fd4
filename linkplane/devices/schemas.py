"""Endpoint shapes as the emnify API names them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IdRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int


class OptionalIdRef(BaseModel):
    """``{"id": null}`` (or ``{}``) unlinks, as the emnify SDK's release_sim sends it."""

    model_config = ConfigDict(extra="ignore")

    id: int | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    description: str | None = None


class EndpointUpdate(BaseModel):
    # emnify clients may send fields linkplane does not model (organisation, ...): ignored.
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, max_length=255)
    tags: str | None = Field(None, max_length=255)
    imei: str | None = None
    imei_lock: bool | None = None
    status: StatusIn | None = None
    service_profile: IdRef | None = None
    tariff_profile: IdRef | None = None
    ip_address_space: IdRef | None = None
    ip_address: str | None = None
    sim: OptionalIdRef | None = None


class EndpointCreate(EndpointUpdate):
    status: StatusIn
    service_profile: IdRef
    tariff_profile: IdRef


class StatusRead(BaseModel):
    id: int
    description: str


class NamedRef(BaseModel):
    id: int
    name: str


class SpaceRef(BaseModel):
    id: int


class EndpointSimRead(BaseModel):
    id: int
    iccid: str
    iccid_with_luhn: str
    imsi: str
    msisdn: str
    status: StatusRead


class EndpointRead(BaseModel):
    id: int
    name: str
    tags: str | None
    created: datetime
    last_updated: datetime
    status: StatusRead
    service_profile: NamedRef
    tariff_profile: NamedRef
    ip_address: str | None
    ip_address_space: SpaceRef | None
    sim: EndpointSimRead | None
    imei: str | None
    imei_with_luhn: str | None
    imei_lock: bool


class ConnectivityReset(BaseModel):
    """``{"location": null}`` and/or ``{"pdp_context": null}`` (values are not used)."""

    model_config = ConfigDict(extra="forbid")

    location: Any = None
    pdp_context: Any = None


class ConnectivityRead(BaseModel):
    status: StatusRead
    location: dict[str, Any] | None
    pdp_context: dict[str, Any] | None
    services: list[str]


