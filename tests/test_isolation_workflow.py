"""The breakout workflow's "update core policy" step: a breakout driven to Active through
the real API + DBOS workflow lands in the applied core policy and verifies clean; its
deletion takes its CIDRs out again."""

from __future__ import annotations

from linkplane.isolation import gateway, service
from linkplane.network.cidrs import as_network
from linkplane.network.policy import parse_ruleset
from tests.test_breakouts_support import REGION, Stack, new_account, new_cidrs, stack

__all__ = ["stack"]


def _applied_cidrs(s: Stack) -> set[str]:
    path = gateway.policy_path(s.settings)
    policy = parse_ruleset(path.read_text())
    return {str(n) for nets in policy.org_cidrs.values() for n in nets}


def test_active_breakout_is_in_the_policy_and_verifies(stack: Stack) -> None:
    account, cidrs = new_account(), new_cidrs(1)
    created = stack.create(account, cidrs)
    bid = created["id"]
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    stack.status(bid, 2)
    stack.attach(account, cidrs[0])
    stack.status(bid, 5)
    assert str(as_network(cidrs[0])) in _applied_cidrs(stack)
    result = service.verify_isolation(
        settings=stack.settings, factory=stack.ctx.sessionmaker,
        cloud_for=lambda r: stack.provider.for_region(r), region=REGION,
    )  # fmt: skip
    # Only this breakout's pairs are judged here; breakouts of other tests may be mid-flight.
    mine = [f for f in result.reports[REGION].findings if cidrs[0] in (f.cidr or "")]
    assert mine == []
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    stack.status(bid, 7)
    assert str(as_network(cidrs[0])) not in _applied_cidrs(stack)
