"""The core policy knows each region's device pool (issue 11): a breakout serves the devices
of its attachment region and of the regions its routes over a peering reach, nothing else."""

from __future__ import annotations

from linkplane.attachments.crossregion import RemoteRoute
from linkplane.attachments.models import Status
from linkplane.isolation.state import OwnedBreakout, RegionSpec, with_pools
from linkplane.network.policy import CorePolicy, Endpoint

A = RegionSpec("eu-central-1", "tgw-a", "arn:a", "rt-core-a", "rt-cust-a", "att-core-a",
               "10.200.0.0/16", "100.64.0.0/12", "rt-peer-a")  # fmt: skip
B = RegionSpec("eu-west-1", "tgw-b", "arn:b", "rt-core-b", "rt-cust-b", "att-core-b",
               "10.200.0.0/16", "100.80.0.0/12", "rt-peer-b")  # fmt: skip


def _breakout(bid: int, org: int, cidr: str, *remote: RemoteRoute) -> OwnedBreakout:
    return OwnedBreakout(bid, org, A.name, "111111111111", Status.ACTIVE, (cidr,), None,
                         f"att-{bid}", A.customers_table_id, A.core_table_id, (cidr,),
                         crossregion=remote)  # fmt: skip


LOCAL = _breakout(1, 1, "10.1.0.0/16")
ACROSS = _breakout(2, 1, "10.5.0.0/16",
                   RemoteRoute(B.name, B.core_table_id, "10.5.0.0/16", "tgw-attach-peer"),
                   RemoteRoute(B.name, "vpc-b", "10.5.0.0/16", "tgw-b", "vpc"),
                   RemoteRoute(A.name, "rt-peer-a", "10.5.0.0/16", "att-2"))  # fmt: skip


def test_pools_follow_the_recorded_routes() -> None:
    local, across = with_pools([LOCAL, ACROSS], [A, B])
    assert local.pools == (A.device_cidr,)
    assert across.pools == (A.device_cidr, B.device_cidr)  # the peering table adds no pool


def test_one_region_keeps_the_policy_of_one_region() -> None:
    assert [b.pools for b in with_pools([LOCAL, ACROSS], [A])] == [(), ()]


def test_the_policy_from_the_rows_keeps_each_device_to_its_regions_breakouts() -> None:
    fleet = [Endpoint(1, "100.64.0.1"), Endpoint(1, "100.80.0.1")]
    policy = CorePolicy.compute(fleet, [b.as_network() for b in with_pools([LOCAL, ACROSS],
                                                                          [A, B])])  # fmt: skip
    assert policy.allows("100.64.0.1", "10.1.0.1") and policy.allows("100.64.0.1", "10.5.0.1")
    assert policy.allows("100.80.0.1", "10.5.0.1")  # over the peering, as routed
    assert not policy.allows("100.80.0.1", "10.1.0.1")  # no route from B: not in the policy
    assert not policy.allows("10.1.0.1", "100.80.0.1")
