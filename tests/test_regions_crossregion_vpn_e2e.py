"""VPN breakouts (types 2 and 4) attached in one region serving devices that break out in
another (issue 11), end to end over HTTP (uvicorn, real token) and boto3 on the embedded
cloud.

They follow the TGW breakouts' rules (tests/test_regions_crossregion_e2e.py): the customer
CIDRs reach the devices' region over the peering and the way back is the peering's own pool
route, nothing else; a permanent fault at a cross-region route rolls back in both regions;
delete leaves nothing while the peering stays; the sweep moves the routes when a profile
changes region or the regions are peered late; type 4's failover repoints the second hop
(its region's peering table) with the core routes and nothing in the devices' region; audit
and verify agree, and audit finds and repairs a missing cross-region route.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from linkplane.attachments import crossregion
from linkplane.attachments.tunnels import TunnelWatch
from linkplane.cloud.factory import make_cloud
from linkplane.isolation import service as isolation
from linkplane.localcloud import throttle
from linkplane.localcloud.ec2 import vpn as embedded_vpn
from linkplane.regions import peering
from linkplane.regions.schemas import RegionRead
from linkplane.settings import Settings
from tests.test_breakouts_e2e_support import (
    URL,
    Live,
    move_profile,
    own_organisation,
    regional_profile,
)
from tests.test_breakouts_e2e_support import live as live  # the fixture
from tests.test_breakouts_support import REGION, new_cidrs
from tests.test_breakouts_support import stack as stack  # the fixture
from tests.test_regions_crossregion_e2e import POOLS, WEST, _audit, _tables, _verify
from tests.test_regions_crossregion_e2e import two_regions as two_regions  # the fixture

Regions = tuple[Settings, dict[str, RegionRead], str]
ACTIVE, DEACTIVATED = 5, 7
_ips = itertools.count(120)


@pytest.fixture(autouse=True)
def clean_faults() -> Iterator[None]:
    throttle.reset()
    yield
    throttle.reset()


def _public_ip() -> str:
    return f"81.2.69.{next(_ips)}"


def _vpn(live: Live, type_id: int, cidrs: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"type": {"id": type_id}, "name": "vpn across regions",
                            "region": REGION, "public_ip": _public_ip(), "on_prem_cidr": cidrs}
    if type_id in (3, 4):
        body["asn"] = 65010
    if type_id == 4:
        body["public_ip_2"] = _public_ip()
    r = live.http.post(f"{URL}/vpn", json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def _snap(settings: Settings, stored: dict[str, RegionRead]) -> dict[str, Any]:
    return {name: _tables(make_cloud(settings, name), stored[name]) for name in (REGION, WEST)}


def _added(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name in after:
        tables = {t: sorted(set(v) - set(before[name].get(t, []))) for t, v in after[name].items()}
        out[name] = {t: v for t, v in tables.items() if v}
    return out


def _routes_of(snap: dict[str, Any], cidr: str) -> list[tuple[str, str]]:
    """(region, table) of every route to ``cidr`` in a snapshot."""
    return [(name, table) for name, tables in snap.items() for table, routes in tables.items()
            for route in routes if route[0] == cidr]  # fmt: skip


def _delete(live: Live, bid: int) -> dict[str, Any]:
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    return live.status(bid, DEACTIVATED, timeout=60)


def _expected(stored: dict[str, RegionRead], peering_id: str, cidr: str, att: str
              ) -> dict[str, Any]:  # fmt: skip
    """What a VPN breakout in REGION with devices in WEST adds: the local routes, the second
    hop in REGION's peering table, the first hop (and core VPC route) in WEST."""
    here, west = stored[REGION], stored[WEST]
    return {
        WEST: {west.core_route_table_id: [(cidr, (peering_id,))], "vpc": [(cidr, west.tgw_id)]},
        REGION: {here.core_route_table_id: [(cidr, (att,))],
                 str(here.peering_route_table_id): [(cidr, (att,))],
                 "vpc": [(cidr, here.tgw_id)]},
    }  # fmt: skip


def test_static_vpn_routes_over_the_peering_both_ways_and_delete_removes_them(
    live: Live, two_regions: Regions
) -> None:
    settings, stored, peering_id = two_regions
    live = own_organisation(live)
    here = stored[REGION]
    pairs = live.http.get("/api/v1/cnc/breakout_type/2/available_region").json()
    assert (REGION, WEST) in {(p["attachment_region"], p["device_breakout_region"])
                              for p in pairs}  # fmt: skip
    profile = regional_profile(live, WEST)
    before = _snap(settings, stored)
    (cidr,) = new_cidrs(1)
    bid = _vpn(live, 2, [cidr])["id"]
    data = live.status(bid, ACTIVE, timeout=60)
    att = data["aws_resources"]["transit_gateway_attachment_id"]
    after = _snap(settings, stored)
    assert _added(before, after) == _expected(stored, peering_id, cidr, att)
    # the way back: the peering's own pool route, shared by the region's customers
    assert (POOLS[WEST], (peering_id,)) in after[REGION][here.customers_route_table_id]
    shown = data["aws_resources"]["crossregion_routes"]
    assert f"tgw route {cidr} in {WEST} {stored[WEST].core_route_table_id}" in shown
    assert f"tgw route {cidr} in {REGION} {here.peering_route_table_id}" in shown
    assert _audit(live, settings) == []
    assert _verify(live, settings) == {REGION: [], WEST: []}
    _delete(live, bid)
    assert _snap(settings, stored) == before
    seen = make_cloud(settings, WEST).describe_attachment(peering_id)
    assert seen is not None and seen.state == "available"  # the peering stays
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


@pytest.mark.parametrize("table", ["devices' core", "own peering"])
def test_a_failing_cross_region_route_rolls_the_vpn_back_in_both_regions(
    live: Live, two_regions: Regions, table: str
) -> None:
    """AWS refuses one of the cross-region routes (in the devices' region or in the VPN's
    own peering table): the breakout rolls back and leaves nothing in either region."""
    settings, stored, peering_id = two_regions
    live = own_organisation(live)
    profile = regional_profile(live, WEST)
    target = (stored[WEST].core_route_table_id if table == "devices' core"
              else str(stored[REGION].peering_route_table_id))  # fmt: skip
    before = _snap(settings, stored)
    throttle.inject_fault("CreateTransitGatewayRoute", "UnauthorizedOperation", 403, 1,
                          account_id=live.stack.provider.account_id, match=target)  # fmt: skip
    (cidr,) = new_cidrs(1)
    bid = _vpn(live, 2, [cidr])["id"]
    data = live.wait_for(bid, lambda d: d["status"]["id"] in (ACTIVE, DEACTIVATED), 60)
    assert data["status"]["id"] == DEACTIVATED, data
    assert "UnauthorizedOperation" in (data["status_reason"] or ""), data
    assert throttle.pending_faults() == {}  # the fault was met, at that route
    assert _snap(settings, stored) == before
    assert not data["aws_resources"].get("crossregion_routes")
    ec2 = live.stack.customer(live.stack.provider.account_id, "ec2")
    tag = [{"Name": "tag:linkplane:breakout", "Values": [str(bid)]}]
    vpns = ec2.describe_vpn_connections(Filters=tag)["VpnConnections"]
    assert {v["State"] for v in vpns} <= {"deleted", "deleting"}
    seen = make_cloud(settings, WEST).describe_attachment(peering_id)
    assert seen is not None and seen.state == "available"
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_ha_vpn_failover_moves_the_second_hop_only(live: Live, two_regions: Regions) -> None:
    """Type 4: the peering table's routes lead to the routed connection; a failover points
    them at the other one with the core routes, changes nothing in the devices' region, and
    the sweep neither moves nor duplicates anything afterwards."""
    settings, stored, peering_id = two_regions
    live = own_organisation(live)
    here, west = stored[REGION], stored[WEST]
    profile = regional_profile(live, WEST)
    before = _snap(settings, stored)
    cidrs = new_cidrs(1)
    (cidr,) = cidrs
    bid = _vpn(live, 4, cidrs)["id"]
    data = live.status(bid, ACTIVE, timeout=60)
    res = data["aws_resources"]
    att_1, att_2 = res["transit_gateway_attachment_id"], res["transit_gateway_attachment_id_2"]
    vpn_1, vpn_2 = data["aws_vpn_connection_id"], data["aws_vpn_connection_id_2"]
    t = [x["outside_address"] for x in data["tunnels"]]
    assert _added(before, _snap(settings, stored)) == _expected(stored, peering_id, cidr, att_1)
    stack = live.stack
    watch = TunnelWatch(interval=60, metrics_every=3600, sessions=stack.ctx.sessionmaker,
                        cloud=stack.runtime.clouds)  # fmt: skip

    def hops() -> tuple[Any, Any, Any]:
        now = _snap(settings, stored)
        pick = {c: a for c, a in now[REGION][here.core_route_table_id] if c == cidr}
        second = {c: a for c, a in now[REGION][str(here.peering_route_table_id)] if c == cidr}
        first = {c: a for c, a in now[WEST][west.core_route_table_id] if c == cidr}
        return pick[cidr], second[cidr], first[cidr]

    watch.watch_once(metrics=False)
    assert hops() == ((att_1,), (att_1,), (peering_id,))
    embedded_vpn.set_tunnel_status(vpn_2, t[2], "UP")
    watch.watch_once(metrics=False)
    assert hops() == ((att_2,), (att_2,), (peering_id,))
    events = [e for e in live.http.get(f"{URL}/{bid}/event").json()
              if e["description"].startswith("VPN failover")]  # fmt: skip
    assert len(events) == 1
    assert events[0]["detail"]["peering_routes"] == [
        f"tgw route {cidr} in {REGION} {here.peering_route_table_id}"]
    assert _audit(live, settings) == []
    assert _verify(live, settings) == {REGION: [], WEST: []}
    failed_over = _snap(settings, stored)
    stack.sweep()  # the row records the new target: nothing to move, nothing duplicated
    assert _snap(settings, stored) == failed_over
    events = live.http.get(f"{URL}/{bid}/event").json()
    assert not [e for e in events if "follow the service profiles" in e["description"]]
    # and back, when only the first connection is up
    embedded_vpn.set_tunnel_status(vpn_1, t[0], "UP")
    embedded_vpn.set_tunnel_status(vpn_2, t[2], "DOWN")
    watch.watch_once(metrics=False)
    assert hops() == ((att_1,), (att_1,), (peering_id,))
    assert _audit(live, settings) == []
    assert _verify(live, settings) == {REGION: [], WEST: []}
    # failed over again, then deleted: nothing left in either region, and a later pass
    # brings no route back
    embedded_vpn.set_tunnel_status(vpn_1, t[0], "DOWN")
    embedded_vpn.set_tunnel_status(vpn_2, t[2], "UP")
    watch.watch_once(metrics=False)
    assert hops() == ((att_2,), (att_2,), (peering_id,))
    _delete(live, bid)
    assert _snap(settings, stored) == before
    watch.watch_once(metrics=False)
    assert _snap(settings, stored) == before
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_moving_a_profile_moves_the_vpn_breakouts_routes(live: Live, two_regions: Regions
                                                          ) -> None:  # fmt: skip
    settings, stored, peering_id = two_regions
    live = own_organisation(live)  # moving its profiles moves only this test's breakouts
    here = stored[REGION]
    profile = regional_profile(live, REGION)
    (cidr,) = new_cidrs(1)
    bid = _vpn(live, 2, [cidr])["id"]
    att = live.status(bid, ACTIVE, timeout=60)["aws_resources"]["transit_gateway_attachment_id"]
    before = _snap(settings, stored)
    move_profile(live, profile, WEST)
    live.stack.sweep()
    expected = _expected(stored, peering_id, cidr, att)
    del expected[REGION][here.core_route_table_id], expected[REGION]["vpc"]  # were there
    assert _added(before, _snap(settings, stored)) == expected
    assert _audit(live, settings) == []
    assert _verify(live, settings) == {REGION: [], WEST: []}
    events = live.http.get(f"{URL}/{bid}/event").json()
    moved = [e for e in events if "follow the service profiles" in e["description"]]
    assert len(moved) == 1 and "3 added" in moved[0]["description"], events
    move_profile(live, profile, REGION)  # back home: the routes over the peering go
    live.stack.sweep()
    assert _snap(settings, stored) == before
    assert _audit(live, settings) == []
    assert live.get(bid)["status"]["id"] == ACTIVE
    _delete(live, bid)
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_a_vpn_made_before_the_peering_gets_its_routes_once_peered(
    live: Live, two_regions: Regions
) -> None:
    settings, stored, _old = two_regions
    live = own_organisation(live)
    factory = live.stack.ctx.sessionmaker
    cloud = make_cloud(settings, REGION)
    peering.unpeer(factory=factory, cloud=cloud, settings=settings, region=REGION,
                   peer_region=WEST, dependents=crossregion.dependents)  # fmt: skip
    profile = regional_profile(live, WEST)
    (cidr,) = new_cidrs(1)
    bid = _vpn(live, 2, [cidr])["id"]
    data = live.status(bid, ACTIVE, timeout=60)
    assert not data["aws_resources"].get("crossregion_routes")  # nothing to route over yet
    att = data["aws_resources"]["transit_gateway_attachment_id"]
    new_id = peering.peer(factory=factory, cloud=cloud, settings=settings, region=REGION,
                          peer_region=WEST).peering.attachment_id  # fmt: skip
    peered = _snap(settings, stored)
    live.stack.sweep()
    expected = _expected(stored, new_id, cidr, att)
    del expected[REGION][stored[REGION].core_route_table_id], expected[REGION]["vpc"]
    assert _added(peered, _snap(settings, stored)) == expected
    with factory() as session:  # unpeering is refused while the VPN routes over it
        assert crossregion.dependents(session, REGION, WEST) == [
            f"breakout {bid} ('vpn across regions')"]
    assert _audit(live, settings) == []
    _delete(live, bid)
    assert _routes_of(_snap(settings, stored), cidr) == []  # nothing left in either region
    seen = make_cloud(settings, WEST).describe_attachment(new_id)
    assert seen is not None and seen.state == "available"  # the peering stays
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_audit_finds_and_repairs_a_missing_cross_region_route_of_a_vpn(
    live: Live, two_regions: Regions
) -> None:
    settings, stored, peering_id = two_regions
    live = own_organisation(live)
    here, west = stored[REGION], stored[WEST]
    profile = regional_profile(live, WEST)
    (cidr,) = new_cidrs(1)
    bid = _vpn(live, 2, [cidr])["id"]
    att = live.status(bid, ACTIVE, timeout=60)["aws_resources"]["transit_gateway_attachment_id"]
    healthy = _snap(settings, stored)
    assert _audit(live, settings) == []
    # someone deletes the first hop (in the devices' region) and the second (here)
    make_cloud(settings, WEST).delete_static_route(route_table_id=west.core_route_table_id,
                                                   cidr=cidr)  # fmt: skip
    make_cloud(settings, REGION).delete_static_route(
        route_table_id=str(here.peering_route_table_id), cidr=cidr)
    assert sorted(_audit(live, settings)) == sorted([
        f"missing_route {WEST} {west.core_route_table_id}#{cidr}",
        f"missing_route {REGION} {here.peering_route_table_id}#{cidr}",
    ])  # fmt: skip
    assert _verify(live, settings) == {REGION: [f"missing_route {cidr}"],
                                       WEST: [f"missing_route {cidr}"]}  # fmt: skip
    result = isolation.audit(settings=settings, factory=live.stack.ctx.sessionmaker,
                             cloud_for=lambda name: make_cloud(settings, name))  # fmt: skip
    mine = [f for f in result.findings if f.code == "missing_route" and cidr in f.resource]
    isolation.repair(factory=live.stack.ctx.sessionmaker,
                     cloud_for=lambda name: make_cloud(settings, name), findings=mine)
    assert _snap(settings, stored) == healthy
    assert healthy[REGION][str(here.peering_route_table_id)].count((cidr, (att,))) == 1
    assert healthy[WEST][west.core_route_table_id].count((cidr, (peering_id,))) == 1
    assert _audit(live, settings) == []
    _delete(live, bid)
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_a_cross_region_route_left_by_a_failed_delete_is_removed_by_the_sweep(
    live: Live, two_regions: Regions
) -> None:
    """AWS refuses to delete the route in the devices' region: the breakout is Deactivated
    with that route still recorded (cleanup incomplete), everything else gone; the sweep's
    retry of leftovers removes it (a row recording only cross-region routes is a leftover)."""
    settings, stored, _peering_id = two_regions
    live = own_organisation(live)
    west = stored[WEST]
    profile = regional_profile(live, WEST)
    (cidr,) = new_cidrs(1)
    bid = _vpn(live, 2, [cidr])["id"]
    live.status(bid, ACTIVE, timeout=60)
    throttle.inject_fault("DeleteTransitGatewayRoute", "UnauthorizedOperation", 403, 1,
                          account_id=live.stack.provider.account_id,
                          match=west.core_route_table_id)  # fmt: skip
    data = _delete(live, bid)
    assert throttle.pending_faults() == {}
    assert "cleanup incomplete" in (data["status_reason"] or ""), data
    # recorded whole: the routes are forgotten only once every one of them is gone
    kept = data["aws_resources"]["crossregion_routes"]
    assert f"tgw route {cidr} in {WEST} {west.core_route_table_id}" in kept
    assert len(kept) == 3, kept  # and the west core VPC's and the own peering table's
    assert _routes_of(_snap(settings, stored), cidr) == [(WEST, west.core_route_table_id)]
    with live.settings(breakout_cleanup_retry_seconds=0):
        live.stack.sweep()
    data = live.get(bid)
    assert _routes_of(_snap(settings, stored), cidr) == []
    assert not data["aws_resources"].get("crossregion_routes")
    assert (data["status_reason"] or "").endswith("leftover AWS resources removed later"), data
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204
