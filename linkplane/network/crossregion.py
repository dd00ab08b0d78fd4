"""Paths across a region peering: the verifier's hop-by-hop check between two TGWs.

A breakout attached in region A serves devices that break out in region D over the peering
P of A and D. AWS evaluates each TGW on its own: a packet entering a TGW is routed by the
table its entry attachment is associated with, and a peering attachment carries static routes
only (no propagation, nothing transitive beyond what the tables say). So:

- forward, for each CIDR: D's core table must send it to P; in A, P must be associated with
  A's peering table, which must send it to the breakout's attachment;
- return, for each of the organisation's device ranges in D: A's customers table (where the
  breakout's attachment is associated) must send it to P; in D, P must be associated with D's
  peering table, which must send it to D's core attachment;
- a peering table holds nothing else: its own pool to the core attachment and exactly the
  CIDRs of the breakouts served across it, each to that breakout's attachment. A route there
  to another attachment is a path from the peer region's devices to a customer no breakout
  of theirs asked for.

Between organisations the peer core's packet policy separates them, as in one region (see
:mod:`.verify`): routing hands every device of D a path to every CIDR served across P.

Pure code: values in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network

from linkplane.network.routing import RouteTable, Topology
from linkplane.network.verify import ASSOCIATION, ROUTING, Finding, judge_hop


@dataclass(frozen=True)
class RegionTables:
    """One region's TGW as read, with the ids of the tables bootstrap and peer made."""

    topology: Topology
    core_table_id: str
    customers_table_id: str
    core_attachment_id: str
    device_pool: IPv4Network
    peering_table_id: str | None = None


@dataclass(frozen=True)
class PeeringHop:
    """One CIDR of an Active breakout attached in ``attachment_region`` for devices of its
    organisation that break out in ``device_region``, over the peering ``peering_id``."""

    org_id: int
    breakout_id: int
    cidr: IPv4Network
    attachment_id: str
    peering_id: str
    attachment_region: str
    device_region: str
    device_ranges: tuple[IPv4Network, ...]


def _table(topology: Topology, table_id: str | None) -> RouteTable:
    return topology.tables.get(table_id or "") or RouteTable(table_id or "-", ())


def check_hops(
    hops: Iterable[PeeringHop], regions: Mapping[str, RegionTables]
) -> dict[str, list[Finding]]:
    """Findings per region for every hop of ``hops`` and every peering table."""
    out: dict[str, list[Finding]] = {name: [] for name in regions}
    served: dict[str, dict[IPv4Network, str]] = {name: {} for name in regions}
    for hop in hops:
        far, home = regions.get(hop.device_region), regions.get(hop.attachment_region)
        if far is None or home is None:
            continue
        served[hop.attachment_region][hop.cidr] = hop.attachment_id
        out[hop.device_region] += _forward_out(hop, far)
        out[hop.attachment_region] += _forward_in(hop, home)
        out[hop.attachment_region] += _return_out(hop, home)
        out[hop.device_region] += _return_in(hop, far)
    for name, region in regions.items():
        out[name] += _audit_peering_table(region, served[name])
    return {name: _unique(findings) for name, findings in out.items()}


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def _what(hop: PeeringHop) -> str:
    return (f"devices of org {hop.org_id} in {hop.device_region} to {hop.cidr} "
            f"(breakout {hop.breakout_id} in {hop.attachment_region})")  # fmt: skip


def _forward_out(hop: PeeringHop, far: RegionTables) -> list[Finding]:
    table = _table(far.topology, far.core_table_id)
    found = judge_hop(far.topology, table.covering(hop.cidr), hop.cidr, want=hop.peering_id,
                      want_org=hop.org_id, table_id=table.id,
                      what=f"{_what(hop)}, first hop to the peering")  # fmt: skip
    return [found] if found else []


def _associated(hop: PeeringHop, region: RegionTables, name: str) -> Finding | None:
    got = region.topology.associations.get(hop.peering_id)
    if region.peering_table_id and got == region.peering_table_id:
        return None
    now = f"associated with {got}" if got else "not associated with any route table"
    return Finding(
        "wrong_association", ASSOCIATION,
        f"the peering {hop.peering_id} in {name} is {now}, expected the peering table "
        f"{region.peering_table_id}; {_what(hop)} has no path",
        table_id=got, attachment_id=hop.peering_id, orgs=(hop.org_id,),
    )  # fmt: skip


def _forward_in(hop: PeeringHop, home: RegionTables) -> list[Finding]:
    wrong = _associated(hop, home, hop.attachment_region)
    if wrong is not None:
        return [wrong]
    table = _table(home.topology, home.peering_table_id)
    found = judge_hop(home.topology, table.covering(hop.cidr), hop.cidr,
                      want=hop.attachment_id, want_org=hop.org_id, table_id=table.id,
                      what=f"{_what(hop)}, second hop from the peering")  # fmt: skip
    return [found] if found else []


def _return_out(hop: PeeringHop, home: RegionTables) -> list[Finding]:
    table = _table(home.topology, home.customers_table_id)
    out = []
    for net in hop.device_ranges:
        found = judge_hop(home.topology, table.covering(net), net, want=hop.peering_id,
                          want_org=None, table_id=table.id, orgs=(hop.org_id,),
                          what=f"customers of org {hop.org_id} in {hop.attachment_region} "
                               f"back to devices {net} in {hop.device_region}")  # fmt: skip
        if found:
            out.append(found)
    return out


def _return_in(hop: PeeringHop, far: RegionTables) -> list[Finding]:
    wrong = _associated(hop, far, hop.device_region)
    if wrong is not None:
        return [wrong]
    table = _table(far.topology, far.peering_table_id)
    out = []
    for net in hop.device_ranges:
        found = judge_hop(far.topology, table.covering(net), net, want=far.core_attachment_id,
                          want_org=None, table_id=table.id, orgs=(hop.org_id,),
                          what=f"customers of org {hop.org_id} from the peering to devices "
                               f"{net} in {hop.device_region}")  # fmt: skip
        if found:
            out.append(found)
    return out


def _audit_peering_table(region: RegionTables, served: Mapping[IPv4Network, str]) -> list[Finding]:
    """Only the own pool to the core and the served CIDRs to their breakouts."""
    if not region.peering_table_id:
        return []
    table = _table(region.topology, region.peering_table_id)
    want = {region.device_pool: region.core_attachment_id, **served}
    out = []
    for route in table.winners():
        if route.is_blackhole or route.attachment_ids == (want.get(route.network),):
            continue
        targets = ", ".join(route.attachment_ids)
        orgs = {a.org_id for i in route.attachment_ids
                if (a := region.topology.attachments.get(i)) and a.org_id is not None}
        out.append(Finding(
            "cross_org_route" if orgs else "stale_route", ROUTING,
            f"{route.describe()} in the peering table {table.id} lets every device of the "
            f"peer region reach {targets}, which no breakout served across the peering asks "
            "for; delete it",
            table_id=table.id, cidr=str(route.network), attachment_id=targets,
            orgs=tuple(sorted(orgs)),
        ))  # fmt: skip
    return out
