"""TGW route evaluation: longest prefix, static before propagated, blackholes drop."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from linkplane.cloud.port import (
    RouteTableAssociation,
    TgwAttachment,
    TgwPropagation,
    TgwRoute,
    TgwRouteTable,
)
from linkplane.network.routing import (
    Attachment,
    AttachmentKind,
    Route,
    RouteState,
    RouteTable,
    RouteType,
    Topology,
    read_topology,
    route_rank,
)

KINDS = {
    "vpc": AttachmentKind.VPC,
    "vpn": AttachmentKind.VPN,
    "dx": AttachmentKind.DIRECT_CONNECT,
    "peer": AttachmentKind.PEERING,
}


def r(cidr: str, att: str = "vpc", *, prop: bool = False, hole: bool = False) -> Route:
    return Route(
        "rt",
        IPv4Network(cidr),
        RouteType.PROPAGATED if prop else RouteType.STATIC,
        RouteState.BLACKHOLE if hole else RouteState.ACTIVE,
        () if hole else (att,),
    )


def test_longest_prefix_wins() -> None:
    table = RouteTable("rt", [r("10.0.0.0/8", "vpc"), r("10.1.0.0/16", "vpn")], kinds=KINDS)
    assert table.lookup(IPv4Address("10.1.2.3")) == r("10.1.0.0/16", "vpn")
    assert table.lookup(IPv4Address("10.2.2.3")) == r("10.0.0.0/8", "vpc")
    assert table.lookup(IPv4Address("11.0.0.1")) is None


def test_static_beats_propagated_for_same_prefix() -> None:
    table = RouteTable(
        "rt", [r("10.1.0.0/16", "vpc", prop=True), r("10.1.0.0/16", "vpn")], kinds=KINDS
    )
    assert table.lookup(IPv4Address("10.1.0.1")) == r("10.1.0.0/16", "vpn")


def test_propagated_precedence_vpc_dx_vpn_peering() -> None:
    routes = [r("10.1.0.0/16", k, prop=True) for k in ("peer", "vpn", "dx", "vpc")]
    assert RouteTable("rt", routes, kinds=KINDS).lookup(IPv4Address("10.1.0.1")) == routes[3]
    assert RouteTable("rt", routes[:3], kinds=KINDS).lookup(IPv4Address("10.1.0.1")) == routes[2]
    assert RouteTable("rt", routes[:2], kinds=KINDS).lookup(IPv4Address("10.1.0.1")) == routes[1]


def test_blackhole_drops_instead_of_falling_back() -> None:
    table = RouteTable("rt", [r("10.0.0.0/8"), r("10.1.0.0/16", hole=True)], kinds=KINDS)
    picked = table.lookup(IPv4Address("10.1.0.1"))
    assert picked is not None and picked.is_blackhole


def test_covering_and_inside() -> None:
    table = RouteTable(
        "rt", [r("10.0.0.0/8"), r("10.1.0.0/16", "vpn"), r("10.1.5.0/24", "dx")], kinds=KINDS
    )
    assert table.covering(IPv4Network("10.1.0.0/16")) == r("10.1.0.0/16", "vpn")
    assert table.covering(IPv4Network("10.1.0.0/17")) == r("10.1.0.0/16", "vpn")
    assert table.inside(IPv4Network("10.1.0.0/16")) == [r("10.1.5.0/24", "dx")]
    assert table.covering(IPv4Network("11.0.0.0/16")) is None


def test_from_reads_builds_from_cloud_port_values() -> None:
    topo = Topology.from_reads(
        route_tables=[TgwRouteTable("rt-core", "tgw-1", "available", tags={"Name": "core"})],
        routes_by_table={
            "rt-core": [
                TgwRoute("rt-core", "10.1.0.0/16", "static", "active", ("att-a",)),
                TgwRoute("rt-core", "10.2.0.0/16", "static", "blackhole", ()),
                TgwRoute("rt-core", "fd00::/64", "static", "active", ("att-a",)),
            ]
        },
        attachments=[
            TgwAttachment("att-a", "tgw-1", "vpc", "vpc-1", "111111111111", "available"),
            TgwAttachment("att-v", "tgw-1", "vpn", "vpn-1", "123456789012", "available"),
            TgwAttachment("att-x", "tgw-1", "vpc", "vpc-2", "222222222222", "deleted"),
        ],
        associations=[
            RouteTableAssociation("rt-core", "att-a", "vpc", "associated"),
            RouteTableAssociation("rt-core", "att-v", "vpn", "disassociating"),
        ],
        propagations=[TgwPropagation("rt-core", "att-v", "enabled")],
        org_of_attachment={"att-a": 7},
    )
    assert topo.tables["rt-core"].name == "core"
    assert topo.attachments["att-a"].org_id == 7
    assert topo.attachments["att-v"].kind is AttachmentKind.VPN
    assert "att-x" not in topo.attachments
    assert topo.associations == {"att-a": "rt-core"}
    assert topo.propagations == {("rt-core", "att-v")}
    assert topo.route_count() == 2  # the IPv6 route is ignored
    hop = topo.lookup("att-a", IPv4Address("10.1.9.9"))
    assert hop is not None and hop.attachment_ids == ("att-a",)
    assert topo.lookup("att-v", IPv4Address("10.1.9.9")) is None  # not associated


def test_from_reads_falls_back_to_attachment_association() -> None:
    topo = Topology.from_reads(
        route_tables=[],
        routes_by_table={},
        attachments=[
            TgwAttachment("att-a", "tgw-1", "vpc", "vpc-1", "1", "available", "rt-c", "associated")
        ],
    )
    assert topo.associations == {"att-a": "rt-c"}
    assert Attachment("att-a").label() == "vpc attachment att-a"


class FakeCloud:
    """Just the read methods ``read_topology`` uses, answering for one TGW."""

    def find_route_tables(
        self, *, tgw_id: str, tags: dict[str, str] | None = None
    ) -> list[TgwRouteTable]:
        assert tgw_id == "tgw-1"
        return [TgwRouteTable("rt-core", "tgw-1", "available")]

    def search_routes(self, route_table_id: str) -> list[TgwRoute]:
        return [TgwRoute(route_table_id, "10.1.0.0/16", "static", "active", ("att-a",))]

    def list_attachments(
        self,
        *,
        tgw_id: str,
        states: list[str] | None = None,
        resource_owner_id: str | None = None,
        resource_type: str | None = None,
    ) -> list[TgwAttachment]:
        return [TgwAttachment("att-a", tgw_id, "vpc", "vpc-1", "111111111111", "available")]

    def route_table_associations(self, route_table_id: str) -> list[RouteTableAssociation]:
        return [RouteTableAssociation(route_table_id, "att-a", "vpc", "associated")]

    def route_table_propagations(self, route_table_id: str) -> list[TgwPropagation]:
        return []


def test_read_topology_through_the_port() -> None:
    topo = read_topology(FakeCloud(), tgw_id="tgw-1", org_of_attachment={"att-a": 3})
    assert topo.associations == {"att-a": "rt-core"}
    assert topo.attachments["att-a"].org_id == 3
    hop = topo.lookup("att-a", IPv4Address("10.1.0.9"))
    assert hop is not None and hop.attachment_ids == ("att-a",)


# --- property: the indexed evaluator agrees with a brute-force one ------------------------

routes_st = st.builds(
    lambda addr, plen, kind, prop, hole: r(
        str(IPv4Network((addr, plen), strict=False)), kind, prop=prop, hole=hole
    ),
    st.integers(0x0A000000, 0x0A0000FF),
    st.integers(24, 32),
    st.sampled_from(sorted(KINDS)),
    st.booleans(),
    st.booleans(),
)


def brute_force(routes: list[Route], addr: int) -> Route | None:
    matching = [x for x in routes if x.start <= addr <= x.end]
    if not matching:
        return None
    best_len = max(x.network.prefixlen for x in matching)
    same = [x for x in matching if x.network.prefixlen == best_len]
    return min(same, key=lambda x: (route_rank(x, KINDS), routes.index(x)))


@settings(max_examples=300, deadline=None)
@given(st.lists(routes_st, max_size=12), st.integers(0x0A000000, 0x0A0000FF))
def test_lookup_matches_brute_force(routes: list[Route], addr: int) -> None:
    fast = RouteTable("rt", routes, kinds=KINDS).lookup(addr)
    slow = brute_force(routes, addr)
    if slow is None:
        assert fast is None
    else:
        assert fast is not None
        # Equal-rank ties pick either; what matters is prefix, rank and blackhole-ness.
        assert fast.network == slow.network
        assert route_rank(fast, KINDS) == route_rank(slow, KINDS)
