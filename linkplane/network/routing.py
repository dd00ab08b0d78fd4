"""A model of Transit Gateway routing and AWS's route evaluation.

Entry points:

- :func:`read_topology` -- read one TGW through the cloud port (any object with the five
  read methods below; linkplane's cloud port is one) into a Topology.
- :meth:`Topology.from_reads` -- build the model from the cloud port's value types
  (anything shaped like :mod:`linkplane.network.reads`)
  (``find_route_tables``, ``search_routes`` per table, ``list_attachments``,
  ``route_table_associations`` / ``route_table_propagations`` per table).
- :meth:`Topology.lookup` / :meth:`RouteTable.lookup` -- which route carries a packet to an
  address: the route AWS would pick, blackholes included (a blackhole pick means "dropped").
- :meth:`RouteTable.covering` / :meth:`RouteTable.inside` -- range queries the verifier uses
  to judge whole CIDRs without enumerating addresses.

Route evaluation, as AWS documents it for Transit Gateway ("How transit gateways work",
route evaluation order): the most specific prefix wins; among routes with the same prefix,
static routes win over propagated ones, and propagated routes rank VPC, then Direct Connect
gateway, then Connect, then Site-to-Site VPN, then peering. A blackhole route that wins
drops the packet; it is not skipped in favour of a less specific route.

Pure code: no I/O, no boto3.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Protocol

from linkplane.network.cidrs import as_network
from linkplane.network.reads import (
    AssociationRead,
    AttachmentRead,
    PropagationRead,
    RouteRead,
    TableRead,
)

_ALL = 0xFFFFFFFF


class RouteType(StrEnum):
    STATIC = "static"
    PROPAGATED = "propagated"


class RouteState(StrEnum):
    ACTIVE = "active"
    BLACKHOLE = "blackhole"


class AttachmentKind(StrEnum):
    """TGW attachment resource types, as EC2 spells them."""

    VPC = "vpc"
    VPN = "vpn"
    PEERING = "peering"
    DIRECT_CONNECT = "direct-connect-gateway"
    CONNECT = "connect"


#: Same-prefix precedence of propagated routes by the attachment that propagated them
#: (lower wins); static routes rank 0, above all of these.
_PROPAGATED_RANK: dict[AttachmentKind, int] = {
    AttachmentKind.VPC: 1,
    AttachmentKind.DIRECT_CONNECT: 2,
    AttachmentKind.CONNECT: 3,
    AttachmentKind.VPN: 4,
    AttachmentKind.PEERING: 5,
}


@dataclass(frozen=True)
class Attachment:
    """A TGW attachment; ``org_id`` is the organisation it serves, None for the core/unknown."""

    id: str
    kind: AttachmentKind = AttachmentKind.VPC
    owner_account: str = ""
    org_id: int | None = None
    name: str = ""

    def label(self) -> str:
        org = f" (org {self.org_id})" if self.org_id is not None else ""
        return f"{self.kind.value} attachment {self.id}{org}"


@dataclass(frozen=True)
class Route:
    """One route of one TGW route table. ``attachment_ids`` is empty for a blackhole."""

    table_id: str
    network: IPv4Network
    type: RouteType = RouteType.STATIC
    state: RouteState = RouteState.ACTIVE
    attachment_ids: tuple[str, ...] = ()

    @property
    def is_blackhole(self) -> bool:
        return self.state is RouteState.BLACKHOLE or not self.attachment_ids

    @property
    def start(self) -> int:
        return int(self.network.network_address)

    @property
    def end(self) -> int:
        return int(self.network.broadcast_address)

    def describe(self) -> str:
        target = "blackhole" if self.is_blackhole else ",".join(self.attachment_ids)
        return f"{self.type.value} route {self.network} -> {target} in table {self.table_id}"


def route_rank(route: Route, kinds: Mapping[str, AttachmentKind]) -> int:
    """Same-prefix precedence of ``route`` (lower wins), as AWS documents it."""
    if route.type is RouteType.STATIC:
        return 0
    kind = kinds.get(route.attachment_ids[0]) if route.attachment_ids else None
    return _PROPAGATED_RANK.get(kind, 6) if kind else 6


class RouteTable:
    """A TGW route table indexed for longest-prefix lookups of addresses and ranges.

    Per prefix length a dict from network address to the winning route of that prefix, so
    a lookup is at most 33 dict probes; routes sorted by start answer "routes inside a range"
    by bisection.
    """

    def __init__(
        self,
        table_id: str,
        routes: Iterable[Route],
        *,
        kinds: Mapping[str, AttachmentKind] | None = None,
        name: str = "",
    ) -> None:
        self.id = table_id
        self.name = name or table_id
        self.routes: list[Route] = sorted(routes, key=lambda r: (r.start, r.network.prefixlen))
        kinds = kinds or {}
        self._best: dict[int, dict[int, Route]] = {}
        for route in self.routes:
            per_len = self._best.setdefault(route.network.prefixlen, {})
            current = per_len.get(route.start)
            if current is None or route_rank(route, kinds) < route_rank(current, kinds):
                per_len[route.start] = route
        self._lengths = sorted(self._best, reverse=True)
        self._starts = [r.start for r in self.routes]

    def lookup(self, address: IPv4Address | int) -> Route | None:
        """The route AWS picks for a packet to ``address``; None when nothing matches."""
        addr = int(address)
        for plen in self._lengths:
            mask = (_ALL << (32 - plen)) & _ALL
            route = self._best[plen].get(addr & mask)
            if route is not None:
                return route
        return None

    def covering(self, net: IPv4Network) -> Route | None:
        """The winning route among those containing all of ``net`` (prefix <= net's)."""
        start = int(net.network_address)
        for plen in self._lengths:
            if plen > net.prefixlen:
                continue
            mask = (_ALL << (32 - plen)) & _ALL
            route = self._best[plen].get(start & mask)
            if route is not None:
                return route
        return None

    def inside(self, net: IPv4Network) -> list[Route]:
        """Winning routes strictly more specific than ``net`` that lie inside it."""
        lo = bisect.bisect_left(self._starts, int(net.network_address))
        hi = bisect.bisect_right(self._starts, int(net.broadcast_address))
        return [
            r
            for r in self.routes[lo:hi]
            if r.network.prefixlen > net.prefixlen and self._best[r.network.prefixlen][r.start] is r
        ]

    def winners(self) -> list[Route]:
        """Every route that wins its prefix (losers of same-prefix precedence left out)."""
        return [r for r in self.routes if self._best[r.network.prefixlen][r.start] is r]


@dataclass
class Topology:
    """Route tables, attachments, associations and propagations of one TGW."""

    tables: dict[str, RouteTable]
    attachments: dict[str, Attachment]
    #: attachment id -> the route table it is associated with (at most one, as in AWS).
    associations: dict[str, str]
    #: (route table id, attachment id) pairs with propagation enabled.
    propagations: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        *,
        routes: Iterable[Route],
        attachments: Iterable[Attachment],
        associations: Mapping[str, str],
        table_ids: Iterable[str] = (),
        table_names: Mapping[str, str] | None = None,
        propagations: Iterable[tuple[str, str]] = (),
    ) -> Topology:
        """Build from model values; tables named in ``table_ids`` exist even with no routes."""
        by_id = {a.id: a for a in attachments}
        kinds = {a.id: a.kind for a in by_id.values()}
        grouped: dict[str, list[Route]] = {t: [] for t in table_ids}
        for route in routes:
            grouped.setdefault(route.table_id, []).append(route)
        names = table_names or {}
        tables = {
            tid: RouteTable(tid, rs, kinds=kinds, name=names.get(tid, ""))
            for tid, rs in grouped.items()
        }
        return cls(tables, by_id, dict(associations), set(propagations))

    @classmethod
    def from_reads(
        cls,
        *,
        route_tables: Sequence[TableRead],
        routes_by_table: Mapping[str, Sequence[RouteRead]],
        attachments: Sequence[AttachmentRead],
        associations: Iterable[AssociationRead] = (),
        propagations: Iterable[PropagationRead] = (),
        org_of_attachment: Mapping[str, int] | None = None,
    ) -> Topology:
        """Build from what the cloud port reads.

        Associations come from ``associations`` when given, else from each attachment's
        ``association_route_table_id``; only ``associated`` ones count. IPv6 routes are
        ignored (linkplane is IPv4 only). ``org_of_attachment`` comes from the database.
        """
        orgs = org_of_attachment or {}
        atts = [
            Attachment(
                id=a.id,
                kind=_kind(a.resource_type),
                owner_account=a.resource_owner_id,
                org_id=orgs.get(a.id),
                name=a.tags.get("Name", ""),
            )
            for a in attachments
            if a.state not in ("deleted", "rejected", "failed")
        ]
        assoc = _associations(attachments, associations)
        routes = [_route(r) for rs in routes_by_table.values() for r in rs if ":" not in r.cidr]
        return cls.build(
            routes=routes,
            attachments=atts,
            associations=assoc,
            table_ids=[t.id for t in route_tables],
            table_names={t.id: t.tags.get("Name", "") for t in route_tables},
            propagations=[
                (p.route_table_id, p.attachment_id)
                for p in propagations
                if p.state in ("enabled", "enabling")
            ],
        )

    def lookup(self, from_attachment: str, address: IPv4Address | int) -> Route | None:
        """The route a packet entering the TGW from ``from_attachment`` takes to ``address``.

        None when the attachment is not associated with a table or no route matches.
        """
        table_id = self.associations.get(from_attachment)
        table = self.tables.get(table_id) if table_id else None
        return table.lookup(address) if table else None

    def route_count(self) -> int:
        """Routes counted against the TGW quota (all tables, static and propagated)."""
        return sum(len(t.routes) for t in self.tables.values())


class TopologyReader(Protocol):
    """The read side of the cloud port the verifier needs (CloudPort satisfies it)."""

    def find_route_tables(
        self, *, tgw_id: str, tags: dict[str, str] | None = None
    ) -> Sequence[TableRead]: ...

    def search_routes(self, route_table_id: str) -> Sequence[RouteRead]: ...

    def list_attachments(
        self,
        *,
        tgw_id: str,
        states: list[str] | None = None,
        resource_owner_id: str | None = None,
        resource_type: str | None = None,
    ) -> Sequence[AttachmentRead]: ...

    def route_table_associations(self, route_table_id: str) -> Sequence[AssociationRead]: ...

    def route_table_propagations(self, route_table_id: str) -> Sequence[PropagationRead]: ...


def read_topology(
    cloud: TopologyReader, *, tgw_id: str, org_of_attachment: Mapping[str, int] | None = None
) -> Topology:
    """Read every route table, route, attachment, association and propagation of ``tgw_id``.

    Costs 1 + 3 x tables + 1 read calls (Describe/Search: the non-mutating throttle bucket).
    ``org_of_attachment`` maps attachment ids to organisations, from the database.
    """
    tables = cloud.find_route_tables(tgw_id=tgw_id)
    return Topology.from_reads(
        route_tables=tables,
        routes_by_table={t.id: cloud.search_routes(t.id) for t in tables},
        attachments=cloud.list_attachments(tgw_id=tgw_id),
        associations=[a for t in tables for a in cloud.route_table_associations(t.id)],
        propagations=[p for t in tables for p in cloud.route_table_propagations(t.id)],
        org_of_attachment=org_of_attachment,
    )


def _kind(resource_type: str) -> AttachmentKind:
    try:
        return AttachmentKind(resource_type)
    except ValueError:
        return AttachmentKind.VPC


def _route(r: RouteRead) -> Route:
    return Route(
        table_id=r.route_table_id,
        network=as_network(r.cidr),
        type=RouteType(r.type) if r.type in ("static", "propagated") else RouteType.STATIC,
        state=RouteState.BLACKHOLE if r.state == "blackhole" else RouteState.ACTIVE,
        attachment_ids=tuple(r.attachment_ids),
    )


def _associations(
    attachments: Sequence[AttachmentRead], associations: Iterable[AssociationRead]
) -> dict[str, str]:
    explicit = list(associations)
    if explicit:
        return {a.attachment_id: a.route_table_id for a in explicit if a.state == "associated"}
    return {
        a.id: a.association_route_table_id
        for a in attachments
        if a.association_route_table_id and a.association_state in (None, "associated")
    }
