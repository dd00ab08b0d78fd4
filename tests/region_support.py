"""A bootstrapped region stored without a cloud, for tests that need one but no AWS."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments.regions import RegionInfo
from linkplane.db import transaction
from linkplane.regions.models import Region


def store_region(
    factory: sessionmaker[Session], info: RegionInfo, device_cidr: str = "100.64.0.0/10"
) -> None:
    """Write ``info`` as the region table row ``linkplane region bootstrap`` would."""
    with transaction(factory) as session:
        session.add(
            Region(
                name=info.name, account_id=info.tgw_arn.split(":")[4], tgw_id=info.tgw_id,
                tgw_arn=info.tgw_arn, core_route_table_id=info.core_route_table_id,
                customers_route_table_id=info.customers_route_table_id,
                core_vpc_id=info.core_vpc_id or "vpc-core", core_vpc_cidr=info.core_vpc_cidr,
                core_attachment_id=info.core_attachment_id, subnet_ids=[],
                device_cidr=device_cidr, customer_aggregate_cidr=info.customer_aggregate_cidr,
            )
        )  # fmt: skip
