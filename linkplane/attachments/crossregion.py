"""Breakouts whose devices break out in another region: routes over a region peering.

A breakout (TGW, or VPN of types 2-4: the VPN connection's ``vpn`` attachment on the
region's TGW plays the customer attachment's part) lives in its attachment region
(``breakout.region``). The organisation's
devices break out in the regions its service profiles name (``breakout_region``). For each
such device region D other than the attachment region A, over the peering of A and D:

- D's core table: each customer CIDR -> the peering (device traffic reaches A);
- D's core VPC: each customer CIDR -> D's TGW, unless D's bootstrap routes an aggregate
  that holds it (as for local breakouts);
- A's peering table: each customer CIDR -> the customer attachment (and on to the VPC); for
  a type 4 VPN, the attachment the core routes lead to (:attr:`Breakout.routed_attachment_id`:
  the tunnel watch's failover repoints this route with the core ones, and nothing in D, whose
  routes lead to the peering).

The reverse direction (the customer reaching D's device pool) is the peering's own route in
A's customers table (``linkplane region peer``), shared by every customer of A as the local
device route is. Nothing else is added; deleting the breakout removes exactly these routes,
the peering stays.

Routing follows changes. The routes depend on the organisation's profiles and on the
peerings, both of which change after a breakout is Active: a profile moves to another
breakout region, or the regions are peered after the breakout was made (late peering). The
breakout sweep compares what each Active breakout records with :func:`wanted` and moves
the routes (:func:`reroute_plan`): new ones are recorded, then made; old ones are removed,
then forgotten, so a crash in between leaves only routes the row still records (the sweep,
a durable workflow, resumes at its next step; a teardown removes them; audit reports one
recorded but missing).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from ipaddress import IPv4Network

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.attachments.models import Breakout, Status
from linkplane.profiles.models import ServiceProfile
from linkplane.regions.models import Region, RegionPeering
from linkplane.regions.peering import find


@dataclass(frozen=True)
class RemoteRoute:
    """One route for devices in another region, as recorded on the breakout.

    ``kind`` ``tgw``: a static route in TGW route table ``route_table_id`` to attachment
    ``target``; ``vpc``: a route in the main table of core VPC ``route_table_id`` to TGW
    ``target``.
    """

    region: str
    route_table_id: str
    cidr: str
    target: str
    kind: str = "tgw"

    def label(self) -> str:
        return f"{self.kind} route {self.cidr} in {self.region} {self.route_table_id}"


def device_regions(session: Session, org_id: int) -> set[str]:
    """The regions the organisation's devices break out in (its profiles' regions)."""
    stmt = select(ServiceProfile.breakout_region).where(
        ServiceProfile.org_id == org_id, ServiceProfile.breakout_region.is_not(None)
    )
    return {r for r in session.scalars(stmt.distinct()) if r}


def recorded(breakout: Breakout) -> list[RemoteRoute]:
    return [RemoteRoute(**item) for item in json.loads(breakout.crossregion_routes or "[]")]


def record_routes(breakout: Breakout, routes: list[RemoteRoute]) -> None:
    breakout.crossregion_routes = json.dumps([asdict(r) for r in routes])


@dataclass
class World:
    """The regions, the peerings and the organisations' device regions, read once for many
    breakouts (the sweep plans every Active breakout in one pass)."""

    regions: dict[str, Region]
    peerings: dict[frozenset[str], RegionPeering]
    devices: dict[int, set[str]]

    @classmethod
    def read(cls, session: Session) -> World:
        peerings = {frozenset((p.region, p.peer_region)): p
                    for p in session.scalars(select(RegionPeering))}  # fmt: skip
        devices: dict[int, set[str]] = {}
        stmt = select(ServiceProfile.org_id, ServiceProfile.breakout_region).where(
            ServiceProfile.breakout_region.is_not(None)
        )
        for org_id, region in session.execute(stmt.distinct()):
            devices.setdefault(org_id, set()).add(region)
        return cls({r.name: r for r in session.scalars(select(Region))}, peerings, devices)


def wanted(session: Session, breakout: Breakout, world: World | None = None) -> list[RemoteRoute]:
    """The routes the breakout needs over peerings (empty: all its devices are local).

    A device region that is not peered with the attachment region contributes nothing:
    available_region never offers such a pair, and a profile may change region later.
    """
    attachment = breakout.routed_attachment_id
    if attachment is None:
        return []
    world = world or World.read(session)
    home = world.regions.get(breakout.region)
    routes: list[RemoteRoute] = []
    for name in sorted(world.devices.get(breakout.org_id, set()) - {breakout.region}):
        peering = world.peerings.get(frozenset((breakout.region, name)))
        far = world.regions.get(name)
        if home is None or far is None or peering is None or not home.peering_route_table_id:
            continue
        for cidr in breakout.cidr_list:
            routes.append(RemoteRoute(name, far.core_route_table_id, cidr, peering.attachment_id))
            if _needs_vpc_route(far, cidr):
                routes.append(RemoteRoute(name, far.core_vpc_id, cidr, far.tgw_id, "vpc"))
            routes.append(RemoteRoute(breakout.region, home.peering_route_table_id, cidr,
                                      attachment))  # fmt: skip
    return routes


@dataclass(frozen=True)
class Reroute:
    """How one Active breakout's cross-region routes move: ``add`` (made, or pointed at a
    new target) and ``remove`` (deleted); ``routes`` is what the row records meanwhile."""

    breakout_id: int
    add: tuple[RemoteRoute, ...]
    remove: tuple[RemoteRoute, ...]
    final: tuple[RemoteRoute, ...]


def _key(route: RemoteRoute) -> tuple[str, str, str, str]:
    """A route's place (one route per CIDR in a table); its target may change."""
    return (route.region, route.route_table_id, route.cidr, route.kind)


def reroute_plan(session: Session, breakout: Breakout, world: World | None = None
                 ) -> Reroute | None:  # fmt: skip
    """None while the recorded routes are the wanted ones; else what to add and remove."""
    have = list(dict.fromkeys(recorded(breakout)))
    want = list(dict.fromkeys(wanted(session, breakout, world)))
    if set(have) == set(want):
        return None
    kept = {_key(r) for r in want}
    add = tuple(r for r in want if r not in have)
    remove = tuple(r for r in have if _key(r) not in kept)
    return Reroute(breakout.id, add, remove, tuple(want))


def _needs_vpc_route(region: Region, cidr: str) -> bool:
    aggregate = region.customer_aggregate_cidr
    return not aggregate or not IPv4Network(cidr).subnet_of(IPv4Network(aggregate))


def where_devices_break_out(session: Session, breakout: Breakout) -> list[tuple[str, str]]:
    """(region, how) for each region whose devices this breakout serves or cannot serve, for
    people: its own region first, then the organisation's other device regions, each over
    the peering or, unpeered, without a path."""
    out = [(breakout.region, "this region")]
    for name in sorted(device_regions(session, breakout.org_id) - {breakout.region}):
        if find(session, breakout.region, name) is None:
            out.append((name, f"not served: {name} is not peered with {breakout.region}"))
        else:
            out.append((name, f"over the region peering with {breakout.region}"))
    return out


def peered_regions(session: Session, region: str) -> list[str]:
    """The regions peered with ``region`` (whose tables may hold its customers' CIDRs)."""
    stmt = select(RegionPeering).where(
        (RegionPeering.region == region) | (RegionPeering.peer_region == region)
    )
    return sorted(p.other(region) for p in session.scalars(stmt))


def dependents(session: Session, region: str, peer_region: str) -> list[str]:
    """Breakouts (not yet deactivated) with routes over the peering of the two regions."""
    peering = find(session, region, peer_region)
    if peering is None:
        return []
    stmt = select(Breakout).where(
        Breakout.region.in_([region, peer_region]), Breakout.status_id != Status.DEACTIVATED
    )
    users = []
    for breakout in session.scalars(stmt.order_by(Breakout.id)):
        other = peering.other(breakout.region)
        if other in device_regions(session, breakout.org_id) or any(
            r.target == peering.attachment_id for r in recorded(breakout)
        ):
            users.append(f"breakout {breakout.id} ({breakout.name!r})")
    return users


def available_pairs(session: Session) -> list[tuple[str, str]]:
    """(attachment region, device breakout region) for every bootstrapped region with
    itself and every peered pair of bootstrapped regions, in both directions."""
    names = set(session.scalars(select(Region.name)))
    pairs = {(n, n) for n in names}
    for p in session.scalars(select(RegionPeering).where(RegionPeering.state == "available")):
        if {p.region, p.peer_region} <= names:
            pairs |= {(p.region, p.peer_region), (p.peer_region, p.region)}
    return sorted(pairs)
