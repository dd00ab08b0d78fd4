"""SIM shapes as the emnify API names them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from linkplane.ids import Code, Id


class StatusRef(BaseModel):
    id: Code
    description: str | None = None


class IdRef(BaseModel):
    # A reference may echo what a client read (``{"id": 1, "name": ...}``): only id counts.
    model_config = ConfigDict(extra="ignore")

    id: Code


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
    """Rendered with ``exclude_none``: like emnify, a SIM without an activation date or an
    endpoint has no such key (rather than ``null``)."""

    id: int
    iccid: str
    iccid_with_luhn: str
    imsi: str
    msisdn: str
    status: StatusRef
    production_date: datetime
    activation_date: datetime | None = None
    customer_org: OrgRef
    endpoint: SimEndpointRef | None = None


class SimUpdate(BaseModel):
    """Only the status can change: linkplane has no reseller hierarchy, so the organisation
    fields may only name the caller's own organisation (``customer_org``) or are ignored
    (``issuer_org``, ``reseller_org``). The ``*_organisation`` names are what the emnify SDK
    0.5.3 sends for the same fields. Anything else is refused."""

    model_config = ConfigDict(extra="forbid")

    status: StatusRef | None = None
    issuer_org: IdRef | None = None
    reseller_org: IdRef | None = None
    customer_org: IdRef | None = None
    issuer_organisation: IdRef | None = None
    reseller_organisation: IdRef | None = None
    customer_organisation: IdRef | None = None

    def customer(self) -> IdRef | None:
        return self.customer_org or self.customer_organisation


class SimIdIn(BaseModel):
    """One item of ``DELETE /sim/multi``."""

    model_config = ConfigDict(extra="forbid")

    id: Id


class SimBatchRegister(BaseModel):
    """``{"sim_status": {"id": 1}}`` per the spec; the emnify SDK sends
    ``{"id": 1, "description": "Activated"}``."""

    model_config = ConfigDict(extra="forbid")

    sim_status: IdRef | None = None
    id: Code | None = None
    description: str | None = None


class SimBatchRead(BaseModel):
    bic: str
    #: A string in emnify's description.
    quantity: str
    customer_org_id: int
    status: StatusRef


class SimBatchRegistered(BaseModel):
    sim: list[SimRead]


class ImportReport(BaseModel):
    imported: int
    bics: list[str]


# --- migration between organisations (POST /api/v1/sim/migration/workspace) ---------------


class IccidRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(max_length=19)
    end: str = Field(max_length=19)


class MigrationRef(BaseModel):
    """A workspace, SIM or status by id (bounded: ids are 32-bit)."""

    id: Code


class MigrationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_workspace: MigrationRef
    sims: list[MigrationRef] | None = Field(default=None, max_length=2000)
    iccids: list[str] | None = Field(default=None, max_length=2000)
    iccid_range: IccidRange | None = None
    dry_run: bool = True
    auto_detach_devices: bool = False
    allowed_sim_statuses: list[MigrationRef] | None = Field(default=None, max_length=10)


class MigratedSim(BaseModel):
    """Rendered with ``exclude_none``: no ``endpoint`` key when none was attached."""

    id: int
    iccid: str
    iccid_with_luhn: str
    status: StatusRef
    source_workspace: OrgRef
    endpoint: OrgRef | None = None


class MigrationResult(BaseModel):
    sim_count: int
    dry_run: bool
    auto_detach_devices: bool
    target_workspace: OrgRef
    allowed_sim_statuses: list[StatusRef] | None = None
    sims: list[MigratedSim]
