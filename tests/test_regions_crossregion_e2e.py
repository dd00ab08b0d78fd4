"""A breakout attached in one region serving devices that break out in another (issue 11,
step 4), end to end over HTTP (uvicorn, real token) and boto3 on the embedded cloud.

Two regions with their own device pools are bootstrapped and peered; the organisation's
service profile breaks out in the other region; the breakout's customer CIDR is routed over
the peering both ways and nothing else changes; deleting the breakout removes exactly those
routes while the peering, shared by all customers, stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from linkplane.cloud.aws import AwsCloud
from linkplane.cloud.errors import AccessDenied
from linkplane.cloud.factory import make_cloud
from linkplane.cloud.port import CloudPort
from linkplane.db import transaction
from linkplane.isolation import service as isolation
from linkplane.regions import peering
from linkplane.regions import service as regions
from linkplane.regions.models import Region
from linkplane.regions.schemas import RegionRead
from linkplane.settings import Settings
from tests.test_breakouts_e2e_support import URL, Live
from tests.test_breakouts_e2e_support import live as live  # the fixture
from tests.test_breakouts_support import REGION, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the fixture

WEST = "eu-west-1"
POOLS = {REGION: "100.64.0.0/12", WEST: "100.80.0.0/12"}


def _tables(cloud: CloudPort, region: RegionRead) -> dict[str, Any]:
    """Every static route of the region's TGW tables and its core VPC's main table."""
    out: dict[str, Any] = {}
    for table in cloud.find_route_tables(tgw_id=region.tgw_id):
        out[table.id] = sorted((r.cidr, r.attachment_ids) for r in cloud.search_routes(table.id)
                               if r.type == "static")  # fmt: skip
    main = cloud.main_route_table_id(region.core_vpc_id)
    out["vpc"] = sorted((r.cidr, r.target) for r in cloud.vpc_routes(main))
    return out


@pytest.fixture
def two_regions(live: Live) -> Iterator[tuple[Settings, dict[str, RegionRead], str]]:
    """The stack's region and a second one, each with its pool, peered; undone afterwards
    (the stack's region gets its whole-space pool back for the other tests)."""
    original = live.stack.settings
    settings = original.model_copy(update={"region_device_pools": POOLS})
    factory = live.stack.ctx.sessionmaker
    built = {
        name: regions.bootstrap(factory=factory, cloud=make_cloud(settings, name),
                                settings=settings, region=name).region
        for name in (REGION, WEST)
    }  # fmt: skip
    peered = peering.peer(factory=factory, cloud=make_cloud(settings, REGION), settings=settings,
                          region=REGION, peer_region=WEST)  # fmt: skip
    stored = {r.name: r for r in _list(live)}
    _before[:] = _all_findings(live, settings)
    _verified_before.clear()
    _verified_before.update(_all_verified(live, settings))
    try:
        yield settings, stored, peered.peering.attachment_id
    finally:
        peering.unpeer(factory=factory, cloud=make_cloud(settings, REGION), settings=settings,
                       region=REGION, peer_region=WEST,
                       dependents=lambda _s, _a, _b: [])  # fmt: skip
        with transaction(factory) as session:
            session.execute(delete(Region).where(Region.name == WEST))
        regions.bootstrap(factory=factory, cloud=make_cloud(original, REGION),
                          settings=original, region=REGION)  # fmt: skip
        assert built


def _all_findings(live: Live, settings: Settings) -> list[str]:
    result = isolation.audit(settings=settings, factory=live.stack.ctx.sessionmaker,
                             cloud_for=lambda name: make_cloud(settings, name))  # fmt: skip
    return sorted(f"{f.code} {f.region} {f.resource}" for f in result.findings)


_before: list[str] = []


def _audit(live: Live, settings: Settings) -> list[str]:
    """Audit findings of both regions (codes and resources) that were not there when the
    regions were peered: the stack is shared by the test process, and other modules (a
    reset of the embedded cloud, tampering tests) leave drift of their own breakouts."""
    return [f for f in _all_findings(live, settings) if f not in _before]


def test_audit_finds_a_peering_deleted_behind_our_back_and_repair_restores_routes(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str]
) -> None:
    settings, stored, peering_id = two_regions
    r = live.http.post("/api/v1/service_profile",
                       json={"name": "west devices", "breakout_region": {"name": WEST}})
    assert r.status_code == 201, r.text
    profile = r.json()["id"]
    account, (cidr,) = new_account(), new_cidrs(1)
    bid = live.create(account, [cidr])["id"]
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    live.stack.attach(account, cidr=cidr)
    live.recheck(bid)
    live.status(bid, 5)
    assert _audit(live, settings) == []
    # someone deletes the peering in the console
    ec2 = make_cloud(settings, REGION)
    ec2.delete_peering_attachment(peering_id)
    found = isolation.audit(settings=settings, factory=live.stack.ctx.sessionmaker,
                            cloud_for=lambda name: make_cloud(settings, name)).findings
    missing = [f for f in found if f.code == "missing_peering"]
    assert {f.region for f in missing} == {REGION, WEST}
    assert all(f"breakout {bid}" in f.message and "linkplane region peer" in f.message
               for f in missing)  # fmt: skip
    assert {f.breakout_id for f in missing} == {bid}
    # repair cannot bring a peering back, but the organisation learns of it, once
    for _ in range(2):
        isolation.repair(factory=live.stack.ctx.sessionmaker,
                         cloud_for=lambda name: make_cloud(settings, name), findings=found)
    events = live.http.get(f"{URL}/{bid}/event").json()
    degraded = [e for e in events if "is degraded" in e["description"]]
    assert len(degraded) == 1 and peering_id in degraded[0]["description"], events
    assert live.get(bid)["status"]["id"] == 5  # still Active: the customer's side is intact
    # the operator peers again (a new attachment) and repair points the routes at it
    again = peering.peer(factory=live.stack.ctx.sessionmaker, cloud=ec2, settings=settings,
                         region=REGION, peer_region=WEST)  # fmt: skip
    new_id = again.peering.attachment_id
    assert new_id != peering_id
    found = isolation.audit(settings=settings, factory=live.stack.ctx.sessionmaker,
                            cloud_for=lambda name: make_cloud(settings, name)).findings
    new = [f for f in found if f"{f.code} {f.region} {f.resource}" not in _before]
    assert [(f.code, f.region) for f in new] == [("changed_route", WEST)]
    isolation.repair(factory=live.stack.ctx.sessionmaker,
                     cloud_for=lambda name: make_cloud(settings, name), findings=found)
    assert _audit(live, settings) == []
    west = stored[WEST]
    routes = make_cloud(settings, WEST).search_routes(west.core_route_table_id)
    assert [(x.cidr, x.attachment_ids) for x in routes] == [(cidr, (new_id,))]
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    live.status(bid, 7)
    assert _audit(live, settings) == []
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def _all_verified(live: Live, settings: Settings) -> dict[str, list[str]]:
    result = isolation.verify_isolation(settings=settings, factory=live.stack.ctx.sessionmaker,
                                        cloud_for=lambda name: make_cloud(settings, name))
    return {name: sorted(f"{f.code} {f.cidr}" for f in report.findings)
            for name, report in result.reports.items()}  # fmt: skip


_verified_before: dict[str, list[str]] = {}


def _verify(live: Live, settings: Settings) -> dict[str, list[str]]:
    """Verify's findings per region that were not there when the regions were peered (the
    shared stack may hold other modules' broken breakouts, see :func:`_audit`)."""
    return {name: [f for f in found if f not in _verified_before.get(name, [])]
            for name, found in _all_verified(live, settings).items()}  # fmt: skip


def _list(live: Live) -> list[RegionRead]:
    with transaction(live.stack.ctx.sessionmaker) as session:
        return regions.list_regions(session=session)


def test_breakout_routes_over_the_peering_both_ways_and_delete_removes_them(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str]
) -> None:
    settings, stored, peering_id = two_regions
    here, west = stored[REGION], stored[WEST]
    pairs = live.http.get("/api/v1/cnc/breakout_type/1/available_region").json()
    assert sorted((p["attachment_region"], p["device_breakout_region"]) for p in pairs) == [
        (REGION, REGION), (REGION, WEST), (WEST, REGION), (WEST, WEST),
    ]  # fmt: skip
    r = live.http.post("/api/v1/service_profile",
                       json={"name": "west devices", "breakout_region": {"name": WEST}})
    assert r.status_code == 201, r.text
    profile = r.json()["id"]
    clouds = {REGION: make_cloud(settings, REGION), WEST: make_cloud(settings, WEST)}
    before = {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)}

    account, (cidr,) = new_account(), new_cidrs(1)
    bid = live.create(account, [cidr])["id"]
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    attachment = live.stack.attach(account, cidr=cidr)
    live.recheck(bid)
    data = live.status(bid, 5)
    assert data["status"]["description"] == "Active"

    after = {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)}
    added = {
        name: {t: sorted(set(after[name][t]) - set(before[name].get(t, []))) for t in after[name]}
        for name in after
    }  # fmt: skip
    added = {n: {t: v for t, v in tables.items() if v} for n, tables in added.items()}
    assert added[WEST] == {
        west.core_route_table_id: [(cidr, (peering_id,))],  # devices -> the peering
        "vpc": [(cidr, west.tgw_id)],  # the west core sends the CIDR to its TGW
    }
    assert added[REGION] == {
        here.core_route_table_id: [(cidr, (attachment,))],  # as for a local breakout
        str(here.peering_route_table_id): [(cidr, (attachment,))],  # from the peering
        "vpc": [(cidr, here.tgw_id)],
    }
    # the customer reaches the west pool over the peering (the peering's own route)
    assert (POOLS[WEST], (peering_id,)) in after[REGION][here.customers_route_table_id]
    # audit owns all of it: the peerings, their tables and the cross-region routes
    assert _audit(live, settings) == []
    # verify follows the paths across the peering in both regions, and proves them
    assert _verify(live, settings) == {REGION: [], WEST: []}
    # a route in the peering table to a customer no breakout served across it asks for:
    # every device of the west region could reach that customer
    clouds[REGION].create_static_route(route_table_id=str(here.peering_route_table_id),
                                       cidr="172.31.0.0/16", attachment_id=attachment)
    codes = _verify(live, settings)
    assert codes == {REGION: ["cross_org_route 172.31.0.0/16"], WEST: []}
    clouds[REGION].delete_static_route(route_table_id=str(here.peering_route_table_id),
                                       cidr="172.31.0.0/16")
    # the second hop gone: the devices in the west lose the path, found in the attachment
    # region's peering table
    clouds[REGION].delete_static_route(route_table_id=str(here.peering_route_table_id),
                                       cidr=cidr)
    assert _verify(live, settings) == {REGION: [f"missing_route {cidr}"], WEST: []}
    clouds[REGION].create_static_route(route_table_id=str(here.peering_route_table_id),
                                       cidr=cidr, attachment_id=attachment)
    assert _verify(live, settings) == {REGION: [], WEST: []}
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    live.status(bid, 7)
    final = {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)}
    assert final == before
    seen = clouds[WEST].describe_attachment(peering_id)
    assert seen is not None and seen.state == "available"  # the peering stays
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_a_failing_cross_region_route_rolls_back_in_both_regions(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS refuses the route in the devices' region: the breakout rolls back and leaves
    nothing in either region (the routes were recorded before they were tried)."""
    settings, stored, peering_id = two_regions
    west = stored[WEST]
    r = live.http.post("/api/v1/service_profile",
                       json={"name": "west devices", "breakout_region": {"name": WEST}})
    assert r.status_code == 201, r.text
    clouds = {REGION: make_cloud(settings, REGION), WEST: make_cloud(settings, WEST)}
    before = {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)}
    real = AwsCloud.create_static_route

    def refusing(self: AwsCloud, *, route_table_id: str, cidr: str, attachment_id: str) -> None:
        if route_table_id == west.core_route_table_id:
            raise AccessDenied("injected: not allowed", aws_code="UnauthorizedOperation")
        real(self, route_table_id=route_table_id, cidr=cidr, attachment_id=attachment_id)

    monkeypatch.setattr(AwsCloud, "create_static_route", refusing)
    account, (cidr,) = new_account(), new_cidrs(1)
    bid = live.create(account, [cidr])["id"]
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    live.stack.attach(account, cidr=cidr)
    live.recheck(bid)
    data = live.status(bid, 7, timeout=60)
    assert "not allowed" in (data["status_reason"] or ""), data
    final = {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)}
    assert final == before
    seen = clouds[WEST].describe_attachment(peering_id)
    assert seen is not None and seen.state == "available"
    assert live.http.delete(f"/api/v1/service_profile/{r.json()['id']}").status_code == 204
