"""The portal's VPN breakouts without a browser: the wizard's VPN steps (types 2, 3 and 4),
their field-by-field errors, the breakout page's tunnels and the configuration download."""

from __future__ import annotations

import json
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
GOOD = {"type": "2", "name": "site", "region": "eu-central-1", "public_ip": "81.2.69.30",
        "description": "data centre"}  # fmt: skip
TUNNELS = [
    {"outside_ip": "203.0.113.7", "inside_cidr": "169.254.44.0/30", "status": "UP",
     "last_status_change": "2026-12-04T10:00:00+00:00", "bytes_in": 1234.0, "bytes_out": 567.0},
    {"outside_ip": "203.0.113.8", "inside_cidr": "169.254.44.4/30", "status": "DOWN"},
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _region(portal_ctx: tuple[AppContext, dict[str, Org]]) -> None:
    """A bootstrapped region without a cloud."""
    store_region(portal_ctx[0].sessionmaker, REGION)


def _count(ctx: AppContext) -> int:
    from linkplane.attachments import service

    with ctx.sessionmaker() as session:
        return sum(
            service.list_breakouts(session=session, org_id=o, limit=0)[1] for o in range(1, 5)
        )


def _active_vpn(ctx: AppContext, org: Org, cidr: str, psk: str = "site.key_1") -> int:
    """A static VPN breakout as the workflow leaves it once Active (no cloud here)."""
    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutVpnCreate

    principal = Principal(user_id=None, org_id=org.id, role=Role.ADMIN)
    data = BreakoutVpnCreate(type=2, name=f"vpn {cidr}", region=REGION.name,
                             public_ip="81.2.69.31", psk=psk, on_prem_cidr=[cidr])  # fmt: skip
    with transaction(ctx.sessionmaker) as session:
        row = service.create_vpn(session=session, settings=ctx.settings, principal=principal,
                                 data=data)  # fmt: skip
        row.status_id, row.vpn_connection_id = 5, "vpn-0123456789abcdef0"
        row.vpn_tunnels = json.dumps(TUNNELS)
        return row.id


def test_type_step_offers_the_vpn_types_of_the_region(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    web.sign_in(tenants["acme"].admin)
    types = web.get("/cloud-connect/new").text
    assert re.search(r'value="1"\s+checked', types)
    for type_id in (2, 3, 4):
        assert re.search(rf'value="{type_id}"\s+>', types), types
    assert "create it through the API for now" not in types


def test_vpn_details_ask_for_the_vpn_server_and_asn_only_for_bgp(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    web.sign_in(tenants["acme"].admin)
    static = web.get("/cloud-connect/new/details?type=2").text
    assert "New IPSec VPN breakout" in static
    for label in ("Name", "Region", "Public IP of your VPN server", "CIDR 1",
                  "Pre-shared key (optional)", "Description"):  # fmt: skip
        assert f">{label}</label>" in static, label
    assert 'name="asn"' not in static and 'name="aws_account_id"' not in static
    assert 'action="/cloud-connect/new/vpn/review"' in static
    bgp = web.get("/cloud-connect/new/details?type=3").text
    assert ">BGP ASN of your router</label>" in bgp


def test_every_vpn_error_is_shown_next_to_its_field_and_nothing_is_created(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    before = _count(ctx)
    web.sign_in(tenants["acme"].admin)
    form = {**GOOD, "type": "3", "public_ip": "192.168.1.1", "psk": "0starts-badly",
            "asn": "7224", "on_prem_cidr": ["10.50.0.0/24", "100.64.1.0/24", ""],
            "csrf_token": web.csrf("/cloud-connect/new/details?type=3")}  # fmt: skip
    response = web.post("/cloud-connect/new/vpn/review", data=form)
    assert response.status_code == 422
    page = response.text
    assert re.search(r'id="public_ip-error"[^>]*>192.168.1.1 is not a public address', page)
    assert re.search(r'id="psk-error"[^>]*>the pre-shared key must be 8 to 64', page)
    assert re.search(r'id="asn-error"[^>]*>ASN 7224 is reserved by AWS', page)
    assert re.search(r'id="on_prem_cidr-1-error"[^>]*>100.64.1.0/24 overlaps', page), page
    assert 'id="on_prem_cidr-0-error"' not in page
    assert "correct the 4 problems" in page and "Nothing has been created" in page
    assert 'value="100.64.1.0/24"' in page and 'value="7224"' in page  # kept as typed
    assert _count(ctx) == before


def test_bgp_without_or_with_a_bad_asn_names_the_asn(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    web.sign_in(tenants["acme"].admin)
    token = web.csrf("/cloud-connect/new/details?type=3")
    for asn, message in (("", "needs the ASN of your router"), ("abc", "valid integer")):
        form = {**GOOD, "type": "3", "asn": asn, "on_prem_cidr": ["10.51.0.0/24"],
                "csrf_token": token}  # fmt: skip
        page = web.post("/cloud-connect/new/vpn/review", data=form).text
        assert re.search(rf'id="asn-error"[^>]*>[^<]*{message}', page), (asn, page)


def test_valid_vpn_is_reviewed_then_created(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    from linkplane.attachments import service, vpn

    ctx, _ = portal_ctx
    before = _count(ctx)
    web.sign_in(tenants["acme"].admin)
    form = {**GOOD, "type": "3", "asn": "65010", "psk": "my.key_1234",
            "on_prem_cidr": ["10.52.0.0/24", "10.53.0.0/24"],
            "csrf_token": web.csrf("/cloud-connect/new/details?type=3")}  # fmt: skip
    review = web.post("/cloud-connect/new/vpn/review", data=form)
    assert review.status_code == 200, review.text
    facts = review.text
    assert "Review your IPSec VPN BGP breakout" in facts
    assert "10.52.0.0/24, 10.53.0.0/24" in facts and "81.2.69.30" in facts and "65010" in facts
    assert "yours (not shown)" in facts
    assert facts.count('name="on_prem_cidr"') == 4  # carried by Back and Create
    assert _count(ctx) == before

    back = web.post("/cloud-connect/new/vpn/details", data=form)
    assert back.status_code == 200 and 'value="10.53.0.0/24"' in back.text

    created = web.post("/cloud-connect/new/vpn/create", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text
    found = re.fullmatch(r"/cloud-connect/(\d+)\?started=1", created.headers["location"])
    assert found is not None
    with ctx.sessionmaker() as session:
        row = service.get_breakout(session=session, org_id=tenants["acme"].id,
                                   breakout_id=int(found.group(1)))  # fmt: skip
        psk = vpn.unseal_psk(row.vpn_psk_sealed, signing_key=ctx.settings.signing_key())
        assert (row.type_id, row.vpn_public_ip, row.vpn_asn, psk, row.cidr_list) == (
            3,
            "81.2.69.30",
            65010,
            "my.key_1234",
            ["10.52.0.0/24", "10.53.0.0/24"],
        )
    page = web.get(created.headers["location"]).text
    assert 'id="setup-started"' in page and "nothing to do there" in page
    assert 'id="vpn-public-ip">81.2.69.30<' in page


def test_ha_vpn_asks_for_a_second_server_and_creates_type_4(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    """Type 4 (BGP HA): a second VPN server, checked like the first and not the same one."""
    from linkplane.attachments import service

    ctx, _ = portal_ctx
    web.sign_in(tenants["acme"].admin)
    page = web.get("/cloud-connect/new/details?type=4").text
    assert ">Public IP of your second VPN server</label>" in page
    assert ">BGP ASN of your router</label>" in page
    assert 'name="public_ip_2"' not in web.get("/cloud-connect/new/details?type=3").text
    token = web.csrf("/cloud-connect/new/details?type=4")
    form = {**GOOD, "type": "4", "asn": "65020", "on_prem_cidr": ["10.59.0.0/24"],
            "csrf_token": token}  # fmt: skip
    before = _count(ctx)
    for second, says in (("", "public_ip_2"), ("81.2.69.30", "same as public_ip"),
                         ("10.0.0.1", "public_ip_2")):  # fmt: skip
        bad = web.post("/cloud-connect/new/vpn/review", data={**form, "public_ip_2": second})
        assert bad.status_code == 422, bad.text
        assert 'id="public_ip_2-error"' in bad.text and says in bad.text, second
    assert _count(ctx) == before
    good = {**form, "public_ip_2": "81.2.69.40"}
    review = web.post("/cloud-connect/new/vpn/review", data=good)
    assert review.status_code == 200 and "81.2.69.40" in review.text, review.text
    created = web.post("/cloud-connect/new/vpn/create", data=good, follow_redirects=False)
    assert created.status_code == 303, created.text
    found = re.fullmatch(r"/cloud-connect/(\d+)\?started=1", created.headers["location"])
    assert found is not None
    with ctx.sessionmaker() as session:
        row = service.get_breakout(session=session, org_id=tenants["acme"].id,
                                   breakout_id=int(found.group(1)))  # fmt: skip
        assert (row.type_id, row.vpn_public_ip, row.vpn_public_ip_2, row.vpn_asn) == (
            4, "81.2.69.30", "81.2.69.40", 65020)  # fmt: skip
    shown = web.get(created.headers["location"]).text
    assert 'id="vpn-public-ip-2">81.2.69.40<' in shown


def test_breakout_page_shows_tunnels_with_state_and_traffic_and_downloads(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    bid = _active_vpn(ctx, tenants["acme"], "10.54.0.0/24")
    web.sign_in(tenants["acme"].admin)
    page = web.get(f"/cloud-connect/{bid}").text
    assert "VPN server 81.2.69.31" in web.get("/cloud-connect").text
    rows = re.findall(r'<tr class="vpn-tunnel">(.*?)</tr>', page, re.S)
    assert len(rows) == 2, page
    text = [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in rows]
    assert text[0] == ("203.0.113.7 169.254.44.0/30 UP 2026-12-04T10:00:00+00:00 "
                       "1234 bytes 567 bytes")  # fmt: skip
    assert text[1] == "203.0.113.8 169.254.44.4/30 DOWN - 0 bytes 0 bytes"
    assert "accept-resource-share-invitation" not in page
    for vendor in ("strongswan", "generic"):
        assert f'href="/cloud-connect/{bid}/vpn-configuration?vendor={vendor}" download' in page
        response = web.get(f"/cloud-connect/{bid}/vpn-configuration?vendor={vendor}")
        assert response.status_code == 200
        assert response.headers["content-disposition"] == (
            f'attachment; filename="linkplane-breakout-{bid}-{vendor}.conf"'
        )
        assert "203.0.113.7" in response.text and "203.0.113.8" in response.text
        assert "site.key_1" in response.text
    bad = web.get(f"/cloud-connect/{bid}/vpn-configuration?vendor=cisco")
    assert bad.status_code == 422 and "unknown vendor" in bad.text


def test_an_observer_sees_the_tunnels_but_not_the_configuration(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    bid = _active_vpn(ctx, tenants["acme"], "10.55.0.0/24")
    web.sign_in(tenants["acme"].observer)
    page = web.get(f"/cloud-connect/{bid}").text
    assert 'class="vpn-tunnel"' in page and "vpn-configuration?vendor" not in page
    assert web.get(f"/cloud-connect/{bid}/vpn-configuration").status_code == 403


def test_another_organisation_gets_no_configuration(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    ctx, _ = portal_ctx
    bid = _active_vpn(ctx, tenants["acme"], "10.56.0.0/24")
    web.sign_in(tenants["globex"].admin)
    assert web.get(f"/cloud-connect/{bid}/vpn-configuration").status_code == 404
