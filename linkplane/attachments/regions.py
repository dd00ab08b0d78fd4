"""What a breakout needs to know about a bootstrapped region, and where it comes from.

The regions feature (``linkplane.regions``) owns the ``region`` table filled by
``linkplane region bootstrap``. Breakouts read it through :func:`region_info` and
:func:`bootstrapped_regions` only, so the seam is these two functions and :class:`RegionInfo`.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.regions.models import Region


@dataclass(frozen=True)
class RegionInfo:
    name: str
    tgw_id: str
    tgw_arn: str
    core_route_table_id: str
    customers_route_table_id: str
    core_attachment_id: str
    core_vpc_cidr: str
    core_vpc_id: str = ""
    #: An aggregate the core VPC already routes to the TGW; CIDRs outside it get their own
    #: core VPC route from the breakout workflow.
    customer_aggregate_cidr: str | None = None

    def needs_vpc_route(self, cidr: str) -> bool:
        if not self.core_vpc_id:
            return False
        if not self.customer_aggregate_cidr:
            return True
        return not IPv4Network(cidr).subnet_of(IPv4Network(self.customer_aggregate_cidr))


def _from_row(row: Any) -> RegionInfo:
    return RegionInfo(
        name=row.name,
        tgw_id=row.tgw_id,
        tgw_arn=row.tgw_arn,
        core_route_table_id=row.core_route_table_id,
        customers_route_table_id=row.customers_route_table_id,
        core_attachment_id=row.core_attachment_id,
        core_vpc_cidr=row.core_vpc_cidr,
        core_vpc_id=getattr(row, "core_vpc_id", "") or "",
        customer_aggregate_cidr=getattr(row, "customer_aggregate_cidr", None),
    )


def _table_regions(session: Session) -> list[RegionInfo]:
    rows = session.scalars(select(Region)).all()
    return [_from_row(r) for r in rows if getattr(r, "tgw_id", None)]


def bootstrapped_regions(*, session: Session) -> list[RegionInfo]:
    """Every region with a bootstrapped Transit Gateway, sorted by name."""
    return sorted(_table_regions(session), key=lambda r: r.name)


def region_info(*, session: Session, name: str) -> RegionInfo | None:
    return next((r for r in _table_regions(session) if r.name == name), None)
