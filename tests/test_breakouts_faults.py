"""Fault matrix: AWS errors at every action the breakout workflows call.

- Retryable (throttling 503/429, InternalError 500, a dropped connection): every provider
  action fails 3 times; the breakout still becomes Active and is deleted cleanly, with no
  duplicate and nothing left, and no error reaches the user.
- Permanent (UnauthorizedOperation 403 / InvalidParameter 400) at each provisioning action:
  the breakout rolls back to Deactivated, the reason names the AWS error, and nothing of it
  is left in the cloud (inventory of the provider and customer accounts).
- Permanent at each teardown action: Deactivated with "cleanup incomplete: <undo>" and
  exactly the resource that undo could not remove left over.

- Region peering (``linkplane region peer``, in a provider account of its own): retryable
  errors at every action absorbed; a permanent one at each action undone, then a rerun peers.
- ``linkplane region unpeer``: retryable errors at every action absorbed; a permanent one at
  each action leaves the stored peering marked ``deleting`` (so ``region list`` says), and a
  rerun completes it; the refusal while a breakout depends on it changes nothing.
- A TGW breakout whose devices break out in the peered region: a permanent error at each
  action of its cross-region routes rolls it back in both regions; in the sweep's rerouting
  it leaves the breakout Active and warned, and the next sweep routes it. Retryable errors at
  each of those actions (provisioning, rerouting both ways, teardown) are absorbed; a
  permanent one at each cross-region undo of a teardown leaves only that route, "cleanup
  incomplete", and the next sweep removes it.

Runs in the process-wide ``stack`` (embedded cloud over HTTP, DBOS in this process); faults
are narrowed to the provider account, and to the breakout's account or share where other
tests' waiting breakouts call the same action.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from linkplane.cloud.factory import make_cloud
from linkplane.errors import Conflict, LinkplaneError
from linkplane.localcloud import throttle
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
from tests.test_breakouts_faults_support import (
    ACTIVE_ONE_CIDR,
    NOTHING,
    PEER_A,
    PEER_B,
    PROVIDER,
    PeerStack,
    counts,
    inventory,
    owned,
    peer_stack,
)
from tests.test_breakouts_support import REGION, Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the process-wide fixture
from tests.test_breakouts_vpn import NOTHING as VPN_NOTHING
from tests.test_breakouts_vpn import create_vpn, left_in_cloud
from tests.test_regions_crossregion_e2e import WEST, _tables
from tests.test_regions_crossregion_e2e import two_regions as two_regions  # the fixture

ACTIVE, DEACTIVATED = 5, 7
#: Every provider action of provisioning and of the teardown of an Active breakout.
PROVISION_ACTIONS = {
    "ram": ["GetResourceShares", "CreateResourceShare", "GetResourceShareAssociations"],
    "ec2": ["DescribeTransitGatewayAttachments", "AcceptTransitGatewayVpcAttachment",
            "AssociateTransitGatewayRouteTable", "SearchTransitGatewayRoutes",
            "CreateTransitGatewayRoute", "DescribeRouteTables", "CreateRoute"],
}  # fmt: skip
TEARDOWN_ACTIONS = {
    "ram": ["DeleteResourceShare"],
    "ec2": ["DeleteRoute", "DeleteTransitGatewayRoute", "DisassociateTransitGatewayRouteTable",
            "DeleteTransitGatewayVpcAttachment"],
}  # fmt: skip
RETRYABLE = {"ram": ("ThrottlingException", 429), "ec2": ("RequestLimitExceeded", 503)}
VPN_ACTIVE_ONE_CIDR = {"customer_gateways": 1, "vpn_connections": 1, "attachments": 1,
                       "associations": 1, "routes": 1}  # fmt: skip
#: Type 4 (BGP HA): two of everything but the routes (they lead to the first connection).
HA_ACTIVE_ONE_CIDR = {"customer_gateways": 2, "vpn_connections": 2, "attachments": 2,
                      "associations": 2, "routes": 1}  # fmt: skip


@pytest.fixture(autouse=True)
def clean_faults() -> Iterator[None]:
    throttle.reset()
    yield
    throttle.reset()


def _actions(*groups: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(service, a) for group in groups for service, names in group.items() for a in names]


def _provision(stack: Stack, account: str, cidrs: list[str], before_attach: Callable[[], None]
               = lambda: None) -> int:  # fmt: skip
    """Create, accept, attach (the customer acting at once); returns the breakout id."""
    bid = int(stack.create(account, cidrs)["id"])
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")) or
                   d["status"]["id"] == DEACTIVATED)  # fmt: skip
    if stack.get(bid)["status"]["id"] == DEACTIVATED:
        return bid
    stack.accept_invitation(account)
    stack.wait_for(bid, lambda d: d["status"]["id"] in (2, DEACTIVATED))
    before_attach()
    try:
        stack.attach(account, cidr=cidrs[0])
    except ClientError:  # the breakout gave up first: its share (so the TGW) is gone already
        assert stack.get(bid)["status"]["id"] in (6, 8, DEACTIVATED)
    return bid


def _final(stack: Stack, bid: int) -> dict[str, Any]:
    return stack.wait_for(bid, lambda d: d["status"]["id"] in (ACTIVE, DEACTIVATED), 60)


def _left(stack: Stack, account: str, bid: int, cidrs: list[str]) -> dict[str, int]:
    return counts(owned(inventory(stack.endpoint_url, account), account, bid, cidrs))


def _vpc_routes(stack: Stack, cidr: str) -> int:
    table = stack.provider.main_route_table_id(stack.region.core_vpc_id)
    return sum(1 for r in stack.provider.vpc_routes(table) if r.cidr == cidr)


def _user_errors(data: dict[str, Any]) -> list[str]:
    """Events a user sees as problems: severity above 0, or a rollback."""
    return [e["description"] for e in data["history"]
            if e.get("severity", 0) > 0 or e["detail"].get("to") == 8]  # fmt: skip


@pytest.mark.parametrize("kind", ["throttled", "server-error", "connection-dropped"])
def test_retryable_errors_at_every_action_are_absorbed(stack: Stack, kind: str) -> None:
    account, cidrs = new_account(), new_cidrs(1)
    for service, action in _actions(PROVISION_ACTIONS, TEARDOWN_ACTIONS):
        if kind == "connection-dropped":
            throttle.inject_disconnect(action, 3, account_id=PROVIDER)
        else:
            code, status = RETRYABLE[service] if kind == "throttled" else ("InternalError", 500)
            throttle.inject_fault(action, code, status, 3, account_id=PROVIDER)
    bid = _provision(stack, account, cidrs)
    data = _final(stack, bid)
    assert data["status"]["id"] == ACTIVE, data["status_reason"]
    assert _left(stack, account, bid, cidrs) == ACTIVE_ONE_CIDR
    assert _vpc_routes(stack, cidrs[0]) == 1
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    data = stack.status(bid, DEACTIVATED, 60)
    assert data["status_reason"] == "deleted"
    assert _user_errors(data) == []
    assert throttle.pending_faults() == {}, "some action was never called"
    assert _left(stack, account, bid, cidrs) == NOTHING
    assert _vpc_routes(stack, cidrs[0]) == 0


PERMANENT = {"ram": ("InvalidParameterException", 400), "ec2": ("UnauthorizedOperation", 403)}


def _inject_permanent(stack: Stack, service: str, action: str, account: str, bid_arn: str = ""
                      ) -> None:  # fmt: skip
    code, status = PERMANENT[service]
    match = {"DescribeTransitGatewayAttachments": account,
             "GetResourceShareAssociations": bid_arn}.get(action)  # fmt: skip
    throttle.inject_fault(action, code, status, 1, account_id=PROVIDER, match=match)


@pytest.mark.parametrize(("service", "action"), _actions(PROVISION_ACTIONS))
def test_permanent_error_while_provisioning_rolls_back_cleanly(
    stack: Stack, service: str, action: str
) -> None:
    account, cidrs = new_account(), new_cidrs(1)
    late = action in ("GetResourceShareAssociations", "DescribeTransitGatewayAttachments")
    if not late:
        _inject_permanent(stack, service, action, account)

    def inject_late() -> None:
        if action == "DescribeTransitGatewayAttachments":
            _inject_permanent(stack, service, action, account)

    if action == "GetResourceShareAssociations":
        bid = int(stack.create(account, cidrs)["id"])
        arn = stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
        _inject_permanent(
            stack, service, action, account, arn["aws_resources"]["resource_share_arn"]
        )
    else:
        bid = _provision(stack, account, cidrs, inject_late)
    data = _final(stack, bid)
    assert data["status"]["id"] == DEACTIVATED
    assert "AWS error" in data["status_reason"] and PERMANENT[service][0] in data["status_reason"]
    assert throttle.pending_faults() == {}
    stack.sweep()  # rejects a customer attachment that arrived after the breakout gave up
    assert _left(stack, account, bid, cidrs) == NOTHING
    assert _vpc_routes(stack, cidrs[0]) == 0


#: What an undo that failed permanently leaves behind (inventory kinds, and core VPC routes).
LEFT_BY_FAILED_UNDO = {
    "DeleteRoute": ({}, 1),
    "DeleteTransitGatewayRoute": ({"routes": 1}, 0),
    # Deleting the attachment afterwards removes its association too, as in AWS.
    "DisassociateTransitGatewayRouteTable": ({}, 0),
    "DeleteTransitGatewayVpcAttachment": ({"attachments": 1}, 0),
    "DeleteResourceShare": ({"shares": 1, "principal_associations": 1}, 0),
}


#: What the row still records after that undo failed (``aws_resources`` keys), so the sweep
#: knows what to retry. A failed disassociation stays recorded although the attachment's
#: deletion afterwards removed the association in AWS; the retry just forgets it.
RECORDED_BY_FAILED_UNDO = {
    "DeleteRoute": {"routes", "core_route_table_id"},
    "DeleteTransitGatewayRoute": {"routes", "core_route_table_id"},
    "DisassociateTransitGatewayRouteTable": {"associated_route_table_id"},
    "DeleteTransitGatewayVpcAttachment": {"transit_gateway_attachment_id"},
    "DeleteResourceShare": {"resource_share_arn"},
}
CLEAN = {"transit_gateway_id", "routes"}


def _recorded(data: dict[str, Any]) -> set[str]:
    """The ``aws_resources`` keys naming something (the TGW and the route list always are)."""
    res = data["aws_resources"]
    return {k for k, v in res.items() if v and k not in CLEAN} | (
        {"routes"} if res.get("routes") else set())  # fmt: skip


@pytest.mark.parametrize(("service", "action"), _actions(TEARDOWN_ACTIONS))
def test_permanent_error_in_teardown_is_reported_and_leaves_only_that_resource(
    stack: Stack, service: str, action: str
) -> None:
    account, cidrs = new_account(), new_cidrs(1)
    bid = _provision(stack, account, cidrs)
    assert _final(stack, bid)["status"]["id"] == ACTIVE
    throttle.inject_fault(action, *PERMANENT[service], 1, account_id=PROVIDER)
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    data = stack.status(bid, DEACTIVATED, 60)
    assert "cleanup incomplete" in data["status_reason"], data["status_reason"]
    assert PERMANENT[service][0] in data["status_reason"]
    assert any(e.get("severity") == 2 for e in data["history"])
    kinds, vpc_routes = LEFT_BY_FAILED_UNDO[action]
    assert _left(stack, account, bid, cidrs) == {**NOTHING, **kinds}
    assert _vpc_routes(stack, cidrs[0]) == vpc_routes
    assert _recorded(data) == RECORDED_BY_FAILED_UNDO[action]
    # The sweep retries what the row still records (the fault is spent, AWS now agrees).
    stack.sweep()
    data = stack.get(bid)
    assert _recorded(data) == set()
    assert _left(stack, account, bid, cidrs) == NOTHING
    assert _vpc_routes(stack, cidrs[0]) == 0
    assert data["status"]["id"] == DEACTIVATED
    assert "leftover AWS resources removed later" in data["status_reason"]


# --- the same matrix for VPN breakouts (types 2, 3 and 4 share one plan) --------------------
VPN_PROVISION_ACTIONS = {
    "ec2": ["DescribeCustomerGateways", "CreateCustomerGateway", "DescribeVpnConnections",
            "CreateVpnConnection", "DescribeTransitGatewayAttachments",
            "AssociateTransitGatewayRouteTable", "SearchTransitGatewayRoutes",
            "CreateTransitGatewayRoute", "DescribeRouteTables", "CreateRoute"],
}  # fmt: skip
VPN_TEARDOWN_ACTIONS = {
    "ec2": ["DeleteRoute", "DeleteTransitGatewayRoute", "DisassociateTransitGatewayRouteTable",
            "DeleteVpnConnection", "DeleteCustomerGateway"],
}  # fmt: skip
#: Type 4 first makes sure the TGW has ECMP (the tests turn it off to have it turned on).
HA_PROVISION_ACTIONS = {"ec2": ["DescribeTransitGateways", "ModifyTransitGateway"]}
#: Type 4 calls these once per connection: the fault strikes the second connection's call,
#: when the first connection exists (what the rollback must undo too).
HA_SECOND_CALL = {"DescribeCustomerGateways", "CreateCustomerGateway", "DescribeVpnConnections",
                  "CreateVpnConnection", "DescribeTransitGatewayAttachments",
                  "AssociateTransitGatewayRouteTable"}  # fmt: skip
#: Other breakouts (TGW ones waiting for their customer) list attachments too: a fault meant
#: for the VPN's attachment look-up matches its resource-type filter.
_VPN_MATCH = {"DescribeTransitGatewayAttachments": "vpn"}


def _ecmp_off(stack: Stack) -> None:
    """As on a gateway linkplane did not create: type 4's plan must turn ECMP on."""
    stack.customer(PROVIDER, "ec2").modify_transit_gateway(
        TransitGatewayId=stack.region.tgw_id, Options={"VpnEcmpSupport": "disable"})


def _vpn_final(stack: Stack, bid: int) -> dict[str, Any]:
    return stack.wait_for(bid, lambda d: d["status"]["id"] in (ACTIVE, DEACTIVATED), 60)


@pytest.mark.parametrize("type_id", [3, 4])
@pytest.mark.parametrize("kind", ["throttled", "server-error", "connection-dropped"])
def test_retryable_errors_at_every_vpn_action_are_absorbed(
    stack: Stack, kind: str, type_id: int
) -> None:
    cidrs = new_cidrs(1)
    extra = [HA_PROVISION_ACTIONS] if type_id == 4 else []
    if type_id == 4:
        _ecmp_off(stack)
    for _service, action in _actions(VPN_PROVISION_ACTIONS, VPN_TEARDOWN_ACTIONS, *extra):
        match = _VPN_MATCH.get(action)
        if kind == "connection-dropped":
            throttle.inject_disconnect(action, 3, account_id=PROVIDER, match=match)
        else:
            code, status = RETRYABLE["ec2"] if kind == "throttled" else ("InternalError", 500)
            throttle.inject_fault(action, code, status, 3, account_id=PROVIDER, match=match)
    bid = create_vpn(stack, type_id, cidrs)["id"]
    data = _vpn_final(stack, bid)
    assert data["status"]["id"] == ACTIVE, data["status_reason"]
    assert left_in_cloud(stack, bid, cidrs) == (HA_ACTIVE_ONE_CIDR if type_id == 4
                                                else VPN_ACTIVE_ONE_CIDR)  # fmt: skip
    assert _vpc_routes(stack, cidrs[0]) == 1
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    data = stack.status(bid, DEACTIVATED, 60)
    assert data["status_reason"] == "deleted"
    assert _user_errors(data) == []
    assert throttle.pending_faults() == {}, "some action was never called"
    assert left_in_cloud(stack, bid, cidrs) == VPN_NOTHING
    assert _vpc_routes(stack, cidrs[0]) == 0


@pytest.mark.parametrize(("service", "action", "type_id"), [
    *[(s, a, t) for t in (2, 3, 4) for s, a in _actions(VPN_PROVISION_ACTIONS)],
    ("ec2", "ModifyTransitGateway", 4),
])  # fmt: skip
def test_permanent_error_while_provisioning_a_vpn_rolls_back_cleanly(
    stack: Stack, service: str, action: str, type_id: int
) -> None:
    cidrs = new_cidrs(1)
    if type_id == 4:
        _ecmp_off(stack)
    after = 1 if type_id == 4 and action in HA_SECOND_CALL else 0
    throttle.inject_fault(action, *PERMANENT[service], 1, account_id=PROVIDER,
                          match=_VPN_MATCH.get(action), after=after)  # fmt: skip
    bid = create_vpn(stack, type_id, cidrs)["id"]
    data = _vpn_final(stack, bid)
    assert data["status"]["id"] == DEACTIVATED
    assert "AWS error" in data["status_reason"] and PERMANENT[service][0] in data["status_reason"]
    assert throttle.pending_faults() == {}
    assert left_in_cloud(stack, bid, cidrs) == VPN_NOTHING
    assert _vpc_routes(stack, cidrs[0]) == 0


#: What a VPN undo that failed permanently leaves (left_in_cloud kinds, core VPC routes) and
#: what the row still records. A VPN connection that could not be deleted keeps its
#: attachment and its customer gateway (AWS refuses to delete a gateway in use).
VPN_LEFT_BY_FAILED_UNDO = {
    "DeleteRoute": ({}, 1, {"routes", "core_route_table_id"}),
    "DeleteTransitGatewayRoute": ({"routes": 1}, 0, {"routes", "core_route_table_id"}),
    "DisassociateTransitGatewayRouteTable": ({}, 0, {"associated_route_table_id"}),
    "DeleteVpnConnection": ({"vpn_connections": 1, "attachments": 1, "customer_gateways": 1}, 0,
                            {"vpn_connection_id", "transit_gateway_attachment_id",
                             "customer_gateway_id"}),
    "DeleteCustomerGateway": ({"customer_gateways": 1}, 0, {"customer_gateway_id"}),
}  # fmt: skip


@pytest.mark.parametrize("type_id", [2, 4])
@pytest.mark.parametrize(("service", "action"), _actions(VPN_TEARDOWN_ACTIONS))
def test_permanent_error_in_vpn_teardown_leaves_only_that_resource(
    stack: Stack, service: str, action: str, type_id: int
) -> None:
    """The fault strikes the first call: type 4's first connection keeps what it could not
    undo, its second goes."""
    cidrs = new_cidrs(1)
    bid = create_vpn(stack, type_id, cidrs)["id"]
    assert _vpn_final(stack, bid)["status"]["id"] == ACTIVE
    throttle.inject_fault(action, *PERMANENT[service], 1, account_id=PROVIDER)
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    data = stack.status(bid, DEACTIVATED, 60)
    assert "cleanup incomplete" in data["status_reason"], data["status_reason"]
    kinds, vpc_routes, recorded = VPN_LEFT_BY_FAILED_UNDO[action]
    assert left_in_cloud(stack, bid, cidrs) == {**VPN_NOTHING, **kinds}
    assert _vpc_routes(stack, cidrs[0]) == vpc_routes
    assert _recorded(data) == recorded
    stack.sweep()  # retries what the row still records
    data = stack.get(bid)
    assert _recorded(data) == set()
    assert left_in_cloud(stack, bid, cidrs) == VPN_NOTHING
    assert _vpc_routes(stack, cidrs[0]) == 0
    assert "leftover AWS resources removed later" in data["status_reason"]


# --- region peering (``linkplane region peer``): the same matrix ----------------------------
#: Every AWS action of a first ``region peer`` (both regions bootstrapped, not peered).
PEER_ACTIONS = ["DescribeTransitGatewayAttachments", "CreateTransitGatewayPeeringAttachment",
                "AcceptTransitGatewayPeeringAttachment", "DescribeTransitGateways",
                "DescribeTransitGatewayRouteTables", "CreateTransitGatewayRouteTable",
                "AssociateTransitGatewayRouteTable", "SearchTransitGatewayRoutes",
                "CreateTransitGatewayRoute"]  # fmt: skip


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> PeerStack:
    return peer_stack(tmp_path_factory.mktemp("peering"))


@pytest.fixture
def bootstrapped(peers: PeerStack) -> Iterator[dict[str, Any]]:
    """The cloud of the two bootstrapped regions before a case; unpeered after it."""
    before = peers.state()
    yield before
    throttle.reset()
    peers.unpeer()
    assert peers.state() == before


@pytest.mark.parametrize("kind", ["throttled", "server-error", "connection-dropped"])
def test_retryable_errors_at_every_peering_action_are_absorbed(
    peers: PeerStack, bootstrapped: dict[str, Any], kind: str
) -> None:
    for action in PEER_ACTIONS:
        if kind == "connection-dropped":
            throttle.inject_disconnect(action, 3, account_id=peers.provider)
        else:
            code, status = RETRYABLE["ec2"] if kind == "throttled" else ("InternalError", 500)
            throttle.inject_fault(action, code, status, 3, account_id=peers.provider)
    result = peers.peer()
    assert throttle.pending_faults() == {}, "some action was never called"
    assert result.peering.state == "available"
    assert peers.state() == peers.peered()


#: Actions a first run calls more than once (per region, per route): the fault strikes the
#: second call too, when the run has more of its own to undo.
PEER_SECOND_CALL = ["CreateTransitGatewayRouteTable", "AssociateTransitGatewayRouteTable",
                    "CreateTransitGatewayRoute"]  # fmt: skip


@pytest.mark.parametrize(("action", "strike"), [
    *[(a, 0) for a in PEER_ACTIONS], *[(a, 1) for a in PEER_SECOND_CALL]])  # fmt: skip
def test_permanent_error_at_each_peering_action_undoes_the_run(
    peers: PeerStack, bootstrapped: dict[str, Any], action: str, strike: int
) -> None:
    """Nothing half-made is left, nothing stored, the error names AWS's; a rerun peers."""
    throttle.inject_fault(action, *PERMANENT["ec2"], 1, account_id=peers.provider, after=strike)
    with pytest.raises(LinkplaneError) as exc:
        peers.peer()
    assert PERMANENT["ec2"][0] in str(exc.value), exc.value
    assert throttle.pending_faults() == {}
    assert peers.state() == bootstrapped
    assert peers.stored_peerings() == []
    assert peers.peer().peering.state == "available"
    assert peers.state() == peers.peered()


# --- ``linkplane region unpeer``: the same matrix -----------------------------------------
#: Every AWS action of ``region unpeer`` (each region's customers-table route to the other's
#: pool and the peering table's association, then the peering) and, for actions it calls
#: more than once, the later calls a fault can strike too.
UNPEER_ACTIONS = [("DeleteTransitGatewayRoute", 0), ("DeleteTransitGatewayRoute", 1),
                  ("DescribeTransitGatewayAttachments", 0),
                  ("DescribeTransitGatewayAttachments", 1),
                  ("DescribeTransitGatewayAttachments", 2),
                  ("DisassociateTransitGatewayRouteTable", 0),
                  ("DisassociateTransitGatewayRouteTable", 1),
                  ("DeleteTransitGatewayPeeringAttachment", 0)]  # fmt: skip


def _listed_peerings(peers: PeerStack) -> list[tuple[str, str]]:
    """What ``linkplane region list --json`` says of the peerings: (peer region, state)."""
    from typer.testing import CliRunner

    from linkplane.regions.cli import app

    r = CliRunner().invoke(app, ["list", "--json", "--data-dir", str(peers.settings.data_dir)])
    assert r.exit_code == 0, r.output
    return [(p["peer_region"], p["state"]) for x in json.loads(r.output) for p in x["peerings"]]


@pytest.mark.parametrize("kind", ["throttled", "server-error", "connection-dropped"])
def test_retryable_errors_at_every_unpeer_action_are_absorbed(
    peers: PeerStack, bootstrapped: dict[str, Any], kind: str
) -> None:
    peers.peer()
    for action in dict.fromkeys(a for a, _strike in UNPEER_ACTIONS):
        if kind == "connection-dropped":
            throttle.inject_disconnect(action, 3, account_id=peers.provider)
        else:
            code, status = RETRYABLE["ec2"] if kind == "throttled" else ("InternalError", 500)
            throttle.inject_fault(action, code, status, 3, account_id=peers.provider)
    peers.run_unpeer()
    assert throttle.pending_faults() == {}, "some action was never called"
    assert peers.stored_peerings() == []
    assert peers.state() == peers.unpeered()


@pytest.mark.parametrize(("action", "strike"), UNPEER_ACTIONS)
def test_permanent_error_at_each_unpeer_action_leaves_what_a_rerun_completes(
    peers: PeerStack, bootstrapped: dict[str, Any], action: str, strike: int
) -> None:
    """The error names AWS's; the stored peering stays, marked as being deleted (``region
    list`` does not call it available and no new profile may route over it), and a rerun
    removes the rest: no peering, no route to the other region's pool."""
    peers.peer()
    throttle.inject_fault(action, *PERMANENT["ec2"], 1, account_id=peers.provider, after=strike)
    with pytest.raises(LinkplaneError) as exc:
        peers.run_unpeer()
    assert PERMANENT["ec2"][0] in str(exc.value), exc.value
    assert throttle.pending_faults() == {}
    assert [s[3] for s in peers.stored_peerings()] == ["deleting"]
    assert _listed_peerings(peers) == [(PEER_B, "deleting"), (PEER_A, "deleting")]
    with peers.factory() as session:
        assert peering.peered_pairs(session=session) == set()
    peers.run_unpeer()
    assert peers.stored_peerings() == []
    assert _listed_peerings(peers) == []
    assert peers.state() == peers.unpeered()


def test_unpeer_is_refused_while_a_breakout_depends_on_it_and_changes_nothing(
    peers: PeerStack, bootstrapped: dict[str, Any]
) -> None:
    peers.peer()
    with pytest.raises(Conflict, match="carries 1 breakout"):
        peers.run_unpeer(lambda _s, _a, _b: ["breakout 7 ('backend')"])
    assert [s[3] for s in peers.stored_peerings()] == ["available"]
    assert peers.state() == peers.peered()


# --- a TGW breakout whose devices break out in the peered region: its cross-region routes ----
#: Each AWS action of the routes over the peering (kind: the device region's core table, its
#: core VPC, the attachment region's peering table), aimed by the table or VPC it names, as
#: the same actions also make the breakout's local routes.
CROSSREGION_ACTIONS = [("SearchTransitGatewayRoutes", "far core"),
                       ("CreateTransitGatewayRoute", "far core"),
                       ("DescribeRouteTables", "far vpc"), ("CreateRoute", "far main"),
                       ("SearchTransitGatewayRoutes", "home peering"),
                       ("CreateTransitGatewayRoute", "home peering")]  # fmt: skip


def _aim(stored: dict[str, RegionRead], settings: Settings, target: str) -> str:
    far, home = stored[WEST], stored[REGION]
    if target == "far main":
        return make_cloud(settings, WEST).main_route_table_id(far.core_vpc_id)
    return {"far core": far.core_route_table_id, "far vpc": far.core_vpc_id,
            "home peering": str(home.peering_route_table_id)}[target]  # fmt: skip


def _provision_as(live: Live, account: str, cidrs: list[str]) -> int:
    """As :func:`_provision`, for the served app's organisation (its profiles apply)."""
    bid = int(live.create(account, cidrs)["id"])
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    live.stack.attach(account, cidr=cidrs[0])
    live.recheck(bid)
    return bid


def _both_regions(settings: Settings, stored: dict[str, RegionRead]) -> dict[str, Any]:
    return {name: _tables(make_cloud(settings, name), stored[name]) for name in stored}


@pytest.mark.parametrize(("action", "target"), CROSSREGION_ACTIONS)
def test_permanent_error_at_each_crossregion_route_action_rolls_back_both_regions(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str], action: str,
    target: str,
) -> None:  # fmt: skip
    settings, stored, _peering = two_regions
    live = own_organisation(live)  # its profile moves only this test's breakout
    r = live.http.post("/api/v1/service_profile",
                       json={"name": "west devices", "breakout_region": {"name": WEST}})
    assert r.status_code == 201, r.text
    before = _both_regions(settings, stored)
    account, cidrs = new_account(), new_cidrs(1)
    throttle.inject_fault(action, *PERMANENT["ec2"], 1, account_id=PROVIDER,
                          match=_aim(stored, settings, target))  # fmt: skip
    try:
        bid = _provision_as(live, account, cidrs)
        data = live.wait_for(bid, lambda d: d["status"]["id"] in (ACTIVE, DEACTIVATED), 60)
        assert data["status"]["id"] == DEACTIVATED, data
        assert PERMANENT["ec2"][0] in data["status_reason"], data["status_reason"]
        assert throttle.pending_faults() == {}
        assert _both_regions(settings, stored) == before
        assert _left(live.stack, account, bid, cidrs) == NOTHING
        assert data["aws_resources"].get("crossregion_routes") in (None, [])
    finally:
        live.http.delete(f"/api/v1/service_profile/{r.json()['id']}")


@pytest.mark.parametrize(("action", "target"), CROSSREGION_ACTIONS)
def test_permanent_error_at_each_reroute_action_keeps_the_breakout_and_the_next_sweep_routes(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str], action: str,
    target: str,
) -> None:  # fmt: skip
    """The sweep moves the routes of an Active breakout whose devices moved to the peered
    region: refused at one action, the breakout stays Active and warned, the refused route
    not recorded; the next sweep makes them all; its deletion leaves nothing in either
    region."""
    settings, stored, peering_id = two_regions
    # Its own organisation: moving the profile moves only this breakout's routes, so the
    # fault cannot be spent on another module's breakout in the same sweep.
    live = own_organisation(live)
    profile = regional_profile(live, REGION)
    before = _both_regions(settings, stored)
    account, cidrs = new_account(), new_cidrs(1)
    bid = _provision_as(live, account, cidrs)
    live.status(bid, ACTIVE)
    live.stack.sweep()  # anything else pending is moved before the fault is armed
    move_profile(live, profile, WEST)
    throttle.inject_fault(action, *PERMANENT["ec2"], 1, account_id=PROVIDER,
                          match=_aim(stored, settings, target))  # fmt: skip
    live.stack.sweep()
    assert throttle.pending_faults() == {}
    data = live.get(bid)
    assert data["status"]["id"] == ACTIVE
    assert len(data["aws_resources"].get("crossregion_routes") or []) < 3
    events = live.http.get(f"{URL}/{bid}/event").json()
    assert any("could not follow" in e["description"] and e["severity"] == 1
               for e in events), events  # fmt: skip
    live.stack.sweep()  # the fault is spent: the routes are made
    far = _tables(make_cloud(settings, WEST), stored[WEST])
    assert (cidrs[0], (peering_id,)) in far[stored[WEST].core_route_table_id]
    assert (cidrs[0], stored[WEST].tgw_id) in far["vpc"]
    assert len(live.get(bid)["aws_resources"]["crossregion_routes"]) == 3
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    live.status(bid, DEACTIVATED)
    assert _both_regions(settings, stored) == before
    assert _left(live.stack, account, bid, cidrs) == NOTHING
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


#: Each AWS action of removing the routes over the peering (teardown, or the sweep moving
#: them away), in the order they run: the attachment region's peering table, then the device
#: region's core VPC (its main table looked up first) and core table.
CROSSREGION_UNDO_ACTIONS = [("DeleteTransitGatewayRoute", "home peering"),
                            ("DescribeRouteTables", "far vpc"), ("DeleteRoute", "far main"),
                            ("DeleteTransitGatewayRoute", "far core")]  # fmt: skip


def _inject_retryable(kind: str, actions: list[tuple[str, str]], stored: dict[str, RegionRead],
                      settings: Settings) -> None:  # fmt: skip
    """Three retryable errors at each (action, target), aimed as :func:`_aim` does (all aims
    looked up first: a look-up is a call a fault armed before it would strike)."""
    aims = [(action, _aim(stored, settings, target)) for action, target in actions]
    for action, match in aims:
        if kind == "connection-dropped":
            throttle.inject_disconnect(action, 3, account_id=PROVIDER, match=match)
        else:
            code, status = RETRYABLE["ec2"] if kind == "throttled" else ("InternalError", 500)
            throttle.inject_fault(action, code, status, 3, account_id=PROVIDER, match=match)


def _west_devices(live: Live) -> tuple[Live, int]:
    """An organisation of its own whose devices break out in the peered region."""
    live = own_organisation(live)  # its profile moves only this test's breakout
    r = live.http.post("/api/v1/service_profile",
                       json={"name": "west devices", "breakout_region": {"name": WEST}})
    assert r.status_code == 201, r.text
    return live, int(r.json()["id"])


def _routed_over_peering(settings: Settings, stored: dict[str, RegionRead], peering_id: str,
                         cidr: str, attachment: str) -> dict[str, int]:  # fmt: skip
    """How many of each wanted route over the peering exist for ``cidr`` (1 each wanted)."""
    far, home = _tables(make_cloud(settings, WEST), stored[WEST]), _tables(
        make_cloud(settings, REGION), stored[REGION])  # fmt: skip
    return {
        "far core": far[stored[WEST].core_route_table_id].count((cidr, (peering_id,))),
        "far vpc": far["vpc"].count((cidr, stored[WEST].tgw_id)),
        "home peering": home[str(stored[REGION].peering_route_table_id)].count(
            (cidr, (attachment,))),
    }  # fmt: skip


EACH_ONCE = dict.fromkeys(("far core", "far vpc", "home peering"), 1)


def _attachment_of(live: Live, bid: int) -> str:
    return str(live.get(bid)["aws_resources"]["transit_gateway_attachment_id"])


@pytest.mark.parametrize("kind", ["throttled", "server-error", "connection-dropped"])
def test_retryable_errors_at_each_crossregion_route_action_are_absorbed(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str], kind: str
) -> None:
    """Provisioning and deletion of a breakout whose devices break out in the peered region:
    every action of its routes over the peering fails 3 times, the end states are those of a
    run without faults, and no error reaches the user."""
    settings, stored, peering_id = two_regions
    live, profile = _west_devices(live)
    before = _both_regions(settings, stored)
    account, cidrs = new_account(), new_cidrs(1)
    _inject_retryable(kind, CROSSREGION_ACTIONS, stored, settings)
    try:
        bid = _provision_as(live, account, cidrs)
        data = live.wait_for(bid, lambda d: d["status"]["id"] in (ACTIVE, DEACTIVATED), 60)
        assert data["status"]["id"] == ACTIVE, data["status_reason"]
        assert throttle.pending_faults() == {}, "some action was never called"
        assert len(data["aws_resources"]["crossregion_routes"]) == 3
        assert _routed_over_peering(settings, stored, peering_id, cidrs[0],
                                    _attachment_of(live, bid)) == EACH_ONCE  # fmt: skip
        _inject_retryable(kind, CROSSREGION_UNDO_ACTIONS, stored, settings)
        assert live.http.delete(f"{URL}/{bid}").status_code == 200
        data = live.status(bid, DEACTIVATED)
        assert throttle.pending_faults() == {}, "some undo was never called"
        assert data["status_reason"] == "deleted"
        assert _user_errors(data) == []
        assert _both_regions(settings, stored) == before
        assert _left(live.stack, account, bid, cidrs) == NOTHING
    finally:
        live.http.delete(f"/api/v1/service_profile/{profile}")


@pytest.mark.parametrize("kind", ["throttled", "server-error", "connection-dropped"])
def test_retryable_errors_at_each_reroute_action_are_absorbed(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str], kind: str
) -> None:
    """The sweep moves an Active breakout's routes to the peered region and back, every
    action failing 3 times: each move is made by that one sweep, without a warning."""
    settings, stored, peering_id = two_regions
    live = own_organisation(live)  # moving its profile moves only this test's breakout
    profile = regional_profile(live, REGION)
    before = _both_regions(settings, stored)
    account, cidrs = new_account(), new_cidrs(1)
    bid = _provision_as(live, account, cidrs)
    live.status(bid, ACTIVE)
    attachment = _attachment_of(live, bid)
    live.stack.sweep()  # anything else pending is moved before the faults are armed
    local = _both_regions(settings, stored)  # its own routes in its region only
    move_profile(live, profile, WEST)
    _inject_retryable(kind, CROSSREGION_ACTIONS, stored, settings)
    live.stack.sweep()
    assert throttle.pending_faults() == {}, "some action was never called"
    assert len(live.get(bid)["aws_resources"]["crossregion_routes"]) == 3
    assert _routed_over_peering(settings, stored, peering_id, cidrs[0], attachment) == EACH_ONCE
    move_profile(live, profile, REGION)
    _inject_retryable(kind, CROSSREGION_UNDO_ACTIONS, stored, settings)
    live.stack.sweep()
    assert throttle.pending_faults() == {}, "some undo was never called"
    data = live.get(bid)
    assert data["status"]["id"] == ACTIVE
    assert data["aws_resources"].get("crossregion_routes") in (None, [])
    assert _both_regions(settings, stored) == local
    events = live.http.get(f"{URL}/{bid}/event").json()
    assert [e["description"] for e in events if e["severity"] > 0] == []
    moved = [e for e in events if "follow the service profiles" in e["description"]]
    assert len(moved) == 2, events  # one per move: no sweep had to try again
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    live.status(bid, DEACTIVATED)
    assert _both_regions(settings, stored) == before
    assert _left(live.stack, account, bid, cidrs) == NOTHING
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


@pytest.mark.parametrize(("action", "target"), CROSSREGION_UNDO_ACTIONS)
def test_permanent_error_at_each_crossregion_undo_in_teardown_leaves_only_that_route(
    live: Live, two_regions: tuple[Settings, dict[str, RegionRead], str], action: str,
    target: str,
) -> None:  # fmt: skip
    """As the teardown matrix for the other undos: Deactivated with "cleanup incomplete",
    the rest of the teardown done, only the refused route left and the routes over the
    peering still recorded; the next sweep removes it, nothing is left in either region."""
    settings, stored, peering_id = two_regions
    live, profile = _west_devices(live)
    before = _both_regions(settings, stored)
    account, cidrs = new_account(), new_cidrs(1)
    try:
        bid = _provision_as(live, account, cidrs)
        live.status(bid, ACTIVE)
        attachment = _attachment_of(live, bid)
        throttle.inject_fault(action, *PERMANENT["ec2"], 1, account_id=PROVIDER,
                              match=_aim(stored, settings, target))  # fmt: skip
        assert live.http.delete(f"{URL}/{bid}").status_code == 200
        data = live.status(bid, DEACTIVATED)
        assert throttle.pending_faults() == {}
        assert "cleanup incomplete" in data["status_reason"], data["status_reason"]
        assert PERMANENT["ec2"][0] in data["status_reason"]
        assert any(e.get("severity") == 2 for e in data["history"])
        left = {"home peering": 0, "far vpc": 0, "far core": 0,
                {"far main": "far vpc"}.get(target, target): 1}  # fmt: skip
        assert _routed_over_peering(settings, stored, peering_id, cidrs[0], attachment) == left
        # The rest of the teardown ran: nothing else of it in the attachment region.
        kinds = {"routes": 1} if target == "home peering" else {}
        assert _left(live.stack, account, bid, cidrs) == {**NOTHING, **kinds}
        assert _recorded(data) == {"crossregion_routes"}
        assert len(data["aws_resources"]["crossregion_routes"]) == 3
        live.stack.sweep()  # the fault is spent: the sweep retries what the row records
        data = live.get(bid)
        assert _recorded(data) == set()
        assert data["status"]["id"] == DEACTIVATED
        assert "leftover AWS resources removed later" in data["status_reason"]
        assert _both_regions(settings, stored) == before
        assert _left(live.stack, account, bid, cidrs) == NOTHING
    finally:
        live.http.delete(f"/api/v1/service_profile/{profile}")
