"""The shared watch: one read per region wakes exactly the breakouts whose customer acted.

Against the embedded cloud over HTTP with the real adapter: shares and attachments are made
by hand (provider port, customers with plain boto3), so what the watcher must find is known
and no workflow races the assertions; the last test runs the real engine with polling so
slow that only the watcher can explain a breakout reaching Active in time.
"""

from __future__ import annotations

import itertools
import time

import pytest

from linkplane.attachments import watcher
from linkplane.attachments.watcher import ACCEPTANCE, ATTACHMENT, Waiter, Watcher
from tests.test_breakouts_support import REGION, Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the per-process fixture

_ids = itertools.count(900_000)


def _share(stack: Stack, account: str) -> Waiter:
    """A share of the TGW for ``account`` and the waiter a breakout would be for it."""
    bid = next(_ids)
    share = stack.provider.ensure_resource_share(
        name=f"watch-{bid}", resource_arn=stack.region.tgw_arn, principal=account,
        client_token=f"watch-{bid}", tags={"test": "watcher"})  # fmt: skip
    return Waiter(bid, 1, REGION, account, ACCEPTANCE, share.arn, stack.region.tgw_id)


def _attaching(waiter: Waiter) -> Waiter:
    return Waiter(waiter.breakout_id, 1, REGION, waiter.account_id, ATTACHMENT,
                  waiter.share_arn, waiter.tgw_id)  # fmt: skip


def test_acted_finds_answered_invitations_and_pending_attachments(stack: Stack) -> None:
    accepts, ignores, rejects, attaches = (new_account() for _ in range(4))
    waiters = {a: _share(stack, a) for a in (accepts, ignores, rejects, attaches)}
    assert watcher.acted(stack.provider, list(waiters.values())) == []
    stack.accept_invitation(accepts)
    stack.reject_invitation(rejects)
    stack.accept_invitation(attaches)
    ready = watcher.acted(stack.provider, list(waiters.values()))
    assert {w.account_id for w in ready} == {accepts, rejects, attaches}
    # Accepted, waiting for an attachment: only the account that attached is ready.
    later = [_attaching(waiters[accepts]), _attaching(waiters[attaches])]
    assert watcher.acted(stack.provider, later) == []
    stack.attach(attaches, new_cidrs(1)[0])
    assert watcher.acted(stack.provider, later) == [later[1]]


def test_watch_once_wakes_each_ready_waiter_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready, idle = _share(stack, new_account()), _share(stack, new_account())
    stack.accept_invitation(ready.account_id)
    monkeypatch.setattr(watcher, "waiting", lambda session: [ready, idle])
    woken: list[Waiter] = []
    failing = {"on": True}

    def wake(waiter: Waiter) -> None:
        if failing["on"]:
            raise RuntimeError("the workflow just finished")
        woken.append(waiter)

    watch = Watcher(interval=1.0, sessions=stack.ctx.sessionmaker,
                    cloud=lambda region: stack.provider, wake=wake)  # fmt: skip
    assert watch.watch_once() == []  # an undelivered wake is not remembered ...
    failing["on"] = False
    assert watch.watch_once() == [ready]  # ... so the next pass delivers it
    assert watch.watch_once() == []  # and a delivered one is not repeated while quiet
    assert woken == [ready]


def test_a_slow_polling_breakout_becomes_active_when_woken(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each breakout's own poll now comes only after 10 minutes: reaching Active within
    # seconds takes the watcher's wakes (acceptance, then attachment).
    rt = stack.runtime
    slow = rt.settings.model_copy(update={"breakout_poll_initial_seconds": 600.0,
                                          "breakout_poll_max_seconds": 600.0})  # fmt: skip
    monkeypatch.setattr(rt, "settings", slow)
    account, cidrs = new_account(), new_cidrs(1)
    bid = stack.create(account, cidrs)["id"]
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    time.sleep(0.5)  # the workflow has polled once (pending) and sleeps its 10 minutes
    stack.accept_invitation(account)
    stack.status(bid, 2, timeout=20)
    stack.attach(account, cidrs[0])
    data = stack.status(bid, 5, timeout=30)
    assert data["aws_resources"]["routes"] == cidrs


def test_the_watch_reads_only_unanswered_invitations(stack: Stack) -> None:
    """Accepted shares stay associated for the breakout's life: a read of every association
    grew with the fleet (10,000 Active breakouts: 10,000 items a pass, for one waiter)."""
    accepted, waiting = new_account(), new_account()
    stack.accept_invitation(_share(stack, accepted).account_id)
    pending = _share(stack, waiting)
    seen: list[str] = []

    def statuses(parsed: dict[str, list[dict[str, str]]], **_: object) -> None:
        seen.extend(a["status"] for a in parsed.get("resourceShareAssociations", []))

    ram = stack.provider.ram
    ram.meta.events.register("after-call.ram.GetResourceShareAssociations", statuses)
    try:
        assert watcher.acted(stack.provider, [pending]) == []
    finally:
        ram.meta.events.unregister("after-call.ram.GetResourceShareAssociations", statuses)
    assert seen and set(seen) == {"ASSOCIATING"}
