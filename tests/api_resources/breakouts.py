"""Cloud Connect breakout routes (``/api/v1/cnc/...``) in the isolation harness.

The harness runs no workflow engine and no cloud: the sample breakout is stored through the
service (as ``POST /breakout/tgw`` would, minus starting its workflow) on a region row made
for the harness database. For the same reason the declared create bodies are well-formed but
fail in the service (a region that is not bootstrapped, a VPN type), before any workflow
would start; isolation and roles are checked all the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from linkplane.attachments import service
from linkplane.attachments.schemas import BreakoutTgwCreate
from linkplane.db import transaction
from linkplane.regions.models import Region
from linkplane.tenancy.principal import Principal, Role
from tests.api_harness import Harness, lookup, resource, secret

REGION = "eu-central-1"

lookup(
    "/api/v1/cnc/breakout_type",
    "/api/v1/cnc/breakout_type/{breakout_type_id}/available_region",
)


def _region(h: Harness) -> None:
    with transaction(h.factory) as session:
        if session.scalar(select(Region.id).where(Region.name == REGION)) is None:
            session.add(Region(
                name=REGION, account_id="111111111111", tgw_id="tgw-harness",
                tgw_arn="arn:aws:ec2:eu-central-1:111111111111:transit-gateway/tgw-harness",
                core_route_table_id="tgw-rtb-core", customers_route_table_id="tgw-rtb-cust",
                core_vpc_id="vpc-core", core_vpc_cidr="10.255.0.0/16",
                core_attachment_id="tgw-attach-core", device_cidr="100.64.0.0/10",
            ))  # fmt: skip


def _create_body(h: Harness) -> dict[str, Any]:
    # us-west-2 is a known region the harness never bootstrapped: 422 before any workflow.
    return {"type": 1, "name": h.unique("bo"), "vpc_cidr": ["10.200.0.0/24"],
            "region": "us-west-2", "aws_account_id": "222222222222"}  # fmt: skip


@resource(
    "/api/v1/cnc/breakout",
    "/api/v1/cnc/breakout/tgw",
    "/api/v1/cnc/breakout/vpn",
    "/api/v1/cnc/breakout/{cloudconnect_attachment_id}",
    "/api/v1/cnc/breakout/{cloudconnect_attachment_id}/event",
    "/api/v1/cnc/breakout/{cloudconnect_attachment_id}/recheck",
    bodies={
        "POST /api/v1/cnc/breakout/tgw": _create_body,
        "POST /api/v1/cnc/breakout/vpn": {"type": {"id": 2}, "name": "vpn"},
    },
)
def breakout(h: Harness) -> dict[str, Any]:
    _region(h)
    n = h.counter + 1
    data = BreakoutTgwCreate(
        name=h.unique("bo"), description=h.unique("desc"), region=REGION,
        vpc_cidr=[f"10.{n // 256 % 200}.{n % 256}.0/24"], aws_account_id=f"4{n:011d}",
    )  # fmt: skip
    owner = Principal(user_id=h.owner.admin_id, org_id=h.owner.id, role=Role.ADMIN)
    with transaction(h.factory) as session:
        row = service.create_tgw(session=session, settings=h.settings, principal=owner, data=data)
        return {"cloudconnect_attachment_id": row.id}


@secret("/api/v1/cnc/breakout/{cloudconnect_attachment_id}/vpn_configuration")
def breakout_secret(h: Harness) -> dict[str, Any]:
    """The customer router's configuration holds the pre-shared keys: writers only."""
    return breakout(h)
