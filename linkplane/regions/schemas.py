"""What callers see of a bootstrapped region."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    account_id: str
    tgw_id: str
    tgw_arn: str
    tgw_adopted: bool
    core_route_table_id: str
    customers_route_table_id: str
    core_vpc_id: str
    core_vpc_cidr: str
    core_vpc_adopted: bool
    core_attachment_id: str
    subnet_ids: list[str]
    device_cidr: str
    customer_aggregate_cidr: str | None
    peering_route_table_id: str | None = None
    created_at: datetime
    updated_at: datetime


class BootstrapResult(BaseModel):
    """A bootstrap's outcome: the stored region and what this run changed (empty: nothing)."""

    region: RegionRead
    changes: list[str]


class PeeringRead(BaseModel):
    """A cross-region peering as stored (``region`` requested it, ``peer_region`` accepted)."""

    model_config = ConfigDict(from_attributes=True)

    region: str
    peer_region: str
    attachment_id: str
    state: str
    created_at: datetime
    updated_at: datetime


class PeerResult(BaseModel):
    """A ``region peer`` run's outcome: the stored peering and what changed (empty: none)."""

    peering: PeeringRead
    changes: list[str]
