"""The portal across regions (issue 11), without the workflow engine: the wizard's region step
shows available_region's (attachment region, device breakout region) pairs, and a breakout's
page says where the devices it serves break out."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import delete

from linkplane.attachments.regions import RegionInfo
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.profiles.models import ServiceProfile
from linkplane.regions.models import RegionPeering
from linkplane.tenancy.principal import Principal, Role
from tests.portal.client import PortalClient
from tests.portal.harness import Org
from tests.region_support import store_region

HERE = RegionInfo(
    name="eu-central-1", tgw_id="tgw-0123456789abcdef0",
    tgw_arn="arn:aws:ec2:eu-central-1:123456789012:transit-gateway/tgw-0123456789abcdef0",
    core_route_table_id="tgw-rtb-core", customers_route_table_id="tgw-rtb-customers",
    core_attachment_id="tgw-attach-core", core_vpc_cidr="10.255.0.0/16",
)  # fmt: skip
WEST = replace(HERE, name="eu-west-1", tgw_id="tgw-0fedcba9876543210",
               tgw_arn="arn:aws:ec2:eu-west-1:123456789012:transit-gateway/tgw-0fedcba9876543210")
SOUTH = replace(HERE, name="eu-south-1", tgw_id="tgw-0aaaabbbbccccdddd",
                tgw_arn="arn:aws:ec2:eu-south-1:123456789012:transit-gateway/tgw-0aaaabbbbccccdddd")


@pytest.fixture(scope="module", autouse=True)
def _regions(portal_ctx: tuple[AppContext, dict[str, Org]]) -> None:
    """Three bootstrapped regions (no cloud), each with its pool; only two of them peered."""
    factory = portal_ctx[0].sessionmaker
    store_region(factory, HERE, "100.64.0.0/12")
    store_region(factory, WEST, "100.80.0.0/12")
    store_region(factory, SOUTH, "100.96.0.0/12")
    with transaction(factory) as session:
        session.add(RegionPeering(region=HERE.name, peer_region=WEST.name,
                                  attachment_id="tgw-attach-peering", state="available"))


def _profile(ctx: AppContext, org: Org, region: str) -> None:
    with transaction(ctx.sessionmaker) as session:
        session.add(ServiceProfile(org_id=org.id, name=f"in {region}", breakout_region=region))


def test_region_step_shows_where_devices_break_out(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    web.sign_in(tenants["acme"].admin)
    details = web.get("/cloud-connect/new/details?type=1").text
    assert ('<option value="eu-central-1" >eu-central-1 (devices breaking out in eu-central-1, '
            "eu-west-1)</option>") in details  # fmt: skip
    assert "eu-west-1 (devices breaking out in eu-central-1, eu-west-1)" in details
    assert "eu-south-1 (devices breaking out in eu-south-1)</option>" in details  # not peered
    # a VPN breakout serves the peered region's devices too (tests/test_portal_regions_vpn.py)
    vpn = web.get("/cloud-connect/new/details?type=2").text
    assert "eu-central-1 (devices breaking out in eu-central-1, eu-west-1)</option>" in vpn


def test_breakout_page_says_where_its_devices_break_out(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutTgwCreate

    ctx, _ = portal_ctx
    org = tenants["globex"]
    _profile(ctx, org, WEST.name)
    _profile(ctx, org, SOUTH.name)
    principal = Principal(user_id=None, org_id=org.id, role=Role.ADMIN)
    data = BreakoutTgwCreate(name="backend", vpc_cidr=["10.77.0.0/24"], region=HERE.name,
                             aws_account_id="444455556666")  # fmt: skip
    with transaction(ctx.sessionmaker) as session:
        bid = service.create_tgw(session=session, settings=ctx.settings, principal=principal,
                                 data=data).id  # fmt: skip
    web.sign_in(org.admin)
    page = web.get(f"/cloud-connect/{bid}").text
    assert ('<dd id="device-regions">eu-central-1 (this region); '
            "eu-south-1 (not served: eu-south-1 is not peered with eu-central-1); "
            "eu-west-1 (over the region peering with eu-central-1)</dd>") in page  # fmt: skip
    with transaction(ctx.sessionmaker) as session:
        session.execute(delete(ServiceProfile).where(ServiceProfile.org_id == org.id,
                                                     ServiceProfile.breakout_region.is_not(None)))
    page = web.get(f"/cloud-connect/{bid}").text
    assert '<dd id="device-regions">eu-central-1 (this region)</dd>' in page
