"""AWS API calls that verify and audit need, counted with botocore's ``before-call`` event:
paginated reads only, a small constant per 1,000 routes, nothing per route. Also checks that
every route past SearchTransitGatewayRoutes' 1,000-route answer is read."""

from __future__ import annotations

from pathlib import Path

from linkplane.isolation import service
from tests.test_isolation_support import CallCounter, World, counted_cloud, iter_routes, make_world

EXTRA = 1_200


def _fill(w: World, att: str, cidrs: list[str]) -> None:
    """Routes made by hand, four requests in flight (HTTP overhead dominates)."""
    from concurrent.futures import ThreadPoolExecutor

    clients = [w.ec2() for _ in range(4)]

    def add(i: int) -> None:
        clients[i % 4].create_transit_gateway_route(
            TransitGatewayRouteTableId=w.region.core_table_id, DestinationCidrBlock=cidrs[i],
            TransitGatewayAttachmentId=att)  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(add, range(len(cidrs))))


def test_calls_per_thousand_routes_are_bounded(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    bid = w.provision(w.orgs[0], ["10.71.0.0/24"])
    counter = CallCounter()
    cloud = counted_cloud(w.settings, w.region.name, counter)
    with w.ctx.sessionmaker() as session:
        from linkplane.attachments.models import Breakout

        att = str(session.get_one(Breakout, bid).attachment_id)

    def measure() -> tuple[int, int]:
        counter.reset()
        service.verify_isolation(settings=w.settings, factory=w.ctx.sessionmaker,
                                 cloud_for=lambda r: cloud)  # fmt: skip
        verify_calls = counter.total
        counter.reset()
        found = service.audit(settings=w.settings, factory=w.ctx.sessionmaker,
                              cloud_for=lambda r: cloud)  # fmt: skip
        assert sum(f.code == "unowned_route" for f in found.findings) == len(extra)
        return verify_calls, counter.total

    extra: list[str] = []
    small = measure()
    extra = list(iter_routes(EXTRA))
    _fill(w, att, extra)
    routes = len(cloud.search_routes(w.region.core_table_id))
    assert routes == EXTRA + 1  # nothing lost past the 1,000-route answer
    big = measure()
    searches = counter.calls.get("SearchTransitGatewayRoutes", 0)
    # VPN leftovers: one filtered read each per region and audit, whatever the routes.
    assert counter.calls.get("DescribeVpnConnections") == 1, counter.calls
    assert counter.calls.get("DescribeCustomerGateways") == 1, counter.calls
    # Growth from 1 to 1,201 routes: a dozen extra Search calls at most, nothing else (the
    # first truncation costs the most: narrowing from 0.0.0.0/0; see bench/bench_audit.py).
    assert big[0] - small[0] <= 12 and big[1] - small[1] <= 12, (small, big, counter.calls)
    assert searches <= 1 + 4 + 4 * (routes // 1000 + 1), counter.calls
    assert set(counter.calls) <= {
        "DescribeTransitGatewayRouteTables", "SearchTransitGatewayRoutes",
        "DescribeTransitGatewayAttachments", "GetTransitGatewayRouteTableAssociations",
        "GetTransitGatewayRouteTablePropagations", "GetResourceShares",
        "GetResourceShareAssociations",
        "DescribeTransitGateways",  # audit: is the region's TGW still there (missing_tgw)
        "DescribeVpnConnections", "DescribeCustomerGateways",  # audit: VPN leftovers
    }
