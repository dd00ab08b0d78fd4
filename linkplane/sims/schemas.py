"""SIM shapes as the emnify API names them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class StatusRef(BaseModel):
    id: int
    description: str | None = None


class IdRef(BaseModel):
    id: int


class OrgRef(BaseModel):
    id: int
    name: str


class SimEndpointRef(BaseModel):
    id: int
    name: str
    ip_address: str | None
    created: datetime
    last_updated: datetime


class SimRead(BaseModel):
    id: int
    iccid: str
    iccid_with_luhn: str
    imsi: str
    msisdn: str
    status: StatusRef
    production_date: datetime
    activation_date: datetime | None
    customer_org: OrgRef
    endpoint: SimEndpointRef | None


class SimUpdate(BaseModel):
    # emnify also accepts issuer_org/reseller_org/customer_org; linkplane has no reseller
    # hierarchy, so only the status can change (other fields are ignored).
    model_config = ConfigDict(extra="ignore")

    status: StatusRef | None = None


class SimBatchRegister(BaseModel):
    """``{"sim_status": {"id": 1}}`` per the spec; the emnify SDK sends ``{"id": 1, ...}``."""

    model_config = ConfigDict(extra="ignore")

    sim_status: IdRef | None = None
    id: int | None = None


class SimBatchRead(BaseModel):
    bic: str
    quantity: int
    customer_org_id: int
    status: StatusRef


class SimBatchRegistered(BaseModel):
    sim: list[SimRead]


class ImportReport(BaseModel):
    imported: int
    bics: list[str]
