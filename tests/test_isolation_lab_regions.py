"""Real packets across two core regions (issue 11): the lab builds a core gateway and a
transit namespace per bootstrapped region, each core holding its region's devices and the
core policy (which knows each region's pool), and links the transit namespaces as the TGW
peering. A device breaking out in region A reaches its organisation's VPC attached in region
B over the peering; other organisations' devices (in A or B) do not; a device of B's pool
that the breakout does not serve does not either."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkplane.addressing.models import IpAddressSpace
from linkplane.attachments import crossregion
from linkplane.attachments.models import Breakout, Status
from linkplane.db import transaction
from linkplane.devices.models import Endpoint
from linkplane.isolation import lab
from linkplane.isolation.state import RegionSpec, load_regions
from linkplane.localcloud.customer import Customer
from linkplane.profiles.models import ServiceProfile
from linkplane.regions import peering
from linkplane.regions import service as regions
from linkplane.sims.models import Sim, SimStatus
from tests.test_isolation_support import REGION, Org, World, make_world

pytestmark = pytest.mark.netns

A, B = REGION, "eu-central-1"
POOLS = {A: "100.64.0.0/12", B: "100.80.0.0/12"}
_why = lab.available()
_serial = iter(range(1, 10_000))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """make_world's organisations (devices in A's pool), both regions with their pools,
    peered."""
    if _why:
        pytest.skip(f"lab not available: {_why}")
    w = make_world(tmp_path)
    w.settings = w.settings.model_copy(update={"region_device_pools": POOLS})
    for name in (A, B):  # A again: it takes its pool
        regions.bootstrap(factory=w.ctx.sessionmaker, cloud=w.cloud_for(name),
                          settings=w.settings, region=name)  # fmt: skip
    peering.peer(factory=w.ctx.sessionmaker, cloud=w.cloud_for(A), settings=w.settings,
                 region=A, peer_region=B, sleep=lambda _s: None)  # fmt: skip
    with transaction(w.ctx.sessionmaker) as session:  # their profiles break out in A
        for p in session.query(ServiceProfile).filter(
            ServiceProfile.org_id.in_([o.id for o in w.orgs])
        ):
            p.breakout_region = A
    yield w
    lab.down(settings=w.settings)


def _spec(w: World, name: str) -> RegionSpec:
    with w.ctx.sessionmaker() as session:
        return next(r for r in load_regions(session) if r.name == name)


def _devices_in_b(w: World, org: Org, space: str) -> str:
    """A profile of ``org`` breaking out in B and one device from B's pool; its address."""
    n = next(_serial)
    ip = space.rsplit(".", 1)[0] + ".1"
    with transaction(w.ctx.sessionmaker) as session:
        tariff = session.get_one(Endpoint, org.endpoints[0]).tariff_profile_id
        sp = ServiceProfile(org_id=org.id, name="in b", allow_cloud_connect=True,
                            breakout_region=B)  # fmt: skip
        ipspace = IpAddressSpace(cidr=space, org_id=org.id)
        sim = Sim(org_id=org.id, iccid=f"8977{n:016d}", imsi=f"90177{n:010d}",
                  msisdn=f"4977{n:011d}", bic="bic", status=SimStatus.ACTIVATED)  # fmt: skip
        session.add_all([sp, ipspace, sim])
        session.flush()
        session.add(Endpoint(org_id=org.id, name="b1", service_profile_id=sp.id,
                             tariff_profile_id=tariff, ip_address_space_id=ipspace.id,
                             ip_address=ip, sim_id=sim.id))  # fmt: skip
    return ip


def _provision(w: World, org: Org, region: str, cidr: str, *, across: bool) -> int:
    """An Active TGW breakout of ``org`` attached in ``region`` (as World.provision does in
    the first region); with ``across`` also its routes over the peering for the
    organisation's devices in the other region, made and recorded as the breakout workflow
    does (crossregion.wanted)."""
    spec, cloud = _spec(w, region), w.cloud_for(region)
    account = str(555900000000 + next(_serial))
    with transaction(w.ctx.sessionmaker) as session:
        row = Breakout(org_id=org.id, name="b", region=region, aws_account_id=account,
                       vpc_cidrs=json.dumps([cidr]), status_id=Status.PENDING_CUSTOMER_ACTION,
                       description="", routes="[]")  # fmt: skip
        session.add(row)
        session.flush()
        bid = row.id
    share = cloud.ensure_resource_share(name=f"linkplane-breakout-{bid}", resource_arn=spec.tgw_arn,
                                        principal=account, client_token=f"breakout-{bid}-1",
                                        tags={"linkplane:breakout": str(bid)})  # fmt: skip
    customer = Customer.assume(account, region=region, endpoint_url=w.endpoint_url)
    customer.accept()
    vpc = customer.create_vpc(cidr=cidr, azs=1)
    att = customer.create_attachment(tgw_id=spec.tgw_id, vpc_id=vpc.vpc_id)["id"]
    cloud.accept_vpc_attachment(att)
    cloud.associate_route_table(route_table_id=spec.customers_table_id, attachment_id=att)
    cloud.create_static_route(route_table_id=spec.core_table_id, cidr=cidr, attachment_id=att)
    with transaction(w.ctx.sessionmaker) as session:
        row = session.get_one(Breakout, bid)
        row.status_id, row.tgw_id, row.share_arn = Status.ACTIVE, spec.tgw_id, share.arn
        row.attachment_id, row.routes = att, json.dumps([cidr])
        row.associated_route_table_id = spec.customers_table_id
        row.core_route_table_id = spec.core_table_id
        remote = crossregion.wanted(session, row) if across else []
        for r in remote:
            there = w.cloud_for(r.region)
            if r.kind == "vpc":
                there.ensure_vpc_route_to_tgw(route_table_id=there.main_route_table_id(
                    r.route_table_id), cidr=r.cidr, tgw_id=r.target)  # fmt: skip
            else:
                there.create_static_route(route_table_id=r.route_table_id, cidr=r.cidr,
                                          attachment_id=r.target)  # fmt: skip
        crossregion.record_routes(row, remote)
    assert not across or {r.region for r in remote} == {A, B}  # routes in both regions
    return bid


def _reach(probes: list[lab.Probe]) -> set[tuple[str, str, str]]:
    return {(p.kind, p.src, p.dst) for p in probes if p.ok}


def _both_ways(pairs: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    return {(k, s, d) for a, b in pairs for s, d in ((a, b), (b, a)) for k in ("ping", "tcp")}


def test_a_device_in_a_reaches_its_vpc_attached_in_b_over_the_peering(world: World) -> None:
    a, b = world.orgs
    a_in_b = _devices_in_b(world, a, "100.80.7.0/24")
    b_in_b = _devices_in_b(world, b, "100.81.7.0/24")
    # org a: a VPC attached in B, routed over the peering to its devices in A; a VPC attached
    # in A made before its profile in B was (the sweep has not rerouted it): serves A only.
    x = _provision(world, a, B, "10.61.0.0/24", across=True)
    _provision(world, a, A, "10.62.0.0/24", across=False)
    # org b: a VPC attached in B, routed over the peering too
    _provision(world, b, B, "10.63.0.0/24", across=True)
    summary = lab.up(settings=world.settings, factory=world.ctx.sessionmaker,
                     cloud_for=world.cloud_for, region=A)  # fmt: skip
    state = summary.state
    site = state.sites[B]
    for ns in (f"{site}-core", f"{site}-tgw", f"{site}-org{a.id}", f"{site}-vpc{x}"):
        assert ns in state.namespaces
    # each device sits behind the core of the region whose pool holds it
    assert state.hosts[f"{state.prefix}-org{a.id}"] == sorted(a.ips)
    assert state.hosts[f"{site}-org{a.id}"] == [a_in_b]
    # the second core enforces the same policy: it knows both pools
    ruleset = lab.ns_run(f"{site}-core", "nft", "list", "ruleset")
    assert POOLS[A] in ruleset and POOLS[B] in ruleset

    vpc_x, vpc_y, vpc_z = (lab.vpc_address(c) for c in
                           ("10.61.0.0/24", "10.62.0.0/24", "10.63.0.0/24"))  # fmt: skip
    dev_a, dev_b = a.ips[0], b.ips[0]  # first addresses in A's pool
    got = _reach(lab.matrix(state, timeout=0.5))
    assert got == _both_ways([
        (dev_a, vpc_x),  # A -> peering -> B: the VPC attached in B
        (dev_a, vpc_y),  # local in A
        (a_in_b, vpc_x),  # local in B
        (dev_b, vpc_z), (b_in_b, vpc_z),  # org b likewise, its own VPC only
    ])  # fmt: skip
    # not vacuous: the cross-organisation and the unserved paths were tried
    tried = {(p.src, p.dst) for p in lab.matrix(state, timeout=0.2) if not p.ok}
    assert {(dev_b, vpc_x), (b_in_b, vpc_x), (a_in_b, vpc_y)} <= tried


def test_without_the_peering_link_nothing_crosses_regions(world: World) -> None:
    """The path A -> B runs over the link playing the peering: with it down, the device in
    A loses its VPC in B while local paths stay (the lab forwards what the tables say)."""
    a, _ = world.orgs
    _provision(world, a, B, "10.64.0.0/24", across=True)
    _provision(world, a, A, "10.65.0.0/24", across=False)
    state = lab.up(settings=world.settings, factory=world.ctx.sessionmaker,
                   cloud_for=world.cloud_for, region=A).state  # fmt: skip
    dev, vpc_b, vpc_a = a.ips[0], lab.vpc_address("10.64.0.0/24"), lab.vpc_address("10.65.0.0/24")
    src = f"{state.prefix}-org{a.id}"
    assert lab.probe(src, "tcp", dev, vpc_b) and lab.probe(src, "tcp", dev, vpc_a)
    (index,) = (i for k, i in state.links.items() if k.startswith("peer:"))
    lab.ns_run(state.tgw_netns, "ip", "link", "set", f"a{index}", "down")
    assert not lab.probe(src, "tcp", dev, vpc_b, timeout=0.5)
    assert lab.probe(src, "tcp", dev, vpc_a)
    # down removes the second region's namespaces with the first's
    removed = lab.down(settings=world.settings)
    assert sorted(removed) == sorted(state.namespaces)
    assert any(ns.startswith(state.sites[B]) for ns in removed)
