"""VPN breakouts (types 2 static, 3 BGP, 4 BGP HA) end to end: API -> DBOS workflow -> real
adapter -> embedded cloud, and what is left in the cloud after a delete or a failure
(nothing)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from linkplane.events.types import type_id as event_type_id
from linkplane.localcloud import throttle
from tests.test_breakouts_support import REGION, Stack, new_cidrs
from tests.test_breakouts_support import stack as stack  # the process-wide fixture

ACTIVE, DEACTIVATED = 5, 7
_ips = itertools.count(10)
_insides = itertools.count(40)


def public_ip() -> str:
    """A fresh public address (81.2.69.0/24 is routable, not documentation space)."""
    return f"81.2.69.{next(_ips)}"


def inside_cidrs() -> list[str]:
    n = next(_insides)
    return [f"169.254.{n}.0/30", f"169.254.{n}.4/30"]


@pytest.fixture(autouse=True)
def clean_faults() -> Iterator[None]:
    throttle.reset()
    yield
    throttle.reset()


def create_vpn(stack: Stack, type_id: int, cidrs: list[str], **extra: Any) -> dict[str, Any]:
    body = {"type": {"id": type_id}, "name": "vpn", "region": REGION, "public_ip": public_ip(),
            "on_prem_cidr": cidrs, **extra}  # fmt: skip
    if type_id in (3, 4):
        body.setdefault("asn", 65010)
    if type_id == 4:
        body.setdefault("public_ip_2", public_ip())
    resp = stack.client.post("/api/v1/cnc/breakout/vpn", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Location"].endswith(f"/api/v1/cnc/breakout/{resp.json()['id']}")
    data: dict[str, Any] = resp.json()
    return data


def left_in_cloud(stack: Stack, bid: int, cidrs: list[str]) -> dict[str, int]:
    """What the cloud still holds of breakout ``bid``: its customer gateways and VPN
    connections (by the breakout tag), their live attachments, associations and routes."""
    ec2 = stack.customer(stack.provider.account_id, "ec2")
    tag = [{"Name": "tag:linkplane:breakout", "Values": [str(bid)]}]
    gone = {"deleting", "deleted"}
    cgws = [g for g in ec2.describe_customer_gateways()["CustomerGateways"]
            if g["State"] not in gone
            and {"Key": "linkplane:breakout", "Value": str(bid)} in g.get("Tags", [])]  # fmt: skip
    vpns = [v["VpnConnectionId"] for v in ec2.describe_vpn_connections(Filters=tag)[
        "VpnConnections"] if v["State"] not in gone]  # fmt: skip
    attachments = [a for a in stack.provider.list_attachments(tgw_id=stack.region.tgw_id,
                                                              resource_type="vpn")
                   if a.resource_id in vpns and a.state not in gone]  # fmt: skip
    ids = {a.id for a in attachments}
    routes = {c: a for c, a in stack.core_routes().items() if c in cidrs or set(a) & ids}
    return {"customer_gateways": len(cgws), "vpn_connections": len(vpns),
            "attachments": len(attachments),
            "associations": len(ids & stack.customers_associations()),
            "routes": len(routes)}  # fmt: skip


NOTHING = {"customer_gateways": 0, "vpn_connections": 0, "attachments": 0, "associations": 0,
           "routes": 0}  # fmt: skip


@pytest.mark.parametrize("type_id", [2, 3])
def test_vpn_breakout_becomes_active_with_declared_routes_only(stack: Stack, type_id: int) -> None:
    cidrs = new_cidrs(2)
    extra = {"inside_cidr": inside_cidrs()} if type_id == 3 else {}
    created = create_vpn(stack, type_id, cidrs, **extra)
    assert created["type"]["id"] == type_id and created["status"]["id"] == 1
    bid = created["id"]
    data = stack.status(bid, ACTIVE)
    vpn_id = data["aws_vpn_connection_id"]
    attachment = data["aws_transit_gateway_attachment_id"]
    assert vpn_id and vpn_id == data["aws_resources"]["vpn_connection_id"]
    assert data["aws_resources"]["customer_gateway_id"]
    routes = stack.core_routes()
    assert {c: routes[c] for c in cidrs} == dict.fromkeys(cidrs, (attachment,))
    assert attachment in stack.customers_associations()
    # BGP containment: the VPN attachment propagates into no table of ours.
    for table in (stack.region.core_route_table_id, stack.region.customers_route_table_id):
        assert attachment not in {p.attachment_id for p in
                                  stack.provider.route_table_propagations(table)}  # fmt: skip
    info = data["tunnel_information"]
    assert info["public_ip"] == created["public_ip"] and info["outside_address"]
    assert info["metrics"]["tunnel_state"] == "DOWN"
    assert len(data["tunnels"]) == 2 and data["on_prem_cidr"] == cidrs
    if type_id == 3:
        assert [t["inside_cidr"] for t in data["tunnels"]] == extra["inside_cidr"]
        assert info["asn"] == 65010
    statuses = [e["detail"].get("to") for e in data["history"] if e["detail"].get("to")]
    assert statuses == [3, 4, 5]
    assert left_in_cloud(stack, bid, cidrs) == {"customer_gateways": 1, "vpn_connections": 1,
                                                "attachments": 1, "associations": 1,
                                                "routes": 2}  # fmt: skip


@pytest.mark.parametrize("vendor", ["strongswan", "generic"])
def test_vpn_configuration_names_both_tunnels_psk_and_bgp(stack: Stack, vendor: str) -> None:
    cidrs = new_cidrs(1)
    bid = create_vpn(stack, 3, cidrs, psk="my.secret_key1", asn=65123)["id"]
    data = stack.status(bid, ACTIVE)
    resp = stack.client.get(f"/api/v1/cnc/breakout/{bid}/vpn_configuration",
                            params={"vendor": vendor})  # fmt: skip
    assert resp.status_code == 200, resp.text
    text = resp.text
    for tunnel in data["tunnels"]:
        assert tunnel["outside_address"] in text
    assert "my.secret_key1" in text and "65123" in text and "64512" in text
    assert cidrs[0] in text
    bad = stack.client.get(f"/api/v1/cnc/breakout/{bid}/vpn_configuration",
                           params={"vendor": "cisco"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "vendor"
    # The PSK is for those who may change breakouts; another tenant does not see it exists.
    path = f"/api/v1/cnc/breakout/{bid}/vpn_configuration"
    assert stack.client.get(path, headers=stack.auth["observer"]).status_code == 403
    assert stack.client.get(path, headers=stack.auth["other"]).status_code == 404
    assert "my.secret_key1" not in json.dumps(stack.get(bid))


def test_delete_active_vpn_leaves_nothing(stack: Stack) -> None:
    cidrs = new_cidrs(1)
    bid = create_vpn(stack, 2, cidrs)["id"]
    stack.status(bid, ACTIVE)
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    data = stack.status(bid, DEACTIVATED)
    assert data["status_reason"] == "deleted"
    assert left_in_cloud(stack, bid, cidrs) == NOTHING
    res = data["aws_resources"]
    assert not res.get("vpn_connection_id") and not res.get("customer_gateway_id")


@pytest.mark.parametrize("action", ["CreateVpnConnection", "AssociateTransitGatewayRouteTable",
                                    "CreateTransitGatewayRoute"])  # fmt: skip
def test_permanent_error_mid_way_rolls_back_leaving_nothing(stack: Stack, action: str) -> None:
    cidrs = new_cidrs(1)
    throttle.inject_fault(action, "UnauthorizedOperation", 403, 1,
                          account_id=stack.provider.account_id)  # fmt: skip
    bid = create_vpn(stack, 2, cidrs)["id"]
    data = stack.wait_for(bid, lambda d: d["status"]["id"] in (ACTIVE, DEACTIVATED), 60)
    assert data["status"]["id"] == DEACTIVATED
    assert "UnauthorizedOperation" in data["status_reason"]
    assert throttle.pending_faults() == {}
    assert left_in_cloud(stack, bid, cidrs) == NOTHING
    statuses = [e["detail"].get("to") for e in data["history"] if e["detail"].get("to")]
    assert statuses[-2:] == [8, 7]


def _count(stack: Stack) -> int:
    return len(stack.client.get("/api/v1/cnc/breakout", params={"per_page": 1000}).json())


GOOD: dict[str, Any] = {"type": 3, "name": "v", "region": REGION, "public_ip": "81.2.70.1",
                        "asn": 65001, "on_prem_cidr": ["10.200.0.0/24"]}  # fmt: skip
BAD = [
    ({"type": 5}, "type"),
    ({"type": 1}, "type"),
    # Type 4: a second VPN server, public and other than the first.
    ({"type": 4}, "public_ip_2"),
    ({"type": 4, "public_ip_2": "81.2.70.1"}, "public_ip_2"),  # the same as public_ip
    ({"type": 4, "public_ip_2": "192.168.1.1"}, "public_ip_2"),
    ({"type": 4, "public_ip_2": "not-an-ip"}, "public_ip_2"),
    ({"type": 4, "public_ip_2": "2001:db8::2"}, "public_ip_2"),
    ({"type": 4, "public_ip_2": "81.2.70.2", "asn": None}, "asn"),
    ({"type": 4, "public_ip_2": "81.2.70.2", "inside_cidr": ["169.254.14.0/30"] * 5},
     "inside_cidr"),
    ({"public_ip_2": "81.2.70.2"}, "public_ip_2"),  # type 3: one server only
    ({"public_ip": "not-an-ip"}, "public_ip"),
    ({"public_ip": "10.1.2.3"}, "public_ip"),
    ({"public_ip": "2001:db8::1"}, "public_ip"),
    ({"psk": "0startswithzero"}, "psk"),
    ({"psk": "short"}, "psk"),
    ({"psk": "has spaces in it"}, "psk"),
    ({"asn": None}, "asn"),
    ({"asn": 7224}, "asn"),
    ({"asn": 64512}, "asn"),
    ({"asn": 0}, "asn"),
    ({"on_prem_cidr": []}, "on_prem_cidr"),
    ({"on_prem_cidr": ["10.201.0.0/24", "10.202.0.0/24", "10.203.0.0/24", "10.204.0.0/24"]},
     "on_prem_cidr"),
    ({"on_prem_cidr": ["8.8.8.0/24"]}, "on_prem_cidr[0]"),
    ({"on_prem_cidr": ["10.205.0.1/24"]}, "on_prem_cidr[0]"),
    ({"on_prem_cidr": ["10.206.0.0/24", "100.64.0.0/10"]}, "on_prem_cidr[1]"),  # device range
    ({"inside_cidr": ["169.254.1.0/30"]}, "inside_cidr[0]"),
    ({"inside_cidr": ["169.254.10.0/29"]}, "inside_cidr[0]"),
    ({"inside_cidr": ["10.0.0.0/30"]}, "inside_cidr[0]"),
    ({"inside_cidr": ["169.254.11.0/30", "169.254.11.0/30"]}, "inside_cidr[1]"),
    ({"inside_cidr": ["169.254.12.0/30"] * 3}, "inside_cidr"),
    ({"type": 2, "inside_cidr": ["169.254.13.0/30"]}, "inside_cidr"),
    ({"region": "eu-west-3"}, "region"),
    ({"region": "mars-1"}, "region"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    stack: Stack, change: dict[str, Any], field: str
) -> None:
    before = _count(stack)
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    resp = stack.client.post("/api/v1/cnc/breakout/vpn", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["field"] == field, resp.json()
    assert _count(stack) == before


def test_on_prem_cidr_of_another_live_breakout_is_refused(stack: Stack) -> None:
    cidrs = new_cidrs(1)
    create_vpn(stack, 2, cidrs)
    resp = stack.client.post("/api/v1/cnc/breakout/vpn", json={**GOOD, "on_prem_cidr": cidrs})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "on_prem_cidr[0]"


def test_types_and_regions_offer_the_vpn_types(stack: Stack) -> None:
    for type_id in (1, 2, 3, 4):
        regions = stack.client.get(f"/api/v1/cnc/breakout_type/{type_id}/available_region")
        assert REGION in [r["attachment_region"] for r in regions.json()]
    for type_id in (5,):
        assert stack.client.get(f"/api/v1/cnc/breakout_type/{type_id}/available_region"
                                ).json() == []  # fmt: skip


def test_audit_flags_a_core_route_to_a_vpn_for_an_undeclared_prefix(stack: Stack) -> None:
    """BGP containment: what a customer's router advertises must not reach the core; a core
    route to its VPN for anything but its declared CIDRs is named by the audit."""
    from linkplane.cloud.factory import make_cloud
    from linkplane.isolation import service as isolation

    cidrs = new_cidrs(1)
    bid = create_vpn(stack, 3, cidrs)["id"]
    attachment = stack.status(bid, ACTIVE)["aws_transit_gateway_attachment_id"]
    foreign = "172.31.77.0/24"  # e.g. what the router advertises over BGP
    ec2 = stack.customer(stack.provider.account_id, "ec2")
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=stack.region.core_route_table_id,
                                     DestinationCidrBlock=foreign,
                                     TransitGatewayAttachmentId=attachment)  # fmt: skip
    try:
        result = isolation.audit(settings=stack.settings, factory=stack.ctx.sessionmaker,
                                 cloud_for=lambda r: make_cloud(stack.settings, r))  # fmt: skip
    finally:
        ec2.delete_transit_gateway_route(
            TransitGatewayRouteTableId=stack.region.core_route_table_id,
            DestinationCidrBlock=foreign)  # fmt: skip
    mine = {(f.code, f.resource.split("#")[-1]) for f in result.findings
            if attachment in f.message or foreign in f.resource}  # fmt: skip
    assert mine == {("undeclared_vpn_route", foreign)}, result.findings


def test_tunnel_going_up_and_down_is_an_event_and_metrics_show_on_get(stack: Stack) -> None:
    from linkplane.attachments.tunnels import TunnelWatch
    from linkplane.localcloud.ec2 import vpn as embedded_vpn

    cidrs = new_cidrs(1)
    bid = create_vpn(stack, 2, cidrs)["id"]
    data = stack.status(bid, ACTIVE)
    vpn_id, first = data["aws_vpn_connection_id"], data["tunnels"][0]["outside_address"]
    watch = TunnelWatch(interval=60, metrics_every=3600, sessions=stack.ctx.sessionmaker,
                        cloud=stack.runtime.clouds)  # fmt: skip
    watch.watch_once(metrics=False)  # other tests' tunnels may change; ours has not
    embedded_vpn.set_tunnel_status(vpn_id, first, "UP")
    embedded_vpn.record_tunnel_traffic(vpn_id, first, bytes_in=4096, bytes_out=1024)
    assert watch.watch_once(metrics=True) >= 1
    assert watch.watch_once(metrics=False) == 0  # nothing new: no second event
    embedded_vpn.set_tunnel_status(vpn_id, first, "DOWN", "IKE negotiation failed")
    watch.watch_once(metrics=False)
    data = stack.get(bid)
    tunnel_events = [(e["event_type"], e["detail"]["outside_ip"], e["severity"])
                     for e in data["history"]
                     if e["event_type"].startswith("VPN tunnel")]  # fmt: skip
    assert tunnel_events == [("VPN tunnel up", first, 0), ("VPN tunnel down", first, 1)]
    shown = data["tunnels"][0]
    assert (shown["status"], shown["bytes_in"], shown["bytes_out"]) == ("DOWN", 4096, 1024)
    assert data["tunnel_information"]["metrics"]["bytes_in"]  # {timestamp: bytes}
    events = stack.client.get("/api/v1/event", params={"per_page": 1000}).json()
    tunnel_types = {event_type_id("VPN tunnel up"), event_type_id("VPN tunnel down")}
    mine = [e for e in events if e["event_type"]["id"] in tunnel_types
            and first in e["description"]]  # fmt: skip
    assert {e["event_type"]["description"] for e in mine} == {"VPN tunnel up", "VPN tunnel down"}
    other = stack.client.get("/api/v1/event", headers=stack.auth["other"],
                             params={"per_page": 1000}).json()  # fmt: skip
    assert not [e for e in other if first in e["description"]]  # tenants see only their own


def test_vpn_connection_deleted_outside_linkplane_is_cleaned_up_by_the_sweep(
    stack: Stack,
) -> None:
    cidrs = new_cidrs(1)
    bid = create_vpn(stack, 2, cidrs)["id"]
    vpn_id = stack.status(bid, ACTIVE)["aws_vpn_connection_id"]
    stack.customer(stack.provider.account_id, "ec2").delete_vpn_connection(VpnConnectionId=vpn_id)
    stack.sweep()
    data = stack.status(bid, DEACTIVATED)
    assert data["status_reason"] == "the VPN connection was deleted outside linkplane"
    assert left_in_cloud(stack, bid, cidrs) == NOTHING


def test_a_customer_advertising_foreign_prefixes_over_bgp_is_contained(stack: Stack) -> None:
    """The router advertises another breakout's CIDR, a more specific of the device range and
    a stranger's prefix: none reaches the core or customers table, and the audit is clean for
    the breakout; only propagation enabled behind linkplane's back would leak them, and the
    audit names each leaked route then."""
    from linkplane.cloud.factory import make_cloud
    from linkplane.isolation import service as isolation
    from linkplane.localcloud.ec2 import vpn as embedded_vpn

    victim = new_cidrs(1)
    victim_attachment = stack.status(create_vpn(stack, 2, victim)["id"], ACTIVE)[
        "aws_transit_gateway_attachment_id"]  # fmt: skip
    cidrs = new_cidrs(1)
    bid = create_vpn(stack, 3, cidrs)["id"]
    data = stack.status(bid, ACTIVE)
    vpn_id, attachment = data["aws_vpn_connection_id"], data["aws_transit_gateway_attachment_id"]
    embedded_vpn.set_tunnel_status(vpn_id, data["tunnels"][0]["outside_address"], "UP")
    advertised = [victim[0], "100.64.1.0/24", "172.31.88.0/24"]
    embedded_vpn.advertise(vpn_id, advertised)
    region = stack.region
    tables = (region.core_route_table_id, region.customers_route_table_id)

    def routes_to_vpn() -> dict[str, set[str]]:
        return {t: {r.cidr for r in stack.provider.search_routes(t) if attachment in
                    r.attachment_ids} for t in tables}  # fmt: skip

    def findings() -> set[tuple[str, str]]:
        result = isolation.audit(settings=stack.settings, factory=stack.ctx.sessionmaker,
                                 cloud_for=lambda r: make_cloud(stack.settings, r))  # fmt: skip
        return {(f.code, f.resource.split("#")[-1]) for f in result.findings
                if attachment in f.resource + f.message}  # fmt: skip

    assert routes_to_vpn() == {region.core_route_table_id: set(cidrs),
                               region.customers_route_table_id: set()}  # fmt: skip
    assert findings() == set()
    ec2 = stack.customer(stack.provider.account_id, "ec2")
    pair = {"TransitGatewayRouteTableId": region.core_route_table_id,
            "TransitGatewayAttachmentId": attachment}  # fmt: skip
    ec2.enable_transit_gateway_route_table_propagation(**pair)
    try:
        leaked = findings()
        # The victim's static route keeps its prefix (AWS prefers static over propagated).
        assert stack.core_routes()[victim[0]] == (victim_attachment,)
    finally:
        ec2.disable_transit_gateway_route_table_propagation(**pair)
    assert {c for code, c in leaked if code == "undeclared_vpn_route"} == set(advertised[1:])
    assert ("unowned_propagation", attachment) in leaked


# --- type 4: BGP High Availability (two customer gateways, two connections, four tunnels) ---
def _ha_insides() -> list[str]:
    return inside_cidrs() + inside_cidrs()


def test_ha_vpn_has_two_connections_four_tunnels_and_routes_only_the_declared_cidrs(
    stack: Stack,
) -> None:
    cidrs, insides = new_cidrs(2), _ha_insides()
    ec2 = stack.customer(stack.provider.account_id, "ec2")
    tgw = stack.region.tgw_id
    # ECMP off (as on a gateway linkplane did not create): the plan turns it on.
    ec2.modify_transit_gateway(TransitGatewayId=tgw, Options={"VpnEcmpSupport": "disable"})
    created = create_vpn(stack, 4, cidrs, inside_cidr=insides, asn=65020)
    assert created["type"]["id"] == 4
    bid, first_ip, second_ip = created["id"], created["public_ip"], created["public_ip_2"]
    data = stack.status(bid, ACTIVE)
    options = ec2.describe_transit_gateways(TransitGatewayIds=[tgw])["TransitGateways"][0]
    assert options["Options"]["VpnEcmpSupport"] == "enable"
    vpn_1, vpn_2 = data["aws_vpn_connection_id"], data["aws_vpn_connection_id_2"]
    res = data["aws_resources"]
    att_1, att_2 = res["transit_gateway_attachment_id"], res["transit_gateway_attachment_id_2"]
    assert vpn_1 and vpn_2 and vpn_1 != vpn_2 and att_1 and att_2 and att_1 != att_2
    assert res["customer_gateway_id"] != res["customer_gateway_id_2"]
    tunnels = data["tunnels"]
    assert [(t["vpn_connection_id"], t["customer_ip"], t["inside_cidr"]) for t in tunnels] == [
        (vpn_1, first_ip, insides[0]), (vpn_1, first_ip, insides[1]),
        (vpn_2, second_ip, insides[2]), (vpn_2, second_ip, insides[3])]  # fmt: skip
    assert len({t["outside_address"] for t in tunnels}) == 4
    # Both attachments in the customers table; the core routes lead to the first only.
    assert {att_1, att_2} <= stack.customers_associations()
    assert {c: stack.core_routes()[c] for c in cidrs} == dict.fromkeys(cidrs, (att_1,))
    for table in (stack.region.core_route_table_id, stack.region.customers_route_table_id):
        propagating = {p.attachment_id for p in stack.provider.route_table_propagations(table)}
        assert not {att_1, att_2} & propagating
    assert left_in_cloud(stack, bid, cidrs) == {"customer_gateways": 2, "vpn_connections": 2,
                                                "attachments": 2, "associations": 2,
                                                "routes": 2}  # fmt: skip
    # The configuration covers both connections: four tunnels, each on its server.
    text = stack.client.get(f"/api/v1/cnc/breakout/{bid}/vpn_configuration",
                            params={"vendor": "generic"}).text  # fmt: skip
    for t in tunnels:
        assert f"AWS outside address: {t['outside_address']}\nYour VPN server: " \
               f"{t['customer_ip']}" in text
    assert "4 tunnels" in text and "65020" in text
    swan = stack.client.get(f"/api/v1/cnc/breakout/{bid}/vpn_configuration",
                            params={"vendor": "strongswan"}).text  # fmt: skip
    assert swan.count("aws-tunnel-") >= 8 and f"id = {second_ip}" in swan
    # Delete removes both connections and both gateways.
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    done = stack.status(bid, DEACTIVATED)
    assert left_in_cloud(stack, bid, cidrs) == NOTHING
    gone = done["aws_resources"]
    assert not any(gone.get(k) for k in ("vpn_connection_id", "vpn_connection_id_2",
                                         "customer_gateway_id", "customer_gateway_id_2"))


def test_ha_vpn_second_connection_tunnels_are_watched(stack: Stack) -> None:
    from linkplane.attachments.tunnels import TunnelWatch
    from linkplane.localcloud.ec2 import vpn as embedded_vpn

    bid = create_vpn(stack, 4, new_cidrs(1))["id"]
    data = stack.status(bid, ACTIVE)
    vpn_2 = data["aws_vpn_connection_id_2"]
    fourth = data["tunnels"][3]["outside_address"]
    watch = TunnelWatch(interval=60, metrics_every=3600, sessions=stack.ctx.sessionmaker,
                        cloud=stack.runtime.clouds)  # fmt: skip
    watch.watch_once(metrics=False)
    embedded_vpn.set_tunnel_status(vpn_2, fourth, "UP")
    embedded_vpn.record_tunnel_traffic(vpn_2, fourth, bytes_in=2048, bytes_out=512)
    assert watch.watch_once(metrics=True) >= 1
    data = stack.get(bid)
    shown = data["tunnels"][3]
    assert (shown["status"], shown["bytes_in"], shown["bytes_out"]) == ("UP", 2048, 512)
    assert [t["status"] for t in data["tunnels"][:3]] == ["DOWN"] * 3
    # emnify's tunnel_information shows the tunnel that is up, on the second server.
    info = data["tunnel_information"]
    assert (info["outside_address"], info["public_ip"]) == (fourth, data["public_ip_2"])
    ups = [e for e in data["history"] if e["event_type"] == "VPN tunnel up"]
    assert [e["detail"]["vpn_connection_id"] for e in ups] == [vpn_2]


def test_ha_vpn_bgp_containment_and_ecmp_cover_both_attachments(stack: Stack) -> None:
    """Both connections' routers advertise a stranger's prefix: nothing reaches the core;
    with propagation enabled behind linkplane's back, the audit names the route of each
    attachment, and the embedded cloud spreads it over both only while ECMP is on (AWS)."""
    from linkplane.cloud.factory import make_cloud
    from linkplane.isolation import service as isolation
    from linkplane.localcloud.ec2 import vpn as embedded_vpn

    cidrs = new_cidrs(1)
    data = stack.status(create_vpn(stack, 4, cidrs)["id"], ACTIVE)
    res = data["aws_resources"]
    atts = (res["transit_gateway_attachment_id"], res["transit_gateway_attachment_id_2"])
    foreign = "172.31.99.0/24"
    for vpn_id, tunnel in ((data["aws_vpn_connection_id"], data["tunnels"][0]),
                           (data["aws_vpn_connection_id_2"], data["tunnels"][2])):
        embedded_vpn.set_tunnel_status(vpn_id, tunnel["outside_address"], "UP")
        embedded_vpn.advertise(vpn_id, [foreign])
    core = stack.region.core_route_table_id

    def targets() -> tuple[str, ...]:
        return next((r.attachment_ids for r in stack.provider.search_routes(core)
                     if r.cidr == foreign), ())  # fmt: skip

    def findings() -> set[tuple[str, str]]:
        result = isolation.audit(settings=stack.settings, factory=stack.ctx.sessionmaker,
                                 cloud_for=lambda r: make_cloud(stack.settings, r))  # fmt: skip
        return {(f.code, f.message.split("VPN attachment ")[-1].split(" ")[0])
                for f in result.findings if foreign in f.resource}  # fmt: skip

    assert targets() == () and findings() == set()
    ec2 = stack.customer(stack.provider.account_id, "ec2")
    for att in atts:
        ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=core, TransitGatewayAttachmentId=att)  # fmt: skip
    tgw = stack.region.tgw_id
    try:
        assert set(targets()) == set(atts)  # ECMP: both connections carry the prefix
        assert findings() == {("undeclared_vpn_route", a) for a in atts}
        ec2.modify_transit_gateway(TransitGatewayId=tgw, Options={"VpnEcmpSupport": "disable"})
        assert len(targets()) == 1  # without ECMP AWS uses one of them
    finally:
        ec2.modify_transit_gateway(TransitGatewayId=tgw, Options={"VpnEcmpSupport": "enable"})
        for att in atts:
            ec2.disable_transit_gateway_route_table_propagation(
                TransitGatewayRouteTableId=core, TransitGatewayAttachmentId=att)  # fmt: skip
    assert targets() == ()


def test_ha_vpn_fails_over_to_the_connection_whose_tunnel_is_up_and_back(stack: Stack) -> None:
    """The core routes lead to the first connection; its tunnels down and the second's up,
    the tunnel watch points them at the second (an event says so, the audit agrees); and
    back when only the first is up. A deleted breakout's routes stay deleted."""
    from linkplane.attachments.tunnels import TunnelWatch
    from linkplane.cloud.factory import make_cloud
    from linkplane.isolation import service as isolation
    from linkplane.localcloud.ec2 import vpn as embedded_vpn

    cidrs = new_cidrs(2)
    bid = create_vpn(stack, 4, cidrs)["id"]
    data = stack.status(bid, ACTIVE)
    res = data["aws_resources"]
    att_1, att_2 = res["transit_gateway_attachment_id"], res["transit_gateway_attachment_id_2"]
    vpn_1, vpn_2 = data["aws_vpn_connection_id"], data["aws_vpn_connection_id_2"]
    t = [x["outside_address"] for x in data["tunnels"]]
    watch = TunnelWatch(interval=60, metrics_every=3600, sessions=stack.ctx.sessionmaker,
                        cloud=stack.runtime.clouds)  # fmt: skip

    def routed() -> set[tuple[str, ...]]:
        routes = stack.core_routes()
        return {routes[c] for c in cidrs}

    def findings() -> set[str]:
        result = isolation.audit(settings=stack.settings, factory=stack.ctx.sessionmaker,
                                 cloud_for=lambda r: make_cloud(stack.settings, r))  # fmt: skip
        return {f.code for f in result.findings if any(c in f.resource for c in cidrs)
                or att_1 in f.resource or att_2 in f.resource}  # fmt: skip

    watch.watch_once(metrics=False)
    assert routed() == {(att_1,)}  # all tunnels down: nothing to fail over to
    embedded_vpn.set_tunnel_status(vpn_2, t[2], "UP")
    watch.watch_once(metrics=False)
    assert routed() == {(att_2,)}
    assert findings() == set()
    moves = [e for e in stack.get(bid)["history"] if e["description"].startswith("VPN failover")]
    assert [(e["detail"]["to_connection"], e["severity"]) for e in moves] == [(2, 1)]
    embedded_vpn.set_tunnel_status(vpn_1, t[0], "UP")
    watch.watch_once(metrics=False)
    assert routed() == {(att_2,)}  # the routed connection is up: no flapping
    embedded_vpn.set_tunnel_status(vpn_2, t[2], "DOWN")
    watch.watch_once(metrics=False)
    assert routed() == {(att_1,)}
    assert findings() == set()
    # Deleted: the routes go with it, and a later pass brings none back.
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    stack.status(bid, DEACTIVATED)
    assert left_in_cloud(stack, bid, cidrs) == NOTHING
    watch.watch_once(metrics=False)
    assert not set(cidrs) & set(stack.core_routes())
