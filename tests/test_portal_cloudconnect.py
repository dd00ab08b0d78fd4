"""Cloud Connect pages without the workflow engine: the wizard's validation and review, the
breakout page's instructions, and who may see and do what (no browser)."""

from __future__ import annotations

import re

import pytest

from linkplane.attachments.regions import RegionInfo
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.tenancy.principal import Principal, Role
from tests.portal.client import PortalClient
from tests.portal.harness import Org
from tests.region_support import store_region

REGION = RegionInfo(
    name="eu-central-1", tgw_id="tgw-0123456789abcdef0",
    tgw_arn="arn:aws:ec2:eu-central-1:123456789012:transit-gateway/tgw-0123456789abcdef0",
    core_route_table_id="tgw-rtb-core", customers_route_table_id="tgw-rtb-customers",
    core_attachment_id="tgw-attach-core", core_vpc_cidr="10.255.0.0/16",
)  # fmt: skip
GOOD = {"name": "backend", "region": "eu-central-1", "aws_account_id": "210987654321",
        "description": "prod VPC", "type": "1"}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _region(portal_ctx: tuple[AppContext, dict[str, Org]]) -> None:
    """A bootstrapped region without a cloud."""
    store_region(portal_ctx[0].sessionmaker, REGION)


def _breakout(ctx: AppContext, org: Org, cidr: str, account: str, **changes: object) -> int:
    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutTgwCreate

    principal = Principal(user_id=None, org_id=org.id, role=Role.ADMIN)
    data = BreakoutTgwCreate(name=f"bo {cidr}", vpc_cidr=[cidr], region=REGION.name,
                             aws_account_id=account)  # fmt: skip
    with transaction(ctx.sessionmaker) as session:
        row = service.create_tgw(
            session=session, settings=ctx.settings, principal=principal, data=data
        )
        for key, value in changes.items():
            setattr(row, key, value)
        return row.id


def _count(ctx: AppContext) -> int:
    from linkplane.attachments import service

    with ctx.sessionmaker() as session:
        return sum(
            service.list_breakouts(session=session, org_id=o, limit=0)[1] for o in range(1, 5)
        )


def test_wizard_shows_every_error_next_to_its_field_and_creates_nothing(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    _breakout(ctx, tenants["globex"], "10.20.0.0/16", "111122223333")
    before = _count(ctx)
    web.sign_in(tenants["acme"].admin)
    token = web.csrf("/cloud-connect/new/details")
    form = {**GOOD, "name": "", "aws_account_id": "12345", "csrf_token": token,
            "vpc_cidr": ["10.1.0.0/24", "10.20.5.0/24", ""]}  # fmt: skip
    response = web.post("/cloud-connect/new/review", data=form)
    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="name-error"[^>]*>[^<]*at least 1 character', page)
    assert re.search(r'id="vpc_cidr-1-error"[^>]*>10.20.5.0/24 overlaps', page)
    assert 'id="vpc_cidr-0-error"' not in page
    assert "Nothing has been created" in page
    assert 'value="10.20.5.0/24"' in page  # what was typed is kept
    assert _count(ctx) == before


def test_service_errors_after_the_schema_passes_are_shown_too(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    web.sign_in(tenants["acme"].admin)
    token = web.csrf("/cloud-connect/new/details")
    form = {**GOOD, "aws_account_id": "12345", "csrf_token": token,
            "vpc_cidr": ["8.8.8.0/24"]}  # fmt: skip
    page = web.post("/cloud-connect/new/review", data=form).text
    assert re.search(r'id="aws_account_id-error"[^>]*>[^<]*12 digits', page)
    assert re.search(r'id="vpc_cidr-0-error"[^>]*>8.8.8.0/24 is not a private', page)


def test_valid_details_lead_to_a_review_without_creating(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    before = _count(ctx)
    web.sign_in(tenants["acme"].admin)
    token = web.csrf("/cloud-connect/new/details")
    form = {**GOOD, "csrf_token": token, "vpc_cidr": ["10.30.0.0/24", "10.31.0.0/24"]}
    response = web.post("/cloud-connect/new/review", data=form)
    assert response.status_code == 200
    assert "Review your Transit Gateway breakout" in response.text
    assert "10.30.0.0/24, 10.31.0.0/24" in response.text
    assert response.text.count('name="vpc_cidr"') == 4  # carried by Back and Create
    assert _count(ctx) == before


def test_wizard_offers_the_bootstrapped_regions_and_types(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    web.sign_in(tenants["acme"].admin)
    types = web.get("/cloud-connect/new").text
    assert re.search(r'value="1"\s+checked', types)
    assert re.search(r'value="2"\s+>', types)  # VPN: its own details step (test_portal_vpn)
    assert re.search(r'value="4"\s+>', types)  # BGP HA too: a second server in its details
    details = web.get("/cloud-connect/new/details?type=1").text
    assert '<option value="eu-central-1"' in details
    for label in ("Name", "Region", "AWS account id", "CIDR 1", "Description"):
        assert f">{label}</label>" in details


def test_breakout_page_says_what_to_do_with_real_ids(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    share = "arn:aws:ram:eu-central-1:123456789012:resource-share/abc"
    bid = _breakout(ctx, tenants["acme"], "10.40.0.0/24", "444455556666", share_arn=share)
    web.sign_in(tenants["acme"].admin)
    page = web.get(f"/cloud-connect/{bid}").text
    assert "Pending Customer Action" in page and 'id="invitation-expiry"' in page
    assert f"--resource-share-arns {share}" in page
    assert "aws ram accept-resource-share-invitation --region eu-central-1" in page
    assert f"--transit-gateway-id {REGION.tgw_id} --vpc-id &lt;your-vpc-id&gt;" in page
    assert "--destination-cidr-block 100.64.0.0/10" in page
    assert 'hx-trigger="every 2s"' in page
    live = web.get(f"/cloud-connect/{bid}/live").text
    assert live.lstrip().startswith('<div id="live"') and "<html" not in live
    assert "Breakout &#39;bo 10.40.0.0/24&#39; created" in live


def test_expired_breakout_offers_retry(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    bid = _breakout(ctx, tenants["acme"], "10.41.0.0/24", "444455557777", status_id=2,
                    expired=True, status_reason="invitation expired")  # fmt: skip
    web.sign_in(tenants["acme"].admin)
    page = web.get(f"/cloud-connect/{bid}").text
    assert ">Retry</button>" in page and "invitation expired" in page
    assert 'id="customer-steps"' not in page


def test_observer_sees_breakouts_and_changes_nothing(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    bid = _breakout(ctx, tenants["acme"], "10.42.0.0/24", "444455558888")
    web.sign_in(tenants["acme"].observer)
    listing = web.get("/cloud-connect").text
    assert "bo 10.42.0.0/24" in listing and "New breakout" not in listing
    page = web.get(f"/cloud-connect/{bid}").text
    assert "Delete" not in page and ">Retry<" not in page
    assert web.get("/cloud-connect/new").status_code == 403
    assert web.get(f"/cloud-connect/{bid}/delete").status_code == 403
    token = web.csrf(f"/cloud-connect/{bid}")
    for path in (f"/cloud-connect/{bid}/delete", f"/cloud-connect/{bid}/retry",
                 "/cloud-connect/new/review", "/cloud-connect/new/create"):  # fmt: skip
        response = web.post(path, data={"csrf_token": token, **GOOD,
                                            "vpc_cidr": ["10.43.0.0/24"]})  # fmt: skip
        assert response.status_code == 403, path


def test_other_organisations_breakouts_never_appear(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    theirs = _breakout(ctx, tenants["globex"], "10.44.0.0/24", "999988887777")
    web.sign_in(tenants["acme"].admin)
    assert "10.44.0.0/24" not in web.get("/cloud-connect").text
    assert web.get(f"/cloud-connect/{theirs}").status_code == 404
    assert web.get(f"/cloud-connect/{theirs}/live").status_code == 404
    token = web.csrf("/cloud-connect")
    response = web.post(f"/cloud-connect/{theirs}/delete", data={"csrf_token": token})
    assert response.status_code == 404


def test_breakout_page_shows_price_and_aws_cost_so_far(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    import json
    from datetime import timedelta

    from linkplane.attachments.models import Status
    from linkplane.db import utcnow
    from linkplane.events.models import Event

    ctx, _ = portal_ctx
    bid = _breakout(ctx, tenants["acme"], "10.41.0.0/24", "444455556667",
                    status_id=int(Status.ACTIVE))  # fmt: skip
    with transaction(ctx.sessionmaker) as session:
        session.add(Event(org_id=tenants["acme"].id, timestamp=utcnow() - timedelta(hours=20),
                          event_type="Breakout state changed", description="-> Active",
                          actor="workflow", entity_type="breakout", entity_id=bid,
                          detail=json.dumps({"from": 4, "to": 5})))  # fmt: skip
    web.sign_in(tenants["acme"].admin)
    page = web.get(f"/cloud-connect/{bid}").text
    cost = re.search(r'<dd id="aws-cost">([^<]*)</dd>', page)
    assert cost is not None, page
    text = " ".join(cost.group(1).split())
    assert text.startswith("1.00 USD (20.0 attachment-hours at 0.05 USD"), text
    assert "99.00 EUR a month" in page


def test_vpn_breakout_page_shows_tunnels_and_no_customer_steps(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    import json

    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutVpnCreate

    ctx, _ = portal_ctx
    principal = Principal(user_id=None, org_id=tenants["acme"].id, role=Role.ADMIN)
    data = BreakoutVpnCreate(type=2, name="site", region=REGION.name, public_ip="81.2.69.9",
                             on_prem_cidr=["10.48.0.0/24"])  # fmt: skip
    tunnels = [{"outside_ip": "203.0.113.7", "inside_cidr": "169.254.44.0/30", "status": "UP"}]
    with transaction(ctx.sessionmaker) as session:
        row = service.create_vpn(session=session, settings=ctx.settings, principal=principal,
                                 data=data)  # fmt: skip
        row.status_id, row.vpn_connection_id = 5, "vpn-0123456789abcdef0"
        row.vpn_tunnels = json.dumps(tunnels)
        bid = row.id
    web.sign_in(tenants["acme"].admin)
    page = web.get(f"/cloud-connect/{bid}").text
    assert "vpn-0123456789abcdef0" in page
    assert re.search(r'<tr class="vpn-tunnel">\s*<td>203.0.113.7</td><td>169.254.44.0/30</td>'
                     r'\s*<td><span class="badge ok">UP</span>', page), page  # fmt: skip
    assert f"/api/v1/cnc/breakout/{bid}/vpn_configuration" in page
    assert "accept-resource-share-invitation" not in page
