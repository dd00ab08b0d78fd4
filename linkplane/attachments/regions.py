"""What a breakout needs to know about a bootstrapped region, and where it comes from.

The regions feature (``linkplane.regions``) owns the ``region`` table filled by
``linkplane region bootstrap``. Breakouts read it through :func:`region_info` and
:func:`bootstrapped_regions` only, so the seam is these two functions and :class:`RegionInfo`.
Regions registered with :func:`register_region` (tests, demos without a bootstrap) are used
as well, and win over the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from sqlalchemy.orm import Session


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


_registered: dict[str, RegionInfo] = {}


def register_region(info: RegionInfo) -> None:
    _registered[info.name] = info


def unregister_regions() -> None:
    _registered.clear()


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
    try:
        from linkplane.regions.models import Region  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the regions feature has not landed in this tree
        return []
    from sqlalchemy import select

    rows = session.scalars(select(Region)).all()
    return [_from_row(r) for r in rows if getattr(r, "tgw_id", None)]


def bootstrapped_regions(*, session: Session) -> list[RegionInfo]:
    """Every region with a bootstrapped Transit Gateway, sorted by name."""
    found = {r.name: r for r in _table_regions(session)}
    found.update(_registered)
    return [found[name] for name in sorted(found)]


def region_info(*, session: Session, name: str) -> RegionInfo | None:
    if name in _registered:
        return _registered[name]
    return next((r for r in _table_regions(session) if r.name == name), None)
