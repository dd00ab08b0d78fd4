"""Breakouts end to end over HTTP (uvicorn, real tokens) against the embedded cloud.

Each scenario acts as the customer with plain boto3 and ends with an inventory of the
provider and customer accounts: nothing the test created is left (see Ledger).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.test_breakouts_e2e_support import URL, Ledger, Live, assert_nothing_left
from tests.test_breakouts_e2e_support import live as live  # the fixture
from tests.test_breakouts_support import Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the fixture


def _start(live: Live, accounts: int = 1, cidrs: int = 1) -> tuple[Ledger, list[str], list[str]]:
    ledger = Ledger()
    acc = [new_account() for _ in range(accounts)]
    nets = new_cidrs(cidrs)
    ledger.accounts.update(acc)
    ledger.cidrs.update(nets)
    return ledger, acc, nets


def _to_active(live: Live, ledger: Ledger, account: str, cidr: str, bid: int) -> str:
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    attachment = live.stack.attach(account, cidr=cidr)
    ledger.attachments.add(attachment)
    live.recheck(bid)
    live.status(bid, 5)
    return attachment


def _delete(live: Live, bid: int) -> dict[str, object]:
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    return live.status(bid, 7)


def test_happy_path_active_then_deleted(live: Live) -> None:
    ledger, (account,), cidrs = _start(live, cidrs=2)
    before = ledger.snapshot(live.stack)
    bid = live.create(account, cidrs)["id"]
    attachment = _to_active(live, ledger, account, cidrs[0], bid)
    active = ledger.snapshot(live.stack).beyond(before)
    assert {a.id for a in active.attachments} == {attachment}
    assert {(a.route_table_id, a.attachment_id) for a in active.associations} == {
        (live.stack.region.customers_route_table_id, attachment)
    }
    assert {(r.destination, r.attachment_ids) for r in active.routes} == {
        (c, (attachment,)) for c in cidrs
    }
    assert len(active.shares) == 1 and {p.principal for p in active.principal_associations} == {
        account
    }
    data = _delete(live, bid)
    assert data["status_reason"]
    assert_nothing_left(live, ledger, before)


def test_customer_rejects(live: Live) -> None:
    ledger, (account,), cidrs = _start(live)
    before = ledger.snapshot(live.stack)
    bid = live.create(account, cidrs)["id"]
    live.shared(bid)
    live.stack.reject_invitation(account)
    live.recheck(bid)
    data = live.status(bid, 7)
    assert "rejected" in data["status_reason"]
    assert_nothing_left(live, ledger, before)


def test_invitation_expires(live: Live) -> None:
    ledger, (account,), cidrs = _start(live)
    before = ledger.snapshot(live.stack)
    with live.settings(invitation_ttl_seconds=1):
        bid = live.create(account, cidrs)["id"]
    data = live.wait_for(bid, lambda d: d["expired"])
    assert data["status"]["id"] == 2 and "invitation expired" in data["status_reason"]
    assert data["aws_resources"].get("resource_share_arn") is None
    assert_nothing_left(live, ledger, before)


def test_customer_never_attaches(live: Live) -> None:
    ledger, (account,), cidrs = _start(live)
    before = ledger.snapshot(live.stack)
    with live.settings(attachment_wait_seconds=1):
        bid = live.create(account, cidrs)["id"]
        live.shared(bid)
        live.stack.accept_invitation(account)
        live.recheck(bid)
        data = live.wait_for(bid, lambda d: d["expired"])
    assert data["status"]["id"] == 2
    assert "no attachment before the deadline" in data["status_reason"]
    statuses = [e["detail"]["to"] for e in data["history"] if "to" in e["detail"]]
    assert statuses == [2, 8, 2]
    assert_nothing_left(live, ledger, before)


def test_attachment_from_a_foreign_account(live: Live) -> None:
    """Not shared: AWS refuses. Shared for its own breakout: the sweep rejects the extra
    attachment and records it there; the waiting breakout is unaffected and goes Active."""
    ledger, (account, foreign), cidrs = _start(live, accounts=2, cidrs=2)
    before = ledger.snapshot(live.stack)
    bid = live.create(account, [cidrs[0]])["id"]
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    with pytest.raises(ClientError):  # the TGW is not shared with this account
        live.stack.attach(foreign, cidr="10.240.0.0/24")
    other = live.create(foreign, [cidrs[1]])["id"]
    _to_active(live, ledger, foreign, cidrs[1], other)
    intruder = live.stack.attach(foreign, cidr="10.241.0.0/24")
    ledger.attachments.add(intruder)
    live.stack.sweep()
    state = live.stack.provider.describe_attachment(intruder)
    assert state is not None and state.state in ("rejected", "rejecting")
    events = live.http.get(f"{URL}/{other}/event").json()
    assert any(intruder in e["description"] and e["severity"] >= 1 for e in events)
    assert live.get(bid)["status"]["id"] == 2  # still waiting for *its* customer
    ledger.attachments.add(live.stack.attach(account, cidr=cidrs[0]))
    live.recheck(bid)
    live.status(bid, 5)
    _delete(live, bid)
    _delete(live, other)
    assert_nothing_left(live, ledger, before)


def test_customer_deletes_its_attachment_while_active(live: Live) -> None:
    ledger, (account,), cidrs = _start(live)
    before = ledger.snapshot(live.stack)
    bid = live.create(account, cidrs)["id"]
    attachment = _to_active(live, ledger, account, cidrs[0], bid)
    live.stack.customer(account, "ec2").delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment
    )
    live.stack.sweep()
    data = live.status(bid, 7)
    assert "customer deleted its attachment" in data["status_reason"]
    assert_nothing_left(live, ledger, before)


def test_a_transit_gateway_gone_is_not_blamed_on_the_customer(live: Live) -> None:
    """Issue 13 item 7: a reset embedded cloud ended Active breakouts with "the customer
    deleted its attachment". Here the breakout's row names a TGW that does not exist (as
    after a reset: the region was bootstrapped again, the breakout still names the old one)
    and its attachment is gone: the sweep says whose doing it was not."""
    from sqlalchemy import update

    from linkplane.attachments.models import Breakout
    from linkplane.db import transaction

    ledger, (account,), cidrs = _start(live)
    before = ledger.snapshot(live.stack)
    bid = live.create(account, cidrs)["id"]
    attachment = _to_active(live, ledger, account, cidrs[0], bid)
    with transaction(live.stack.ctx.sessionmaker) as session:
        session.execute(update(Breakout).where(Breakout.id == bid).values(tgw_id="tgw-0ld0ld0ld"))
    live.stack.customer(account, "ec2").delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment
    )
    live.stack.sweep()
    reason = live.status(bid, 7)["status_reason"]
    assert "transit gateway no longer exists" in reason and "not the customer's doing" in reason
    assert "customer deleted" not in reason
    assert_nothing_left(live, ledger, before)


def test_delete_while_waiting_for_the_attachment(live: Live) -> None:
    ledger, (account,), cidrs = _start(live)
    before = ledger.snapshot(live.stack)
    bid = live.create(account, cidrs)["id"]
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    data = _delete(live, bid)
    assert data["status_reason"]
    assert live.http.delete(f"{URL}/{bid}").status_code == 409  # final: nothing to delete
    assert_nothing_left(live, ledger, before)


def test_retry_after_expiry(live: Live) -> None:
    ledger, (account,), cidrs = _start(live)
    before = ledger.snapshot(live.stack)
    with live.settings(invitation_ttl_seconds=1):
        bid = live.create(account, cidrs)["id"]
    live.wait_for(bid, lambda d: d["expired"])
    assert_nothing_left(live, ledger, before)
    assert live.http.patch(f"{URL}/{bid}").status_code == 200
    data = live.get(bid)
    assert (data["revision"], data["status"]["id"], data["expired"]) == (2, 1, False)
    _to_active(live, ledger, account, cidrs[0], bid)
    assert live.get(bid)["revision"] == 2
    _delete(live, bid)
    assert_nothing_left(live, ledger, before)


def test_real_tokens_guard_the_routes(live: Live, stack: Stack) -> None:
    """No token, a forged token: 401; the organisation's token sees only its breakouts."""
    import httpx

    assert httpx.get(f"{live.url}{URL}").status_code == 401
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}
    assert httpx.get(f"{live.url}{URL}", headers=forged).status_code == 401
    mine = {b["id"] for b in live.http.get(URL, params={"per_page": 1000}).json()}
    assert mine  # the scenarios above created some
    other_orgs = stack.client.get(URL, params={"per_page": 1000}).json()
    assert not mine & {b["id"] for b in other_orgs}


def test_overlap_with_another_tenant_reveals_neither_id_nor_range(live: Live, stack: Stack) -> None:
    """The TGW is shared, so CIDRs clash across organisations; the 422 must not tell one
    tenant which breakout (id) or which exact range another tenant has."""
    taken = new_cidrs()[0]
    theirs = stack.create(new_account(), [taken])["id"]  # another organisation (stack's)
    narrower = taken.replace("/24", "/25")
    body = {"name": "x", "vpc_cidr": [narrower], "region": stack.region.name,
            "aws_account_id": new_account()}  # fmt: skip
    resp = live.http.post(f"{URL}/tgw", json=body)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "vpc_cidr[0]"
    message = resp.json()["message"]
    assert "another organisation" in message
    assert str(theirs) not in message.replace(narrower, "") and taken not in message
    assert stack.client.delete(f"{URL}/{theirs}").status_code == 200
