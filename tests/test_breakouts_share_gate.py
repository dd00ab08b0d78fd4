"""Share steps wait for a slot on the event loop, not in pool threads (issue 15).

The client-side limiter waits for a RAM token in the step's thread; 1,000 breakouts started
at once held every pool thread asleep in their share steps while accepted attachments waited
for a thread. At most ``tgw.SHARES_IN_FLIGHT`` share steps now hold a thread at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from linkplane.attachments.workflows import tgw
from linkplane.durable.runtime import Runtime
from tests.test_breakouts_support import Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the per-process fixture


class _Concurrency:
    """tgw._share, counting how many run at once for this test's accounts only."""

    def __init__(self, accounts: set[str]) -> None:
        self.accounts, self.now, self.most = accounts, 0, 0
        self._lock = threading.Lock()
        self._original = tgw._share

    def __call__(self, w: Any, plan: Any) -> Any:
        if plan.account_id not in self.accounts:
            return self._original(w, plan)
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.3)  # a share waiting for its RAM token, as under the budget
            return self._original(w, plan)
        finally:
            with self._lock:
                self.now -= 1


def test_no_more_share_steps_run_at_once_than_the_gate_allows(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [new_account() for _ in range(tgw.SHARES_IN_FLIGHT + 6)]
    counting = _Concurrency(set(accounts))
    monkeypatch.setattr(tgw, "_share", counting)
    ids = [stack.create(a, new_cidrs(1))["id"] for a in accounts]
    for bid in ids:
        stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    assert 1 < counting.most <= tgw.SHARES_IN_FLIGHT


def test_a_gate_is_one_per_name_and_event_loop(stack: Stack) -> None:
    rt: Runtime = stack.runtime

    async def two() -> tuple[asyncio.Semaphore, asyncio.Semaphore, asyncio.Semaphore]:
        return rt.gate("test-gate", 2), rt.gate("test-gate", 2), rt.gate("other-gate", 2)

    first, again, other = asyncio.run(two())
    assert first is again and first is not other
    later, _, _ = asyncio.run(two())  # another loop (a relaunch): a semaphore of its own
    assert later is not first
