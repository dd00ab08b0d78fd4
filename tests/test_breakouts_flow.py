"""Breakout workflows end to end: API -> DBOS workflow -> real adapter -> embedded cloud."""

from __future__ import annotations

from tests.test_breakouts_support import Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the module-scoped fixture


def test_happy_path_to_active_with_routes(stack: Stack) -> None:
    account, cidrs = new_account(), new_cidrs(2)
    created = stack.create(account, cidrs)
    assert created["status"]["id"] == 1
    bid = created["id"]
    data = stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    data = stack.status(bid, 2)
    assert data["accept_attachment_expiry_date"]
    attachment = stack.attach(account)
    stack.client.post(f"/api/v1/cnc/breakout/{bid}/recheck")
    data = stack.status(bid, 5)
    assert data["aws_transit_gateway_attachment_id"] == attachment
    routes = stack.core_routes()
    for cidr in cidrs:
        assert routes[cidr] == (attachment,)
    assert attachment in stack.customers_associations()
    history = [e["detail"].get("to") for e in data["history"]]
    assert [s for s in history if s] == [2, 3, 4, 5]
    assert data["aws_resources"]["routes"] == cidrs


def test_delete_active_leaves_nothing(stack: Stack) -> None:
    account, cidrs = new_account(), new_cidrs(1)
    bid = stack.create(account, cidrs)["id"]
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    share = stack.get(bid)["aws_resources"]["resource_share_arn"]
    stack.accept_invitation(account)
    stack.status(bid, 2)
    attachment = stack.attach(account)
    stack.status(bid, 5)
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    data = stack.status(bid, 7)
    assert data["termination_date"]
    assert cidrs[0] not in stack.core_routes()
    assert attachment not in stack.customers_associations()
    assert share not in stack.shares()
    state = stack.provider.describe_attachment(attachment)
    assert state is None or state.state in ("deleted", "deleting")
    assert data["aws_resources"] == {"transit_gateway_id": stack.region.tgw_id, "routes": []}


def test_customer_rejects_invitation(stack: Stack) -> None:
    account = new_account()
    bid = stack.create(account, new_cidrs())["id"]
    data = stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    share = data["aws_resources"]["resource_share_arn"]
    stack.reject_invitation(account)
    stack.client.post(f"/api/v1/cnc/breakout/{bid}/recheck")
    data = stack.status(bid, 7)
    assert "rejected" in data["status_reason"]
    assert share not in stack.shares()
    statuses = [e["detail"].get("to") for e in data["history"] if e["detail"].get("to")]
    assert statuses == [8, 7]


def test_delete_while_waiting_for_acceptance(stack: Stack) -> None:
    account = new_account()
    bid = stack.create(account, new_cidrs())["id"]
    data = stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    share = data["aws_resources"]["resource_share_arn"]
    assert stack.client.delete(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    assert stack.get(bid)["status"]["id"] in (6, 7)
    data = stack.status(bid, 7)
    assert share not in stack.shares()
    assert data["status_reason"] == "deletion requested"


def test_expiry_then_patch_retry(stack: Stack) -> None:
    rt = stack.runtime
    short = stack.settings.model_copy(update={"invitation_ttl_seconds": 1})
    stack.client.app.state.settings = short  # type: ignore[attr-defined]
    try:
        account = new_account()
        bid = stack.create(account, new_cidrs())["id"]
    finally:
        stack.client.app.state.settings = stack.settings  # type: ignore[attr-defined]
    data = stack.wait_for(bid, lambda d: d["expired"], timeout=30)
    assert data["status"]["id"] == 2
    assert data["aws_resources"].get("resource_share_arn") is None
    assert "expired" in data["status_reason"]
    assert rt.settings is not None
    assert stack.client.patch(f"/api/v1/cnc/breakout/{bid}").status_code == 200
    data = stack.get(bid)
    assert (data["revision"], data["status"]["id"], data["expired"]) == (2, 1, False)
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    stack.attach(account)
    data = stack.status(bid, 5)
    assert data["revision"] == 2


def test_customer_detaches_after_active(stack: Stack) -> None:
    account, cidrs = new_account(), new_cidrs()
    bid = stack.create(account, cidrs)["id"]
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    stack.status(bid, 2)
    attachment = stack.attach(account)
    stack.status(bid, 5)
    stack.customer(account, "ec2").delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment
    )
    stack.sweep()
    data = stack.status(bid, 7)
    assert "customer deleted" in data["status_reason"]
    assert cidrs[0] not in stack.core_routes()


def test_unexpected_attachment_is_rejected(stack: Stack) -> None:
    account = new_account()
    bid = stack.create(account, new_cidrs())["id"]
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    stack.status(bid, 2)
    first = stack.attach(account)
    stack.status(bid, 5)
    second = stack.attach(account, cidr="10.251.0.0/24")
    stack.sweep()
    state = stack.provider.describe_attachment(second)
    assert state is not None and state.state in ("rejected", "rejecting")
    events = stack.client.get(f"/api/v1/cnc/breakout/{bid}/event").json()
    assert any(second in e["description"] for e in events)
    assert stack.provider.describe_attachment(first).state == "available"  # type: ignore[union-attr]
