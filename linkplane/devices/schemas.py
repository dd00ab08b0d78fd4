"""Endpoint shapes as the emnify API names them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from linkplane.ids import Code, Id


class IdRef(BaseModel):
    # References may carry what a client read before (``{"id": 1, "name": ...}``): only the
    # id counts, so the rest of a reference is ignored.
    model_config = ConfigDict(extra="ignore")

    id: Id


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Code
    description: str | None = None


class SimLink(BaseModel):
    """The endpoint's SIM: ``{"id": null}`` (or ``{}``) unlinks, as the emnify SDK's
    release_sim sends it; ``activate`` or ``status`` also move the SIM along its lifecycle."""

    model_config = ConfigDict(extra="forbid")

    id: Id | None = None
    #: emnify: activate after assignment (linkplane has no factory test mode per organisation,
    #: so this always means Activated).
    activate: bool = False
    #: An explicit SIM status, overriding ``activate``.
    status: StatusIn | None = None


class EndpointUpdate(BaseModel):
    # Unknown fields are refused (422 naming them): a typo must not be silently dropped.
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=255)
    tags: str | None = Field(None, max_length=255)
    imei: str | None = None
    imei_lock: bool | None = None
    status: StatusIn | None = None
    service_profile: IdRef | None = None
    tariff_profile: IdRef | None = None
    ip_address_space: IdRef | None = None
    ip_address: str | None = None
    sim: SimLink | None = None
    #: emnify's reseller field: only the caller's own organisation may be named.
    organisation: IdRef | None = None


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


class TariffProfileRef(NamedRef):
    #: linkplane's tariffs have no satellite ratezones, so no tariff profile is capable.
    satellite_capable: bool = False


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
    tariff_profile: TariffProfileRef
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




# --- bulk requests (emnify's /api/v2/endpoint/multi) ---------------------------------------

#: emnify's limit of endpoints per bulk request.
MAX_BULK = 2000


class BulkEndpointIn(BaseModel):
    """One endpoint of a bulk create; profiles, status and space are the request's."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=255)
    tags: str | None = Field(None, max_length=255)
    imei: str | None = None
    imei_lock: bool | None = None
    sim: SimLink | None = None
    ip_address: str | None = None


class EndpointBulkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_profile: IdRef
    tariff_profile: IdRef
    status: StatusIn
    organisation: IdRef | None = None
    #: Required when an endpoint gives an ``ip_address``; default the organisation's first.
    ip_address_space: IdRef | None = None
    endpoints: list[BulkEndpointIn] = Field(min_length=1, max_length=MAX_BULK)


class EndpointBulkUpdate(EndpointUpdate):
    """One item of a bulk update: the endpoint's id and only the fields to change."""

    id: Id


class EndpointIdIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id
