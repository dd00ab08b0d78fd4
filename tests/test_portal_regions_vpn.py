"""The portal across regions for VPN breakouts (issue 11): like a TGW breakout, a VPN one
serves the organisation's devices in peered regions, and the wizard and its page say so."""

from __future__ import annotations

from sqlalchemy import delete

from linkplane.attachments import service
from linkplane.attachments.schemas import BreakoutVpnCreate
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.profiles.models import ServiceProfile
from linkplane.tenancy.principal import Principal, Role
from tests.portal.client import PortalClient
from tests.portal.harness import Org
from tests.test_portal_regions import HERE, SOUTH, WEST, _profile
from tests.test_portal_regions import _regions as _regions  # the module's regions


def test_vpn_region_step_shows_the_peered_regions_devices(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    web.sign_in(tenants["acme"].admin)
    for type_id in (2, 3, 4):
        details = web.get(f"/cloud-connect/new/details?type={type_id}").text
        assert ('<option value="eu-central-1" >eu-central-1 (devices breaking out in '
                "eu-central-1, eu-west-1)</option>") in details, type_id  # fmt: skip
        assert "eu-south-1 (devices breaking out in eu-south-1)</option>" in details  # unpeered


def test_vpn_breakout_page_says_it_serves_the_peered_regions_devices(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    org = tenants["globex"]
    _profile(ctx, org, WEST.name)
    _profile(ctx, org, SOUTH.name)
    principal = Principal(user_id=None, org_id=org.id, role=Role.ADMIN)
    data = BreakoutVpnCreate(type=2, name="site", region=HERE.name, public_ip="81.2.69.160",
                             on_prem_cidr=["10.78.0.0/24"])  # fmt: skip
    with transaction(ctx.sessionmaker) as session:
        bid = service.create_vpn(session=session, settings=ctx.settings, principal=principal,
                                 data=data).id  # fmt: skip
    web.sign_in(org.admin)
    page = web.get(f"/cloud-connect/{bid}").text
    assert ('<dd id="device-regions">eu-central-1 (this region); '
            "eu-south-1 (not served: eu-south-1 is not peered with eu-central-1); "
            "eu-west-1 (over the region peering with eu-central-1)</dd>") in page  # fmt: skip
    assert "VPN breakouts serve their own region only" not in page
    with transaction(ctx.sessionmaker) as session:
        session.execute(delete(ServiceProfile).where(ServiceProfile.org_id == org.id,
                                                     ServiceProfile.breakout_region.is_not(None)))
